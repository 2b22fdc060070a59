// libFuzzer: hostile vsock packets (headers, lengths, ops, ports, credit) on the broker's
// vsock device, fed through its tx queue, with rx buffers posted for its answers.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <unistd.h>

#include "broker/devices/vsock/device.hpp"
#include "tests/fuzz/device_fuzz.hpp"

using namespace runvm::broker;

namespace {

struct World {
    std::unique_ptr<EventLoop> loop = EventLoop::create().value();
    std::unique_ptr<vsock::VsockDevice> device;
    testing::CurrentQueues context;

    World() {
        const std::string uds = "/tmp/runvm-vsock-fuzz." + std::to_string(::getpid());
        device = vsock::VsockDevice::open({uds, 3}).value();
        (void)device->attach(&context, loop.get());
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    fuzz::InputQueues queues(world.context, 2, 64, 512 * 1024, (size & 1) != 0);
    if (!queues.ok()) {
        return 0;
    }
    testing::DirectQueues& q = *queues;
    testing::TestGuestMemory& ram = q.ram();
    for (int i = 0; i < 16; ++i) {
        const uint64_t b = ram.alloc(512);
        q.driver(vsock::RXQ).add({{b, 512, true}});
    }
    q.driver(vsock::RXQ).publish();
    // Packets: u16 length then that many bytes (a header and maybe a payload), each placed
    // as one tx chain; the header's cids are forced to guest -> host half the time so the
    // state machine, not just the cid check, sees the input.
    size_t at = 0;
    int packets = 0;
    while (at + 2 <= size && packets < 32) {
        uint16_t len;
        std::memcpy(&len, data + at, 2);
        at += 2;
        len = static_cast<uint16_t>(std::min<size_t>(len % 1024, size - at));
        const uint64_t b = ram.alloc(len + 1, 8);
        std::memcpy(ram.host(b), data + at, len);
        if (len >= vsock::HEADER_BYTES && (data[at] & 1) == 0) {
            const uint64_t guest = 3, host = vsock::HOST_CID;
            std::memcpy(ram.host(b), &guest, 8);
            std::memcpy(ram.host(b) + 8, &host, 8);
        }
        at += len;
        if (!q.driver(vsock::TXQ).add({{b, len, false}}).has_value()) {
            break;
        }
        ++packets;
    }
    q.driver(vsock::TXQ).publish();
    world.device->on_kick(vsock::TXQ);
    world.device->on_kick(vsock::RXQ);
    (void)world.loop->run_once(0);
    world.device->reset();
    return 0;
}
