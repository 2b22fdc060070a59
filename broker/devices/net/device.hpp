// NetDevice: virtio-net over a tap fd: the tap, its event loop registrations and the
// negotiated offloads; the frames themselves are its TxQueue's and RxQueue's (queue.hpp).
#pragma once

#include <memory>

#include "base/event_fd.hpp"
#include "broker/devices/device.hpp"
#include "broker/devices/net/config.hpp"
#include "broker/devices/net/queue.hpp"
#include "broker/devices/net/tap.hpp"

namespace runvm::broker::net {

class NetDevice : public Device {
public:
    static Result<std::unique_ptr<NetDevice>> open(const NetOptions& options);
    // For fuzzers and tests without root: any fd that keeps packet boundaries (one end of a
    // SOCK_SEQPACKET socketpair) stands in for the tap; no offloads.
    static std::unique_ptr<NetDevice> over_fd(const NetOptions& options, UniqueFd fd);
    ~NetDevice() override;

    const char* name() const override { return "net"; }
    uint64_t features() const override { return net_features(options_, offered_); }
    std::vector<uint8_t> config() const override { return net_config_space(options_); }
    uint16_t queue_count() const override { return 2; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override;

    const NetStats& stats() const { return stats_; }
    const std::string& tap_name() const { return tap_.name; }
    // False while a tap_socket= device waits for its tap.
    bool has_tap() const { return static_cast<bool>(tap_.fd); }
    int tap_fd() const { return tap_.fd.get(); }

    static constexpr unsigned FRAMES_PER_WAKE = net::FRAMES_PER_WAKE;

private:
    NetDevice(NetOptions options, Tap tap, UniqueFd tap_socket = {})
        : options_(std::move(options)), tap_(std::move(tap)), offered_(tap_.offloads),
          tap_socket_(std::move(tap_socket)), tx_(tap_, stats_), rx_(tap_, options_, stats_) {}

    void apply_features();
    void watch_tap(bool on);
    void forget_tap();
    Result<void> watch_new_tap();
    void on_tap_offer();
    Result<void> take_offered_tap(std::vector<UniqueFd> fds);
    void on_resume();
    void process_tx();
    void pump_rx();

    NetOptions options_;
    Tap tap_; // no fd until a tap_socket= device is offered one
    // What features() offers: the tap's probe at open, or for a tap that comes later, what
    // a tap made by runvm's plumbing accepts (checksum and TSO).
    TapOffloads offered_;
    UniqueFd tap_socket_;
    EventLoop::Token tap_socket_token_ = 0;
    NetStats stats_;
    TxQueue tx_;
    RxQueue rx_;
    DeviceContext* context_ = nullptr;
    EventLoop* loop_ = nullptr;
    EventFd resume_; // signalled when a batch was cut short, served after other events
    EventLoop::Token tap_token_ = 0;
    EventLoop::Token resume_token_ = 0;
    bool tap_watched_ = false;
    bool tap_failed_ = false;
    uint64_t applied_features_ = ~0ULL;
};

} // namespace runvm::broker::net
