// FsDevice: a host directory as a virtio-fs device (vhost-user-fs): the high-priority
// queue (FORGET) and one request queue, both served by one FuseServer on the device thread.
#pragma once

#include <memory>

#include "broker/devices/device.hpp"
#include "broker/devices/fs/config.hpp"
#include "broker/devices/fs/queue.hpp"

namespace runvm::broker::fs {

class FsDevice : public Device {
public:
    // Opens the shared directory (it must exist and be a directory).
    static Result<std::unique_ptr<FsDevice>> open(const FsOptions& options);

    const char* name() const override { return "fs"; }
    uint64_t features() const override { return fs_features(); }
    std::vector<uint8_t> config() const override { return fs_config_space(options_); }
    uint16_t queue_count() const override { return 1 + REQUEST_QUEUES; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override { server_->reset(); }

    const FuseServer& server() const { return *server_; }

private:
    FsDevice(const FsOptions& options, std::unique_ptr<FuseServer> server)
        : options_(options), server_(std::move(server)) {}
    FsOptions options_;
    std::unique_ptr<FuseServer> server_;
    DeviceContext* context_ = nullptr;
};

} // namespace runvm::broker::fs
