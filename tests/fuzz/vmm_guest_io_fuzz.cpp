// Fuzzes what a guest controls through trapped accesses: the virtio-mmio register state
// machine (with a fake backend that checks what activation hands over), the 8250 UART,
// the i8042 and the boot timer. Input: a sequence of 12-byte accesses.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "vmm/devices/boot_timer.hpp"
#include "vmm/devices/i8042.hpp"
#include "vmm/devices/serial_8250.hpp"
#include "vmm/virtio_mmio/transport.hpp"

using namespace runvm;
using namespace runvm::vmm;
using namespace runvm::vmm::virtio_mmio;

namespace {

struct FuzzBackend : Backend {
    uint8_t config[60] = {};
    uint32_t device_id() const override { return 2; }
    uint64_t device_features() const override { return 0x1ull << 33 | 0x46; }
    uint16_t num_queues() const override { return 3; }
    uint16_t queue_max_size() const override { return 256; }
    void read_config(uint64_t off, std::span<uint8_t> d) override {
        std::memset(d.data(), 0, d.size());
        if (off < sizeof config && d.size() <= sizeof config - off) {
            std::memcpy(d.data(), config + off, d.size());
        }
    }
    void write_config(uint64_t off, std::span<const uint8_t> d) override {
        if (off < sizeof config && d.size() <= sizeof config - off) {
            std::memcpy(config + off, d.data(), d.size());
        }
    }
    Result<void> activate(uint64_t features, const std::vector<QueueConfig>& queues) override {
        // What the transport promises its backend: VERSION_1, only offered features,
        // ready queues with power-of-two sizes within the maximum.
        if ((features & (1ull << 32)) == 0 || (features & ~(device_features() | 1ull << 32)) != 0) {
            std::abort();
        }
        for (const auto& q : queues) {
            if (q.ready && (q.size == 0 || q.size > q.max_size || (q.size & (q.size - 1)) != 0)) {
                std::abort();
            }
        }
        return features & 0x40 ? Result<void>(Err(Error::msg("no"))) : Ok();
    }
    void reset() override {}
    void notify(uint16_t q) override {
        if (q >= num_queues()) {
            std::abort();
        }
    }
    bool interrupts_bypass_transport() const override { return true; }
};

struct NullIrq : IrqLine {
    void trigger() override {}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzBackend backend;
    NullIrq irq;
    Transport transport(backend, &irq);
    Serial8250 serial(-1, &irq);
    I8042 kbd([] {});
    BootTimer timer(BootTimer::Clock::now(), [](BootTimer::Clock::duration) {});
    BusDevice* devices[] = {&transport, &serial, &kbd, &timer};
    while (size >= 12) {
        const uint8_t op = data[0];
        uint16_t offset;
        std::memcpy(&offset, data + 1, 2);
        uint8_t value[8];
        std::memcpy(value, data + 4, 8);
        data += 12;
        size -= 12;
        BusDevice* d = devices[op & 3];
        const size_t len = size_t{1} << ((op >> 2) & 3); // 1, 2, 4, 8
        const uint64_t off = d == &transport ? offset % 0x200u : offset % 8u;
        if ((op & 0x80) != 0) {
            d->write(off, std::span<const uint8_t>(value, len));
        } else {
            d->read(off, std::span<uint8_t>(value, len));
        }
    }
    return 0;
}
