// runvm-vmm's snapshot reader (vmm/snapshot/snapshot_file.cpp) on arbitrary bytes. The
// checksum trailer is recomputed first, so the parser behind it is reached; whatever decodes
// must encode back to the same bytes. The device state it decodes is then restored into the
// devices runvm-vmm emulates (each virtio-mmio transport in front of a backend shaped like
// the one it was saved with, so restore_state's own checks are passed as often as not): a
// restored device must save back what it took, and the guest's register reads must not trip
// over it (a queue selector past the queues, a full input queue).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vmm/devices/i8042.hpp"
#include "vmm/devices/serial_8250.hpp"
#include "vmm/snapshot/snapshot_file.hpp"
#include "vmm/virtio_mmio/transport.hpp"

namespace {

using namespace runvm;
using namespace runvm::vmm;

struct ShapedBackend : virtio_mmio::Backend {
    uint32_t id = 0;
    uint16_t queues = 0;
    uint16_t max_size = 0;
    uint32_t device_id() const override { return id; }
    uint64_t device_features() const override { return ~0ull; }
    uint16_t num_queues() const override { return queues; }
    uint16_t queue_max_size() const override { return max_size; }
    void read_config(uint64_t, std::span<uint8_t> d) override {
        std::memset(d.data(), 0, d.size());
    }
    void write_config(uint64_t, std::span<const uint8_t>) override {}
    Result<void> activate(uint64_t, const std::vector<virtio_mmio::QueueConfig>&) override {
        return Ok();
    }
    void reset() override {}
    void notify(uint16_t) override {}
    bool interrupts_bypass_transport() const override { return true; }
};

void read_every_register(BusDevice& d, uint64_t end, size_t width) {
    uint8_t buf[4];
    for (uint64_t off = 0; off < end; off += width) {
        d.read(off, std::span(buf, width));
    }
}

void restore_devices(const snapshot::DevicesState& s) {
    Serial8250 uart(-1, nullptr);
    uart.restore_state(s.serial);
    const snapshot::SerialState serial = uart.save_state();
    if (serial.rx != s.serial.rx || serial.lcr != s.serial.lcr) {
        std::abort();
    }
    read_every_register(uart, 8, 1);

    I8042 kbd([] {});
    kbd.restore_state(s.i8042);
    if (!(kbd.save_state() == s.i8042)) {
        std::abort();
    }
    read_every_register(kbd, 5, 1);

    for (const snapshot::TransportState& t : s.transports) {
        ShapedBackend backend;
        backend.id = t.device_id;
        backend.queues = static_cast<uint16_t>(t.queues.size());
        backend.max_size = t.queues.empty() ? 0 : t.queues[0].max_size;
        virtio_mmio::Transport transport(backend, nullptr);
        // The ring positions are the broker's, which the machine adds to what a transport
        // saves: a transport gives back everything else.
        snapshot::TransportState registers = t;
        for (snapshot::QueueState& q : registers.queues) {
            q.next_avail = 0;
        }
        if (transport.restore_state(t).ok() && !(transport.save_state() == registers)) {
            std::abort();
        }
        read_every_register(transport, virtio_mmio::reg::kConfig, 4);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace runvm::vmm::snapshot;
    std::vector<uint8_t> bytes(data, data + size);
    if (bytes.size() >= 8) {
        const uint64_t sum = snapshot_checksum(std::span(bytes).first(bytes.size() - 8));
        std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
    }
    auto snapshot = decode_snapshot(bytes);
    if (snapshot.ok()) {
        if (encode_snapshot(*snapshot) != bytes) {
            std::abort();
        }
        restore_devices(snapshot->devices);
    }
    return 0;
}
