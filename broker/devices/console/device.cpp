// ConsoleDevice: log open and the transmit queue's kick handler.
#include "broker/devices/console/device.hpp"

namespace runvm::broker::console {

Result<std::unique_ptr<ConsoleDevice>> ConsoleDevice::open(const ConsoleOptions& options) {
    RUNVM_ASSIGN_OR_RETURN(CappedLog log, CappedLog::open(options.log_path, options.log_max_bytes));
    return std::unique_ptr<ConsoleDevice>(new ConsoleDevice(std::move(log)));
}

Result<void> ConsoleDevice::attach(DeviceContext* context, EventLoop*) {
    context_ = context;
    return Ok();
}

void ConsoleDevice::on_kick(uint16_t queue) {
    if (queue == TRANSMITQ) {
        drain_queue(*context_, TRANSMITQ,
                    [this](const DescriptorChain& c) { return output_.handle(c); });
    }
}

} // namespace runvm::broker::console
