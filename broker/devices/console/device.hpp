// ConsoleDevice: a virtio-console with one port whose output goes to a log file; the
// guest gets no input (its receive buffers stay posted).
#pragma once

#include <memory>

#include "base/capped_log.hpp"
#include "broker/devices/console/config.hpp"
#include "broker/devices/console/queue.hpp"
#include "broker/devices/device.hpp"

namespace runvm::broker::console {

class ConsoleDevice : public Device {
public:
    // Opens (creates) the log for appending, within options.log_max_bytes.
    static Result<std::unique_ptr<ConsoleDevice>> open(const ConsoleOptions& options);

    const char* name() const override { return "console"; }
    uint64_t features() const override { return console_features(); }
    std::vector<uint8_t> config() const override { return console_config_space(); }
    uint16_t queue_count() const override { return 2; }

    Result<void> attach(DeviceContext* context, EventLoop* loop) override;
    void on_kick(uint16_t queue) override;
    void reset() override {}

    const ConsoleOutput& output() const { return output_; }

private:
    explicit ConsoleDevice(CappedLog log) : log_(std::move(log)), output_(&log_) {}

    CappedLog log_;
    ConsoleOutput output_;
    DeviceContext* context_ = nullptr;
};

} // namespace runvm::broker::console
