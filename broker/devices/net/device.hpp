// NetDevice: virtio-net over a tap fd: guest tx frames are written to the tap straight from
// guest memory, tap frames are read straight into guest rx buffers (merged across several
// buffers with MRG_RXBUF). Each wake-up serves a bounded batch per direction.
#pragma once

#include <memory>
#include <vector>

#include <sys/uio.h>

#include "base/event_fd.hpp"
#include "broker/devices/device.hpp"
#include "broker/devices/net/config.hpp"
#include "broker/devices/net/tap.hpp"

namespace runvm::broker::net {

struct NetStats {
    uint64_t tx_frames = 0;
    uint64_t tx_bytes = 0;
    uint64_t tx_too_short = 0;
    uint64_t tx_too_long = 0;
    uint64_t tx_bad_header = 0;
    uint64_t tx_errors = 0; // the tap refused a frame (link down, out of memory)
    uint64_t rx_frames = 0;
    uint64_t rx_bytes = 0;
    uint64_t rx_dropped = 0;        // did not fit the guest's buffers, or bad buffers
    uint64_t rx_out_of_buffers = 0; // times the tap waited for guest buffers
    uint64_t yields = 0;            // batches cut at FRAMES_PER_WAKE
};

class NetDevice : public Device {
public:
    static Result<std::unique_ptr<NetDevice>> open(const NetOptions& options);
    // For fuzzers and tests without root: any fd that keeps packet boundaries (one end of a
    // SOCK_SEQPACKET socketpair) stands in for the tap; no offloads.
    static std::unique_ptr<NetDevice> over_fd(const NetOptions& options, UniqueFd fd);
    ~NetDevice() override;

    const char* name() const override { return "net"; }
    uint64_t features() const override { return net_features(options_, tap_.offloads); }
    std::vector<uint8_t> config() const override { return net_config_space(options_); }
    uint16_t queue_count() const override { return 2; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override;

    const NetStats& stats() const { return stats_; }
    const std::string& tap_name() const { return tap_.name; }
    int tap_fd() const { return tap_.fd.get(); }

    // Frames per direction per wake-up: a flooding guest or host cannot keep the device
    // thread from its other fds (the vhost-user socket, the other direction).
    static constexpr unsigned FRAMES_PER_WAKE = 64;

private:
    NetDevice(NetOptions options, Tap tap) : options_(std::move(options)), tap_(std::move(tap)) {}

    void apply_features();
    void watch_tap(bool on);
    void forget_tap();
    void on_resume();

    // queue.cpp
    void process_tx();
    bool send_frame(const DescriptorChain& chain);
    void pump_rx();
    // Pops chains until they can hold the largest frame the guest accepts; false when the
    // ring has too few buffers (all put back).
    bool gather_rx_buffers(Virtqueue& q, size_t* popped);
    uint32_t rx_frame_limit() const;

    NetOptions options_;
    Tap tap_;
    DeviceContext* context_ = nullptr;
    EventLoop* loop_ = nullptr;
    EventFd resume_; // signalled when a batch was cut short, served after other events
    EventLoop::Token tap_token_ = 0;
    EventLoop::Token resume_token_ = 0;
    bool tap_watched_ = false;
    bool tap_failed_ = false;
    uint64_t applied_features_ = ~0ULL;
    NetStats stats_;
    // Reused by every frame: the data paths allocate nothing per frame.
    DescriptorChain tx_chain_;
    std::vector<DescriptorChain> rx_chains_;
    std::vector<iovec> iov_;
};

} // namespace runvm::broker::net
