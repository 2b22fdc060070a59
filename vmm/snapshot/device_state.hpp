// The state of what runvm-vmm emulates itself, as a snapshot keeps it: the legacy devices
// and each virtio-mmio transport's registers. Plain values with no KVM or device types in
// them, so the file format (snapshot_file) and its fuzz target need nothing else; each
// device saves and restores its own (Serial8250::save_state and the like).
#pragma once

#include <cstdint>
#include <vector>

namespace runvm::vmm::snapshot {

// Bounds the reader enforces: a longer queue cannot come from these devices.
inline constexpr uint32_t kMaxSerialRxBytes = 4096;
inline constexpr uint32_t kMaxI8042OutputBytes = 16;
inline constexpr uint32_t kMaxTransports = 64;
inline constexpr uint32_t kMaxTransportQueues = 1024;

struct SerialState {
    uint8_t ier = 0;
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t scr = 0;
    uint8_t dll = 0;
    uint8_t dlm = 0;
    bool thr_empty_pending = false; // the THRI the driver has not acknowledged yet
    bool irq_asserted = false;      // the line's level, so a restore raises no extra edge
    std::vector<uint8_t> rx;        // bytes the guest has not read yet
    bool operator==(const SerialState&) const = default;
};

struct I8042State {
    uint8_t ctr = 0;
    uint8_t status = 0;
    bool expect_ctr = false;
    std::vector<uint8_t> output;
    bool operator==(const I8042State&) const = default;
};

struct BootTimerState {
    bool fired = false; // a restored guest past /init must not log a second boot time
    bool operator==(const BootTimerState&) const = default;
};

struct QueueState {
    uint16_t max_size = 0;
    uint16_t size = 0;
    bool ready = false;
    uint64_t desc = 0;
    uint64_t driver = 0;
    uint64_t device = 0;
    // A vhost-user ring's position in the broker (GET_VRING_BASE, its last_avail_idx): where
    // a restored device takes up the available ring. 0 for a queue that is not ready.
    uint16_t next_avail = 0;
    bool operator==(const QueueState&) const = default;
};

struct TransportState {
    uint32_t device_id = 0; // what the transport was in front of, checked at restore
    uint32_t status = 0;
    uint32_t device_features_sel = 0;
    uint32_t driver_features_sel = 0;
    uint64_t driver_features = 0;
    uint32_t queue_sel = 0;
    uint32_t interrupt_status = 0;
    uint32_t config_generation = 0;
    bool activated = false;
    std::vector<QueueState> queues;
    bool operator==(const TransportState&) const = default;
};

struct DevicesState {
    SerialState serial;
    I8042State i8042;
    BootTimerState boot_timer;
    std::vector<TransportState> transports; // virtio-mmio device i at slot i
    bool operator==(const DevicesState&) const = default;
};

} // namespace runvm::vmm::snapshot
