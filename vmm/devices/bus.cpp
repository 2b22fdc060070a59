// Bus range lookup and dispatch.
#include "vmm/devices/bus.hpp"

#include <cstring>

#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm {

Result<void> Bus::add(uint64_t base, uint64_t len, BusDevice* device) {
    std::lock_guard lock(mutex_);
    auto next = ranges_.lower_bound(base);
    if (next != ranges_.end() && next->first < base + len) {
        return Err(Error::msg("bus range " + hex(base) + "+" + hex(len) + ": overlaps " +
                              hex(next->first)));
    }
    if (next != ranges_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second.len > base) {
            return Err(Error::msg("bus range " + hex(base) + "+" + hex(len) + ": overlaps " +
                                  hex(prev->first)));
        }
    }
    ranges_.emplace(base, Range{len, device});
    return Ok();
}

BusDevice* Bus::find(uint64_t addr, uint64_t size, uint64_t& offset) {
    auto it = ranges_.upper_bound(addr);
    if (it == ranges_.begin()) {
        return nullptr;
    }
    --it;
    offset = addr - it->first;
    if (offset >= it->second.len || size > it->second.len - offset) {
        return nullptr;
    }
    return it->second.device;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) {
    std::lock_guard lock(mutex_);
    uint64_t offset = 0;
    BusDevice* d = find(addr, data.size(), offset);
    if (d == nullptr) {
        std::memset(data.data(), 0xff, data.size());
        return false;
    }
    d->read(offset, data);
    return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) {
    std::lock_guard lock(mutex_);
    uint64_t offset = 0;
    BusDevice* d = find(addr, data.size(), offset);
    if (d == nullptr) {
        return false;
    }
    d->write(offset, data);
    return true;
}

} // namespace runvm::vmm
