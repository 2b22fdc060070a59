// BlkDevice: image open, config space and the request queue's kick handler.
#include "broker/devices/blk/device.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>

namespace runvm::broker::blk {

BlkDevice::BlkDevice(const BlkOptions& options, UniqueFd fd, uint64_t size_bytes, std::string id)
    : options_(options), fd_(std::move(fd)), size_bytes_(size_bytes),
      requests_(fd_.get(), size_bytes, options, std::move(id)) {}

Result<std::unique_ptr<BlkDevice>> BlkDevice::open(const BlkOptions& options) {
    const int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    UniqueFd fd(::open(options.path.c_str(), flags));
    if (!fd) {
        return Err(Error::from_errno("open blk image " + options.path));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) {
        return Err(Error::from_errno("fstat blk image " + options.path));
    }
    if (!S_ISREG(st.st_mode)) {
        return Err(Error::with_errno(EINVAL, "blk image " + options.path + ": not a regular file"));
    }
    // Only whole sectors are visible to the guest.
    const uint64_t size = static_cast<uint64_t>(st.st_size) / SECTOR_SIZE * SECTOR_SIZE;
    std::string id = options.serial;
    if (id.empty()) {
        const auto slash = options.path.find_last_of('/');
        id = slash == std::string::npos ? options.path : options.path.substr(slash + 1);
    }
    id.resize(std::min<size_t>(id.size(), ID_BYTES));
    return std::unique_ptr<BlkDevice>(new BlkDevice(options, std::move(fd), size, id));
}

std::vector<uint8_t> BlkDevice::config() const {
    return blk_config_space(size_bytes_ / SECTOR_SIZE, options_);
}

Result<void> BlkDevice::attach(DeviceContext* context, EventLoop*) {
    context_ = context;
    return Ok();
}

void BlkDevice::on_kick(uint16_t queue) {
    if (queue != 0) {
        return;
    }
    drain_queue(*context_, 0, [this](const DescriptorChain& c) { return requests_.handle(c); });
}

} // namespace runvm::broker::blk
