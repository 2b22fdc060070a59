// libFuzzer: virtio-console traffic on every queue a MULTIPORT driver would use (port 0's
// receive and transmit queues, the control receive and transmit queues, port 1's pair) into
// the broker's console device, which has one port and no control queues. Transmitted bytes
// must reach the capped log exactly, nothing else may be used: the device writes nothing into
// guest memory and never touches a queue it does not have.
//
// Input: byte 0: EVENT_IDX (bit 0), then chains, each:
//   queue byte (low 3 bits: 0 rx, 1 tx, 2 control rx, 3 control tx, 4-5 port 1, 6-7 beyond),
//   shape byte (bit 0 indirect, bits 1-3 descriptors, bit 4 kick after it, bits 5-7 which
//   descriptors are device-writable), then per descriptor a le16 length and its bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "broker/devices/console/device.hpp"
#include "broker/testing/temp_dir.hpp"
#include "tests/fuzz/device_fuzz.hpp"

using namespace runvm;
using namespace runvm::broker;

namespace {

constexpr uint16_t QUEUES = 8;
constexpr uint16_t QUEUE = 32;
constexpr uint64_t LOG_CAP = 16 * 1024;
constexpr uint32_t MAX_DESC = 4096;

struct World {
    testing::TempDir dir = testing::TempDir::create("runvm-console-fuzz").value();
    std::unique_ptr<console::ConsoleDevice> device;
    testing::CurrentQueues context;

    World() {
        spdlog::set_level(spdlog::level::off);
        console::ConsoleOptions o{dir.file("console.log"), LOG_CAP};
        device = console::ConsoleDevice::open(o).value();
        (void)device->attach(&context, nullptr);
    }

    uint64_t log_bytes(const char* name) const {
        struct stat st {};
        return ::stat(dir.file(name).c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World& world = *new World; // never destroyed: no teardown after libFuzzer's exit()
    if (size < 1) {
        return 0;
    }
    fuzz::Input in(data, size);
    fuzz::InputQueues queues(world.context, QUEUES, QUEUE, 1 << 20, (in.byte() & 1) != 0);
    if (!queues.ok()) {
        return 0;
    }
    testing::DirectQueues& q = *queues;
    testing::TestGuestMemory& ram = q.ram();
    const uint64_t before = world.device->output().bytes();
    // Readable bytes of well-formed tx chains, counted only once they were published.
    uint64_t tx_pending = 0, tx_published = 0;
    while (in.left() >= 2) {
        const uint16_t queue = in.byte() & (QUEUES - 1);
        const uint8_t shape = in.byte();
        const int count = 1 + ((shape >> 1) & 7);
        std::vector<testing::DriverBuffer> bufs;
        uint64_t readable = 0;
        for (int i = 0; i < count; ++i) {
            const uint32_t len = in.le16() % (MAX_DESC + 1);
            if (len + 1024U > ram.free_bytes()) { // room left for an indirect table
                break;
            }
            const uint64_t b = ram.alloc(std::max<uint32_t>(len, 1), 8);
            const bool writable = ((shape >> 5) & (1 << (i % 3))) != 0;
            in.copy(ram.host(b), len);
            bufs.push_back({b, len, writable});
            readable += writable ? 0 : len;
        }
        if (bufs.empty() || !q.driver(queue).add(bufs, (shape & 1) != 0)) {
            break;
        }
        // The device may read a chain whose writable part comes first only as far as its
        // checks allow; count the bytes of plain all-readable chains.
        const bool all_readable = readable == [&] {
            uint64_t t = 0;
            for (const auto& b : bufs) {
                t += b.len;
            }
            return t;
        }();
        if (queue == console::TRANSMITQ && all_readable) {
            tx_pending += readable;
        }
        if ((shape & 16) != 0) {
            q.driver(queue).publish();
            if (queue == console::TRANSMITQ) {
                tx_published += tx_pending;
                tx_pending = 0;
            }
            world.device->on_kick(queue);
        }
    }
    for (uint16_t i = 0; i < QUEUES; ++i) {
        q.driver(i).publish();
        world.device->on_kick(i);
    }
    tx_published += tx_pending;
    for (uint16_t i = 0; i < QUEUES; ++i) {
        if (i != console::TRANSMITQ && q.driver(i).used_idx() != 0) {
            __builtin_trap(); // a queue the device does not serve was used
        }
    }
    while (auto used = q.driver(console::TRANSMITQ).take_used()) {
        if (used->len != 0) {
            __builtin_trap(); // the device claims to have written into a tx buffer
        }
    }
    const uint64_t written = world.device->output().bytes() - before;
    if (written < tx_published || world.log_bytes("console.log") > LOG_CAP / 2 ||
        world.log_bytes("console.log.1") > LOG_CAP / 2) {
        __builtin_trap(); // output lost, or the log past its cap
    }
    return 0;
}
