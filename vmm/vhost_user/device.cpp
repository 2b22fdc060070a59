// vhost-user device: negotiation at connect, ring programming at DRIVER_OK.
#include "vmm/vhost_user/device.hpp"

#include <cstring>

#include <spdlog/spdlog.h>

namespace runvm::vmm::vhost_user {

Result<DeviceType> device_type(const std::string& name) {
    static const DeviceType types[] = {
        {"net", 1, 2, 2, 12},   {"blk", 2, 1, 1, 60}, {"console", 3, 2, 2, 12},
        {"vsock", 19, 3, 2, 8}, {"fs", 26, 2, 2, 40},
    };
    for (const auto& t : types) {
        if (name == t.name) {
            return t;
        }
    }
    return Err(Error::msg("vhost-user device type '" + name + "': unknown"));
}

Result<std::unique_ptr<Device>> Device::connect(const std::string& type, const std::string& socket,
                                                const GuestMemory& mem, int timeout_ms) {
    RUNVM_ASSIGN_OR_RETURN(const DeviceType t, device_type(type));
    RUNVM_ASSIGN_OR_RETURN(auto frontend, Frontend::connect(socket, timeout_ms));
    std::unique_ptr<Device> d(new Device(t, std::move(frontend), mem));
    RUNVM_TRY(d->negotiate());
    return d;
}

Result<void> Device::negotiate() {
    RUNVM_TRY(frontend_.set_owner());
    RUNVM_ASSIGN_OR_RETURN(backend_features_, frontend_.get_features());
    if ((backend_features_ & (1ull << 32)) == 0) {
        return Err(Error::msg("vhost-user " + frontend_.path() +
                              ": backend does not offer VIRTIO_F_VERSION_1"));
    }
    if ((backend_features_ & F_PROTOCOL_FEATURES) != 0) {
        RUNVM_ASSIGN_OR_RETURN(const uint64_t offered, frontend_.get_protocol_features());
        protocol_features_ = offered & (PROTOCOL_F_REPLY_ACK | PROTOCOL_F_CONFIG | PROTOCOL_F_MQ);
        RUNVM_TRY(frontend_.set_protocol_features(protocol_features_));
    }
    if ((protocol_features_ & PROTOCOL_F_MQ) != 0) {
        RUNVM_ASSIGN_OR_RETURN(const uint64_t n, frontend_.get_queue_num());
        if (n < type_.backend_queues) {
            return Err(Error::msg("vhost-user " + frontend_.path() + ": backend has " +
                                  std::to_string(n) + " queues, " + type_.name + " needs " +
                                  std::to_string(type_.backend_queues)));
        }
    }
    for (uint16_t i = 0; i < type_.backend_queues; ++i) {
        RUNVM_ASSIGN_OR_RETURN(auto kick, EventFd::create());
        kicks_.push_back(std::move(kick));
    }
    RUNVM_ASSIGN_OR_RETURN(call_, EventFd::create());
    return Ok();
}

uint64_t Device::device_features() const {
    return backend_features_ & ~F_PROTOCOL_FEATURES;
}

void Device::read_config(uint64_t offset, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    if ((protocol_features_ & PROTOCOL_F_CONFIG) == 0 || offset >= type_.config_size ||
        data.size() > type_.config_size - offset) {
        return;
    }
    auto config = frontend_.get_config(0, type_.config_size);
    if (!config.ok()) {
        spdlog::warn("{}", config.error().str());
        return;
    }
    std::memcpy(data.data(), config->data() + offset, data.size());
}

void Device::write_config(uint64_t offset, std::span<const uint8_t> data) {
    if ((protocol_features_ & PROTOCOL_F_CONFIG) == 0 || offset >= type_.config_size ||
        data.size() > type_.config_size - offset) {
        return;
    }
    auto r = frontend_.set_config(static_cast<uint32_t>(offset),
                                  std::vector<uint8_t>(data.begin(), data.end()));
    if (!r.ok()) {
        spdlog::warn("{}", r.error().str());
    }
}

Result<void> Device::program_queue(uint16_t index, const virtio_mmio::QueueConfig& q,
                                   uint16_t next_avail) {
    // The rings' extents per virtio 1.1 2.6 (split virtqueues), each checked against RAM.
    const uint64_t desc_len = 16ull * q.size;
    const uint64_t avail_len = 6 + 2ull * q.size;
    const uint64_t used_len = 6 + 8ull * q.size;
    uint8_t* desc = mem_.host_range(q.desc, desc_len);
    uint8_t* avail = mem_.host_range(q.driver, avail_len);
    uint8_t* used = mem_.host_range(q.device, used_len);
    if (desc == nullptr || avail == nullptr || used == nullptr) {
        return Err(Error::msg("virtqueue " + std::to_string(index) + ": rings at " + hex(q.desc) +
                              "/" + hex(q.driver) + "/" + hex(q.device) + " outside guest RAM"));
    }
    RUNVM_TRY(frontend_.set_vring_num(index, q.size));
    RUNVM_TRY(frontend_.set_vring_base(index, next_avail));
    RUNVM_TRY(frontend_.set_vring_addr(index, reinterpret_cast<uint64_t>(desc),
                                       reinterpret_cast<uint64_t>(used),
                                       reinterpret_cast<uint64_t>(avail)));
    // The call fd before the kick fd, which starts the ring: a restored ring may have
    // requests waiting, and their completions must reach the guest.
    RUNVM_TRY(frontend_.set_vring_call(index, call_.get()));
    RUNVM_TRY(frontend_.set_vring_kick(index, kicks_[index].get()));
    if ((backend_features_ & F_PROTOCOL_FEATURES) != 0) {
        RUNVM_TRY(frontend_.set_vring_enable(index, true));
    }
    return Ok();
}

Result<void> Device::program_queues(const std::vector<uint16_t>& next_avail) {
    for (uint16_t i = 0; i < type_.backend_queues && i < queues_.size(); ++i) {
        if (queues_[i].ready) {
            RUNVM_TRY(program_queue(i, queues_[i], i < next_avail.size() ? next_avail[i] : 0));
        }
    }
    return Ok();
}

Result<void> Device::activate(uint64_t features,
                              const std::vector<virtio_mmio::QueueConfig>& queues) {
    return activate_at(features, queues, {});
}

Result<void> Device::activate_at(uint64_t features,
                                 const std::vector<virtio_mmio::QueueConfig>& queues,
                                 const std::vector<uint16_t>& next_avail) {
    RUNVM_TRY(frontend_.set_features(features | (backend_features_ & F_PROTOCOL_FEATURES)));
    RUNVM_TRY(frontend_.set_mem_table(mem_));
    queues_ = queues;
    RUNVM_TRY(program_queues(next_avail));
    active_ = true;
    return Ok();
}

Result<std::vector<uint16_t>> Device::stop_rings() {
    if (!active_) {
        return std::vector<uint16_t>();
    }
    std::vector<uint16_t> next_avail(queues_.size(), 0);
    for (uint16_t i = 0; i < type_.backend_queues && i < queues_.size(); ++i) {
        if (!queues_[i].ready) {
            continue;
        }
        // The answer comes after the backend's device thread has finished what it took:
        // every request before the index is on the used ring, none after it was touched.
        RUNVM_ASSIGN_OR_RETURN(const uint32_t base, frontend_.get_vring_base(i));
        if (base > 0xffff) {
            return Err(Error::msg("vhost-user " + frontend_.path() + ": ring " + std::to_string(i) +
                                  " stopped at " + std::to_string(base)));
        }
        next_avail[i] = static_cast<uint16_t>(base);
    }
    return next_avail;
}

Result<void> Device::resume_rings(const std::vector<uint16_t>& next_avail) {
    if (!active_) {
        return Ok();
    }
    // The memory table and features stand: only the rings start again.
    return program_queues(next_avail);
}

Result<bool> Device::interrupt_if_used() {
    if (!active_) {
        return false;
    }
    // The guest's own position on the used ring is private to its driver, and the old VM's
    // last interrupt may have been in flight (the broker signals the call eventfd, KVM
    // injects it from a work queue) when the chips were saved. A used index of 0 means the
    // device never completed a buffer, so there is nothing to miss; otherwise one interrupt
    // is sent: a spurious one costs the driver one pass over its rings that finds nothing
    // (Linux's vring_interrupt answers IRQ_NONE), a missing one leaves a completed request
    // unseen until the next completion, for a blk request the guest waits on: forever.
    for (uint16_t i = 0; i < type_.backend_queues && i < queues_.size(); ++i) {
        if (!queues_[i].ready) {
            continue;
        }
        const uint8_t* used = mem_.host_range(queues_[i].device, 4);
        if (used == nullptr) {
            return Err(Error::msg("virtqueue " + std::to_string(i) + ": used ring at " +
                                  hex(queues_[i].device) + " outside guest RAM"));
        }
        uint16_t used_idx;
        std::memcpy(&used_idx, used + 2, sizeof used_idx);
        if (used_idx != 0) {
            RUNVM_TRY(call_.signal());
            return true;
        }
    }
    return false;
}

void Device::reset() {
    if (!active_) {
        return;
    }
    // GET_VRING_BASE stops a ring in the backend (vhost-user.rst, "Starting and stopping").
    for (uint16_t i = 0; i < type_.backend_queues; ++i) {
        if (auto r = frontend_.get_vring_base(i); !r.ok()) {
            spdlog::warn("{}", r.error().str());
        }
    }
    active_ = false;
}

void Device::notify(uint16_t queue) {
    if (queue < kicks_.size()) {
        (void)kicks_[queue].signal();
    }
}

} // namespace runvm::vmm::vhost_user
