// 8250/16550A register model (National Semiconductor PC16550D datasheet).
#include "vmm/devices/serial_8250.hpp"

#include <cstring>

#include <unistd.h>

namespace runvm::vmm {

namespace {
constexpr uint8_t kIerRdi = 0x01, kIerThri = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThri = 0x02, kIirRdi = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMsrDcdDsrCts = 0xb0;
} // namespace

void Serial8250::read(uint64_t offset, std::span<uint8_t> data) {
    std::memset(data.data(), 0, data.size());
    data[0] = read_reg(offset);
}

void Serial8250::write(uint64_t offset, std::span<const uint8_t> data) {
    write_reg(offset, data[0]);
}

void Serial8250::enqueue_input(std::span<const uint8_t> bytes) {
    rx_.insert(rx_.end(), bytes.begin(), bytes.end());
    update_interrupt();
}

snapshot::SerialState Serial8250::save_state() const {
    return {.ier = ier_,
            .lcr = lcr_,
            .mcr = mcr_,
            .scr = scr_,
            .dll = dll_,
            .dlm = dlm_,
            .thr_empty_pending = thr_empty_pending_,
            .irq_asserted = irq_asserted_,
            .rx = {rx_.begin(), rx_.end()}};
}

void Serial8250::restore_state(const snapshot::SerialState& s) {
    // The same masks the guest's writes get, so a restored UART holds only what one can.
    ier_ = s.ier & 0x0f;
    lcr_ = s.lcr;
    mcr_ = s.mcr & 0x1f;
    scr_ = s.scr;
    dll_ = s.dll;
    dlm_ = s.dlm;
    thr_empty_pending_ = s.thr_empty_pending;
    irq_asserted_ = s.irq_asserted;
    rx_.assign(s.rx.begin(), s.rx.end());
}

uint8_t Serial8250::read_reg(uint64_t offset) {
    switch (offset) {
    case 0:
        if ((lcr_ & kLcrDlab) != 0) {
            return dll_;
        }
        if (rx_.empty()) {
            return 0;
        } else {
            const uint8_t b = rx_.front();
            rx_.pop_front();
            update_interrupt();
            return b;
        }
    case 1:
        return (lcr_ & kLcrDlab) != 0 ? dlm_ : ier_;
    case 2: {
        // Reading IIR acknowledges a THR-empty interrupt (the lowest-priority source).
        uint8_t iir = kIirNone;
        if ((ier_ & kIerRdi) != 0 && !rx_.empty()) {
            iir = kIirRdi;
        } else if ((ier_ & kIerThri) != 0 && thr_empty_pending_) {
            iir = kIirThri;
            thr_empty_pending_ = false;
            update_interrupt();
        }
        return static_cast<uint8_t>(iir | kIirFifo);
    }
    case 3:
        return lcr_;
    case 4:
        return mcr_;
    case 5:
        // Transmission is instant, so the holder and the shifter are always empty.
        return static_cast<uint8_t>(kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr));
    case 6:
        // In loopback the modem inputs mirror the outputs, which the driver's probe checks.
        if ((mcr_ & kMcrLoop) != 0) {
            // DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
            return static_cast<uint8_t>(((mcr_ & 0x01) << 5) | ((mcr_ & 0x02) << 3) |
                                        ((mcr_ & 0x0c) << 4));
        }
        return kMsrDcdDsrCts;
    case 7:
        return scr_;
    default:
        return 0;
    }
}

void Serial8250::write_reg(uint64_t offset, uint8_t value) {
    switch (offset) {
    case 0:
        if ((lcr_ & kLcrDlab) != 0) {
            dll_ = value;
            return;
        }
        if ((mcr_ & kMcrLoop) != 0) {
            rx_.push_back(value);
        } else if (out_fd_ >= 0) {
            // A full or broken log must not stop the guest: the byte is dropped.
            [[maybe_unused]] const ssize_t n = ::write(out_fd_, &value, 1);
            ++bytes_written_;
        }
        thr_empty_pending_ = true;
        update_interrupt();
        return;
    case 1:
        if ((lcr_ & kLcrDlab) != 0) {
            dlm_ = value;
            return;
        }
        // Enabling THRI while the holder is empty raises the interrupt at once.
        if ((value & kIerThri) != 0 && (ier_ & kIerThri) == 0) {
            thr_empty_pending_ = true;
        }
        ier_ = value & 0x0f;
        update_interrupt();
        return;
    case 3:
        lcr_ = value;
        return;
    case 4:
        mcr_ = value & 0x1f;
        return;
    case 7:
        scr_ = value;
        return;
    default:
        return; // FCR and the read-only registers
    }
}

void Serial8250::update_interrupt() {
    const bool want =
        ((ier_ & kIerThri) != 0 && thr_empty_pending_) || ((ier_ & kIerRdi) != 0 && !rx_.empty());
    // Edge-triggered ISA line: pulse on each rising edge of the UART's INTR output.
    if (want && !irq_asserted_ && irq_ != nullptr) {
        irq_->trigger();
    }
    irq_asserted_ = want;
}

} // namespace runvm::vmm
