// Bus, 8250 serial, i8042 and boot timer driven register by register, as a guest would.
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "vmm/devices/acpi_sleep.hpp"
#include "vmm/devices/boot_timer.hpp"
#include "vmm/devices/bus.hpp"
#include "vmm/devices/i8042.hpp"
#include "vmm/devices/serial_8250.hpp"

using namespace runvm;
using namespace runvm::vmm;

namespace {

struct CountingIrq : IrqLine {
    int edges = 0;
    void trigger() override { ++edges; }
};

struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        r.reset(fds[0]);
        w.reset(fds[1]);
    }
    std::string drain() {
        char buf[256];
        const ssize_t n = ::read(r.get(), buf, sizeof buf);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
};

uint8_t in8(BusDevice& d, uint64_t off) {
    uint8_t v = 0;
    d.read(off, std::span(&v, 1));
    return v;
}
void out8(BusDevice& d, uint64_t off, uint8_t v) {
    d.write(off, std::span(&v, 1));
}

struct Recorder : BusDevice {
    uint64_t last_offset = 99;
    void read(uint64_t offset, std::span<uint8_t> data) override {
        last_offset = offset;
        data[0] = 0x42;
    }
    void write(uint64_t offset, std::span<const uint8_t>) override { last_offset = offset; }
};

} // namespace

BOOST_AUTO_TEST_CASE(bus_dispatch_and_overlap) {
    Bus bus;
    Recorder a, b;
    BOOST_REQUIRE(bus.add(0x3f8, 8, &a).ok());
    BOOST_REQUIRE(bus.add(0x60, 5, &b).ok());
    BOOST_TEST(!bus.add(0x3fc, 8, &b).ok());
    BOOST_TEST(!bus.add(0x3f0, 9, &b).ok());
    BOOST_TEST(bus.add(0x3f0, 8, &b).ok());
    uint8_t v = 0;
    BOOST_TEST(bus.read(0x3fd, std::span(&v, 1)));
    BOOST_TEST(v == 0x42);
    BOOST_TEST(a.last_offset == 5u);
    uint32_t wide = 0;
    // An access that runs past the end of a range is not the device's.
    BOOST_TEST(!bus.read(0x3fe, std::span(reinterpret_cast<uint8_t*>(&wide), 4)));
    BOOST_TEST(wide == 0xffffffffu);
    BOOST_TEST(!bus.write(0x1000, std::span(&v, 1)));
}

BOOST_AUTO_TEST_CASE(serial_transmits_and_raises_thri) {
    Pipe out;
    CountingIrq irq;
    Serial8250 uart(out.w.get(), &irq);
    BOOST_TEST(in8(uart, 5) == 0x60); // LSR: THRE | TEMT
    out8(uart, 0, 'h');
    out8(uart, 0, 'i');
    BOOST_TEST(out.drain() == "hi");
    BOOST_TEST(irq.edges == 0);                // IER off: no interrupt
    BOOST_TEST((in8(uart, 2) & 0x0f) == 0x01); // IIR: none pending

    out8(uart, 1, 0x02); // IER.THRI on while the holder is empty: interrupt at once
    BOOST_TEST(irq.edges == 1);
    BOOST_TEST((in8(uart, 2) & 0x0f) == 0x02); // IIR: THRI, and reading it acknowledges
    BOOST_TEST((in8(uart, 2) & 0x0f) == 0x01);
    out8(uart, 0, '!');
    BOOST_TEST(irq.edges == 2);
    out8(uart, 0, '?'); // still pending, no new edge
    BOOST_TEST(irq.edges == 2);
    BOOST_TEST(out.drain() == "!?");
    BOOST_TEST(uart.bytes_written() == 4u);
}

BOOST_AUTO_TEST_CASE(serial_divisor_scratch_and_loopback) {
    Pipe out;
    Serial8250 uart(out.w.get(), nullptr);
    out8(uart, 3, 0x83); // DLAB
    out8(uart, 0, 0x01);
    out8(uart, 1, 0x00);
    BOOST_TEST(in8(uart, 0) == 0x01);
    out8(uart, 3, 0x03);
    BOOST_TEST(in8(uart, 3) == 0x03);
    out8(uart, 7, 0x5a);
    BOOST_TEST(in8(uart, 7) == 0x5a);
    // Linux's 8250 probe: loopback with RTS|OUT2 must read CTS|DCD in MSR.
    out8(uart, 4, 0x10 | 0x0a);
    BOOST_TEST((in8(uart, 6) & 0xf0) == 0x90);
    out8(uart, 4, 0x10 | 0x01);
    BOOST_TEST((in8(uart, 6) & 0xf0) == 0x20);
    out8(uart, 0, 'x'); // loopback: the byte comes back, nothing goes out
    BOOST_TEST((in8(uart, 5) & 0x01) == 1);
    BOOST_TEST(in8(uart, 0) == 'x');
    BOOST_TEST(out.drain().empty());
}

BOOST_AUTO_TEST_CASE(serial_input_raises_rdi) {
    CountingIrq irq;
    Serial8250 uart(-1, &irq);
    out8(uart, 1, 0x01);
    const uint8_t in[] = {'a', 'b'};
    uart.enqueue_input(in);
    BOOST_TEST(irq.edges == 1);
    BOOST_TEST((in8(uart, 2) & 0x0f) == 0x04);
    BOOST_TEST(in8(uart, 0) == 'a');
    BOOST_TEST(in8(uart, 0) == 'b');
    BOOST_TEST((in8(uart, 5) & 0x01) == 0);
}

BOOST_AUTO_TEST_CASE(i8042_probe_and_reset) {
    int resets = 0;
    I8042 kbd([&] { ++resets; });
    BOOST_TEST((in8(kbd, I8042::kCommandOffset) & I8042::kStatusOutputFull) == 0);
    // Linux's i8042_controller_init: read the command byte (CTR), write it back changed.
    out8(kbd, I8042::kCommandOffset, I8042::kCmdReadCtr);
    BOOST_TEST((in8(kbd, I8042::kCommandOffset) & I8042::kStatusOutputFull) != 0);
    BOOST_TEST(in8(kbd, I8042::kDataOffset) == 0x30);
    BOOST_TEST((in8(kbd, I8042::kCommandOffset) & I8042::kStatusOutputFull) == 0);
    out8(kbd, I8042::kCommandOffset, I8042::kCmdWriteCtr);
    out8(kbd, I8042::kDataOffset, 0x45);
    out8(kbd, I8042::kCommandOffset, I8042::kCmdReadCtr);
    BOOST_TEST(in8(kbd, I8042::kDataOffset) == 0x45);
    out8(kbd, I8042::kCommandOffset, I8042::kCmdSelfTest);
    BOOST_TEST(in8(kbd, I8042::kDataOffset) == 0x55);
    out8(kbd, I8042::kDataOffset, 0xfe); // to the (absent) keyboard: not a reset
    BOOST_TEST(resets == 0);
    out8(kbd, I8042::kCommandOffset, I8042::kCmdResetCpu);
    BOOST_TEST(resets == 1);
}

BOOST_AUTO_TEST_CASE(acpi_sleep_register_powers_off_on_s5_only) {
    int poweroffs = 0;
    AcpiSleep sleep(5, [&] { ++poweroffs; });
    BOOST_TEST(in8(sleep, 0) == 0);
    out8(sleep, 0, 0x80);            // WAK_STS clear, as ACPICA writes before sleeping
    out8(sleep, 0, 5 << 2);          // SLP_TYP without SLP_EN
    out8(sleep, 0, 0x20 | (3 << 2)); // S3: not offered
    BOOST_TEST(poweroffs == 0);
    out8(sleep, 0, 0x20 | (5 << 2)); // what Linux's acpi_power_off writes: 0x34
    BOOST_TEST(poweroffs == 1);
}

BOOST_AUTO_TEST_CASE(boot_timer_fires_once_on_magic) {
    int fired = 0;
    BootTimer timer(BootTimer::Clock::now(), [&](BootTimer::Clock::duration d) {
        ++fired;
        BOOST_TEST(d.count() >= 0);
    });
    out8(timer, 0, 7);
    out8(timer, 1, BootTimer::kMagic);
    BOOST_TEST(fired == 0);
    BOOST_TEST(in8(timer, 0) == 0);
    out8(timer, 0, BootTimer::kMagic);
    out8(timer, 0, BootTimer::kMagic);
    BOOST_TEST(fired == 1);
    BOOST_TEST(timer.fired());
    BOOST_TEST(in8(timer, 0) == 1);
}

BOOST_AUTO_TEST_CASE(serial_state_round_trips_into_a_new_uart) {
    Pipe out;
    CountingIrq irq;
    Serial8250 uart(out.w.get(), &irq);
    out8(uart, 3, 0x80); // DLAB: divisor 0x0201
    out8(uart, 0, 0x01);
    out8(uart, 1, 0x02);
    out8(uart, 3, 0x1b); // 8E1
    out8(uart, 4, 0x0b);
    out8(uart, 7, 0x5a);
    out8(uart, 1, 0x03); // IER: RDI | THRI, the THRI left unacknowledged
    const uint8_t input[] = {'a', 'b'};
    uart.enqueue_input(input);
    const snapshot::SerialState saved = uart.save_state();
    BOOST_TEST(saved.rx.size() == 2u);
    BOOST_TEST(saved.thr_empty_pending);
    BOOST_TEST(saved.irq_asserted);

    CountingIrq irq2;
    Serial8250 restored(out.w.get(), &irq2);
    restored.restore_state(saved);
    BOOST_TEST((restored.save_state() == saved));
    BOOST_TEST(irq2.edges == 0); // the line was already up: no second edge
    BOOST_TEST(in8(restored, 3) == 0x1b);
    BOOST_TEST(in8(restored, 7) == 0x5a);
    BOOST_TEST((in8(restored, 2) & 0x0f) == 0x04); // IIR: RDI first
    BOOST_TEST(in8(restored, 0) == 'a');
    BOOST_TEST(in8(restored, 0) == 'b');
    BOOST_TEST((in8(restored, 2) & 0x0f) == 0x02); // then the pending THRI
    out8(restored, 3, 0x80);
    BOOST_TEST(in8(restored, 0) == 0x01);
    BOOST_TEST(in8(restored, 1) == 0x02);
}

BOOST_AUTO_TEST_CASE(i8042_and_boot_timer_state_round_trip) {
    I8042 kbd([] {});
    out8(kbd, I8042::kCommandOffset, I8042::kCmdWriteCtr);
    out8(kbd, I8042::kDataOffset, 0x47);
    out8(kbd, I8042::kCommandOffset, I8042::kCmdSelfTest); // 0x55 left unread
    out8(kbd, I8042::kCommandOffset, I8042::kCmdWriteCtr); // waiting for the byte
    const snapshot::I8042State saved = kbd.save_state();
    BOOST_TEST(saved.ctr == 0x47);
    BOOST_TEST(saved.expect_ctr);
    I8042 restored([] {});
    restored.restore_state(saved);
    BOOST_TEST((restored.save_state() == saved));
    BOOST_TEST(in8(restored, I8042::kDataOffset) == 0x55);
    out8(restored, I8042::kDataOffset, 0x11); // the byte the write-CTR command waited for
    out8(restored, I8042::kCommandOffset, I8042::kCmdReadCtr);
    BOOST_TEST(in8(restored, I8042::kDataOffset) == 0x11);

    int fired = 0;
    BootTimer timer(BootTimer::Clock::now(), [&](BootTimer::Clock::duration) { ++fired; });
    timer.restore_state({.fired = true});
    out8(timer, 0, BootTimer::kMagic); // a restored guest past /init logs no second boot
    BOOST_TEST(fired == 0);
    BOOST_TEST(timer.save_state().fired);
}
