// ConsoleDevice: log open and the transmit queue's kick handler.
#include "broker/devices/console/device.hpp"

#include <fcntl.h>

namespace runvm::broker::console {

Result<std::unique_ptr<ConsoleDevice>> ConsoleDevice::open(const ConsoleOptions& options) {
    UniqueFd log(::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!log) {
        return Err(Error::from_errno("open console log " + options.log_path));
    }
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
