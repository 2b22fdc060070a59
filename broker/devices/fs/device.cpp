// FsDevice: option checks and the kick handler of both queues.
#include "broker/devices/fs/device.hpp"

#include <cerrno>

namespace runvm::broker::fs {

Result<std::unique_ptr<FsDevice>> FsDevice::open(const FsOptions& options) {
    if (options.tag.empty() || options.tag.size() > TAG_BYTES) {
        return Err(Error::with_errno(EINVAL, "fs tag '" + options.tag + "': 1 to 36 bytes"));
    }
    RUNVM_ASSIGN_OR_RETURN(auto server, FuseServer::open(options));
    return std::unique_ptr<FsDevice>(new FsDevice(options, std::move(server)));
}

Result<void> FsDevice::attach(DeviceContext* context, EventLoop*) {
    context_ = context;
    return Ok();
}

void FsDevice::on_kick(uint16_t queue) {
    if (queue >= queue_count()) {
        return;
    }
    // FORGETs arrive on the high-priority queue; they share the one server (and thread),
    // so no inode is ever touched from two places.
    drain_queue(*context_, queue, [this](const DescriptorChain& c) { return server_->handle(c); });
}

} // namespace runvm::broker::fs
