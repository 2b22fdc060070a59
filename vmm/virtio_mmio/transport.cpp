// virtio-mmio register reads and writes; everything the guest writes is hostile.
#include "vmm/virtio_mmio/transport.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace runvm::vmm::virtio_mmio {

namespace {

void set_low(uint64_t& v, uint32_t low) {
    v = (v & 0xffffffff00000000ull) | low;
}
void set_high(uint64_t& v, uint32_t high) {
    v = (v & 0xffffffffull) | (static_cast<uint64_t>(high) << 32);
}

} // namespace

Transport::Transport(Backend& backend, IrqLine* config_irq)
    : backend_(backend), config_irq_(config_irq) {
    reset_state();
}

void Transport::reset_state() {
    status_ = 0;
    device_features_sel_ = 0;
    driver_features_sel_ = 0;
    driver_features_ = 0;
    queue_sel_ = 0;
    interrupt_status_ = 0;
    activated_ = false;
    queues_.assign(backend_.num_queues(), QueueConfig{});
    for (auto& q : queues_) {
        q.max_size = backend_.queue_max_size();
    }
}

snapshot::TransportState Transport::save_state() const {
    snapshot::TransportState s{.device_id = backend_.device_id(),
                               .status = status_,
                               .device_features_sel = device_features_sel_,
                               .driver_features_sel = driver_features_sel_,
                               .driver_features = driver_features_,
                               .queue_sel = queue_sel_,
                               .interrupt_status = interrupt_status_,
                               .config_generation = config_generation_,
                               .activated = activated_,
                               .queues = {}};
    for (const QueueConfig& q : queues_) {
        s.queues.push_back({.max_size = q.max_size,
                            .size = q.size,
                            .ready = q.ready,
                            .desc = q.desc,
                            .driver = q.driver,
                            .device = q.device});
    }
    return s;
}

Result<void> Transport::restore_state(const snapshot::TransportState& s) {
    const auto refuse = [&](const std::string& why) {
        return Err(Error::with_errno(EINVAL, "virtio-mmio device " +
                                                 std::to_string(backend_.device_id()) +
                                                 ": snapshot state: " + why));
    };
    if (s.device_id != backend_.device_id()) {
        return refuse("saved in front of device id " + std::to_string(s.device_id));
    }
    if (s.queues.size() != backend_.num_queues()) {
        return refuse(std::to_string(s.queues.size()) + " queues (the device has " +
                      std::to_string(backend_.num_queues()) + ")");
    }
    if ((s.driver_features & ~(backend_.device_features() | kFeatureVersion1)) != 0) {
        return refuse("driver features the device does not offer");
    }
    if (s.activated && (s.status & status::kDriverOk) == 0) {
        return refuse("activated without DRIVER_OK");
    }
    for (size_t i = 0; i < s.queues.size(); ++i) {
        const snapshot::QueueState& q = s.queues[i];
        const bool size_ok = q.size == 0 || (q.size <= q.max_size && (q.size & (q.size - 1)) == 0);
        if (q.max_size != backend_.queue_max_size() || !size_ok || (q.ready && q.size == 0)) {
            return refuse("queue " + std::to_string(i) + ": size " + std::to_string(q.size) +
                          " of at most " + std::to_string(q.max_size));
        }
    }
    status_ = s.status;
    device_features_sel_ = s.device_features_sel;
    driver_features_sel_ = s.driver_features_sel;
    driver_features_ = s.driver_features;
    queue_sel_ = s.queue_sel;
    interrupt_status_ = s.interrupt_status;
    config_generation_ = s.config_generation;
    activated_ = s.activated;
    for (size_t i = 0; i < s.queues.size(); ++i) {
        const snapshot::QueueState& q = s.queues[i];
        queues_[i] = {.max_size = q.max_size,
                      .size = q.size,
                      .ready = q.ready,
                      .desc = q.desc,
                      .driver = q.driver,
                      .device = q.device};
    }
    return Ok();
}

QueueConfig* Transport::selected_queue() {
    return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

QueueConfig* Transport::writable_queue() {
    QueueConfig* q = selected_queue();
    if (q == nullptr || q->ready || (status_ & status::kDriverOk) != 0) {
        return nullptr;
    }
    return q;
}

void Transport::read(uint64_t offset, std::span<uint8_t> data) {
    if (offset >= reg::kConfig) {
        backend_.read_config(offset - reg::kConfig, data);
        return;
    }
    std::memset(data.data(), 0, data.size());
    // Registers below the config space are 32 bits wide and 32-bit aligned.
    if (data.size() != 4 || offset % 4 != 0) {
        return;
    }
    const uint32_t v = read_reg(offset);
    std::memcpy(data.data(), &v, 4);
}

void Transport::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset >= reg::kConfig) {
        backend_.write_config(offset - reg::kConfig, data);
        return;
    }
    if (data.size() != 4 || offset % 4 != 0) {
        return;
    }
    uint32_t v;
    std::memcpy(&v, data.data(), 4);
    write_reg(offset, v);
}

uint32_t Transport::read_reg(uint64_t offset) {
    const QueueConfig* q = selected_queue();
    switch (offset) {
    case reg::kMagicValue:
        return kMagic;
    case reg::kVersion:
        return 2;
    case reg::kDeviceId:
        return backend_.device_id();
    case reg::kVendorId:
        return kVendorRunvm;
    case reg::kDeviceFeatures: {
        const uint64_t features = backend_.device_features() | kFeatureVersion1;
        return device_features_sel_ == 0   ? static_cast<uint32_t>(features)
               : device_features_sel_ == 1 ? static_cast<uint32_t>(features >> 32)
                                           : 0;
    }
    case reg::kQueueNumMax:
        return q != nullptr ? q->max_size : 0;
    case reg::kQueueReady:
        return q != nullptr && q->ready ? 1 : 0;
    case reg::kInterruptStatus:
        // With irqfd the line fires without passing here; the driver must still see
        // "used buffer" or it ignores the interrupt. A spurious check is harmless.
        if (activated_ && backend_.interrupts_bypass_transport()) {
            return interrupt_status_ | kInterruptVring;
        }
        return interrupt_status_;
    case reg::kStatus:
        return status_;
    case reg::kShmLenLow:
    case reg::kShmLenHigh:
        return 0xffffffff; // no shared memory regions
    case reg::kConfigGeneration:
        return config_generation_;
    default:
        return 0;
    }
}

void Transport::write_reg(uint64_t offset, uint32_t value) {
    switch (offset) {
    case reg::kDeviceFeaturesSel:
        device_features_sel_ = value;
        return;
    case reg::kDriverFeaturesSel:
        driver_features_sel_ = value;
        return;
    case reg::kDriverFeatures:
        // Only before FEATURES_OK; the driver may not take what the device did not offer.
        if ((status_ & status::kFeaturesOk) != 0 || driver_features_sel_ > 1) {
            return;
        }
        if (driver_features_sel_ == 0) {
            set_low(driver_features_, value);
        } else {
            set_high(driver_features_, value);
        }
        driver_features_ &= backend_.device_features() | kFeatureVersion1;
        return;
    case reg::kQueueSel:
        queue_sel_ = value;
        return;
    case reg::kQueueNum:
        if (QueueConfig* q = writable_queue()) {
            // A queue size is a power of 2 no larger than the maximum (split rings).
            if (value != 0 && value <= q->max_size && (value & (value - 1)) == 0) {
                q->size = static_cast<uint16_t>(value);
            }
        }
        return;
    case reg::kQueueReady:
        if (QueueConfig* q = selected_queue(); q != nullptr && (status_ & status::kDriverOk) == 0) {
            q->ready = value == 1 && q->size != 0;
        }
        return;
    case reg::kQueueDescLow:
    case reg::kQueueDescHigh:
    case reg::kQueueDriverLow:
    case reg::kQueueDriverHigh:
    case reg::kQueueDeviceLow:
    case reg::kQueueDeviceHigh:
        if (QueueConfig* q = writable_queue()) {
            uint64_t& field = offset < reg::kQueueDriverLow   ? q->desc
                              : offset < reg::kQueueDeviceLow ? q->driver
                                                              : q->device;
            if (offset % 8 == 0) {
                set_low(field, value);
            } else {
                set_high(field, value);
            }
        }
        return;
    case reg::kQueueNotify:
        if (activated_ && value < queues_.size()) {
            backend_.notify(static_cast<uint16_t>(value));
        }
        return;
    case reg::kInterruptAck:
        interrupt_status_ &= ~value;
        return;
    case reg::kStatus:
        write_status(value);
        return;
    default:
        return;
    }
}

void Transport::write_status(uint32_t value) {
    if (value == 0) {
        if (activated_) {
            backend_.reset();
        }
        reset_state();
        return;
    }
    // The driver only adds bits (virtio 1.1, 3.1.1); anything else is ignored.
    if ((value & status_) != status_) {
        return;
    }
    const uint32_t added = value & ~status_;
    if ((added & status::kFeaturesOk) != 0 && (driver_features_ & kFeatureVersion1) == 0) {
        // Legacy drivers are not supported: FEATURES_OK does not stick.
        status_ = value & ~status::kFeaturesOk;
        return;
    }
    if ((added & status::kDriverOk) != 0) {
        if ((value & status::kFeaturesOk) == 0) {
            return;
        }
        status_ = value;
        if (auto r = backend_.activate(driver_features_, queues_); !r.ok()) {
            spdlog::error("virtio-mmio device {}: activate: {}", backend_.device_id(),
                          r.error().str());
            status_ |= status::kNeedsReset;
            interrupt_status_ |= kInterruptConfig;
            if (config_irq_ != nullptr) {
                config_irq_->trigger();
            }
            return;
        }
        activated_ = true;
        return;
    }
    status_ = value;
}

} // namespace runvm::vmm::virtio_mmio
