// virtio_mmio::Transport: the virtio-mmio (version 2, "modern") register state machine of
// one device, per the virtio 1.1 spec, section 4.2.2.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "vmm/devices/bus.hpp"
#include "vmm/snapshot/device_state.hpp"
#include "vmm/virtio_mmio/backend.hpp"

namespace runvm::vmm::virtio_mmio {

namespace reg {
inline constexpr uint64_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008;
inline constexpr uint64_t kVendorId = 0x00c, kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014;
inline constexpr uint64_t kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024;
inline constexpr uint64_t kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038;
inline constexpr uint64_t kQueueReady = 0x044, kQueueNotify = 0x050;
inline constexpr uint64_t kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070;
inline constexpr uint64_t kQueueDescLow = 0x080, kQueueDescHigh = 0x084;
inline constexpr uint64_t kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094;
inline constexpr uint64_t kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4;
inline constexpr uint64_t kShmSel = 0x0ac, kShmLenLow = 0x0b0, kShmLenHigh = 0x0b4;
inline constexpr uint64_t kShmBaseLow = 0x0b8, kShmBaseHigh = 0x0bc;
inline constexpr uint64_t kConfigGeneration = 0x0fc, kConfig = 0x100;
} // namespace reg

inline constexpr uint32_t kMagic = 0x74726976;       // "virt"
inline constexpr uint32_t kVendorRunvm = 0x4d565552; // "RUVM"
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;

namespace status {
inline constexpr uint32_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8;
inline constexpr uint32_t kNeedsReset = 64, kFailed = 128;
} // namespace status

inline constexpr uint32_t kInterruptVring = 1, kInterruptConfig = 2;

class Transport : public BusDevice {
public:
    // config_irq: raised on a configuration change (here: when activation fails).
    Transport(Backend& backend, IrqLine* config_irq);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    uint32_t device_status() const { return status_; }
    bool activated() const { return activated_; }
    const std::vector<QueueConfig>& queues() const { return queues_; }

    snapshot::TransportState save_state() const;
    // Into a transport in front of the same kind of device (id, queue count and sizes are
    // checked: the state comes from a file). It does not activate the backend: a restored
    // activated transport needs a backend that takes its rings over where they were, which
    // the caller arranges (docs/vmm.md, "Snapshots").
    Result<void> restore_state(const snapshot::TransportState& state);

private:
    uint32_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint32_t value);
    void write_status(uint32_t value);
    void reset_state();
    QueueConfig* selected_queue();
    // Queue registers may change only while the queue is not ready and DRIVER_OK unset.
    QueueConfig* writable_queue();

    Backend& backend_;
    IrqLine* config_irq_;
    uint32_t status_ = 0;
    uint32_t device_features_sel_ = 0;
    uint32_t driver_features_sel_ = 0;
    uint64_t driver_features_ = 0;
    uint32_t queue_sel_ = 0;
    uint32_t interrupt_status_ = 0;
    uint32_t config_generation_ = 0;
    bool activated_ = false;
    std::vector<QueueConfig> queues_;
};

} // namespace runvm::vmm::virtio_mmio
