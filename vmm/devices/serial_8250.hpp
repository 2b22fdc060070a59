// Serial8250: a 16550A-compatible UART at 0x3f8 whose output goes to a file descriptor.
// It raises its transmit-holding-register-empty interrupt, which Linux's 8250 driver
// waits for before it sends userspace output (the kernel's own printk polls).
#pragma once

#include <cstdint>
#include <deque>
#include <span>

#include "vmm/devices/bus.hpp"
#include "vmm/snapshot/device_state.hpp"

namespace runvm::vmm {

class Serial8250 : public BusDevice {
public:
    // out_fd: where transmitted bytes go (not owned); irq: the line for IRQ 4.
    Serial8250(int out_fd, IrqLine* irq) : out_fd_(out_fd), irq_(irq) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    // Bytes for the guest to receive (console input).
    void enqueue_input(std::span<const uint8_t> bytes);
    uint64_t bytes_written() const { return bytes_written_; }

    // The registers, the pending interrupt and unread input; the output fd is the process's.
    snapshot::SerialState save_state() const;
    void restore_state(const snapshot::SerialState& state);

private:
    uint8_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint8_t value);
    void update_interrupt();

    int out_fd_;
    IrqLine* irq_;
    uint8_t ier_ = 0;
    uint8_t lcr_ = 0x03; // 8N1
    uint8_t mcr_ = 0x08; // OUT2: the PC wiring that gates the IRQ
    uint8_t scr_ = 0;
    uint8_t dll_ = 0x0c; // 9600 baud
    uint8_t dlm_ = 0;
    bool thr_empty_pending_ = false;
    bool irq_asserted_ = false;
    std::deque<uint8_t> rx_;
    uint64_t bytes_written_ = 0;
};

} // namespace runvm::vmm
