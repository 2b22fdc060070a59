// BlkDevice: a raw image file as a virtio-blk device with one request queue.
#pragma once

#include <memory>

#include "base/unique_fd.hpp"
#include "broker/devices/blk/config.hpp"
#include "broker/devices/blk/queue.hpp"
#include "broker/devices/device.hpp"

namespace runvm::broker::blk {

class BlkDevice : public Device {
public:
    // Opens the image (read-only or read-write) and takes its size as the capacity.
    static Result<std::unique_ptr<BlkDevice>> open(const BlkOptions& options);

    const char* name() const override { return "blk"; }
    uint64_t features() const override { return blk_features(options_); }
    std::vector<uint8_t> config() const override;
    uint16_t queue_count() const override { return 1; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override {}

    const BlkStats& stats() const { return requests_.stats(); }

private:
    BlkDevice(const BlkOptions& options, UniqueFd fd, uint64_t size_bytes, std::string id);

    BlkOptions options_;
    UniqueFd fd_;
    uint64_t size_bytes_;
    BlkRequestQueue requests_;
    DeviceContext* context_ = nullptr;
};

} // namespace runvm::broker::blk
