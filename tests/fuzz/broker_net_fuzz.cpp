// libFuzzer: hostile tx chains (sizes, split descriptors, vnet headers, GSO fields) on the
// broker's virtio-net device with a SOCK_SEQPACKET pair standing in for the tap, plus host
// frames pushed the other way into posted rx buffers.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/devices/net/device.hpp"
#include "broker/virtio/virtio_spec.hpp"
#include "tests/fuzz/device_fuzz.hpp"

using namespace runvm::broker;

namespace {

struct World {
    std::unique_ptr<EventLoop> loop = EventLoop::create().value();
    std::unique_ptr<net::NetDevice> device;
    int host_end = -1;
    testing::CurrentQueues context;

    World() {
        spdlog::set_level(spdlog::level::off); // a warning per bad frame and stats per input
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
            std::abort();
        }
        host_end = sv[1];
        net::NetOptions o;
        o.mtu = 1500;
        device = net::NetDevice::over_fd(o, runvm::UniqueFd(sv[0]));
        (void)device->attach(&context, loop.get());
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Never destroyed: no device teardown runs after libFuzzer's exit().
    static World& world = *new World;
    if (size < 2) {
        return 0;
    }
    // First byte: which features the "driver" acked.
    const uint8_t f = data[0];
    uint64_t acked = virtio::F_VERSION_1 | ((f & 1) ? net::F_MRG_RXBUF : 0) |
                     ((f & 2) ? net::F_CSUM | net::F_HOST_TSO4 : 0) |
                     ((f & 4) ? net::F_HOST_TSO6 : 0) |
                     ((f & 8) ? net::F_GUEST_CSUM | net::F_GUEST_TSO4 : 0);
    if ((f & 0x80) != 0) {
        acked &= ~virtio::F_VERSION_1;
    }
    world.context.set_acked_features(acked);
    fuzz::InputQueues queues(world.context, 2, 64, 1 << 20, (f & 16) != 0);
    if (!queues.ok()) {
        return 0;
    }
    testing::DirectQueues& q = *queues;
    testing::TestGuestMemory& ram = q.ram();
    const uint32_t rx_len = (f & 32) ? 256 : 2048;
    for (int i = 0; i < 24; ++i) {
        q.driver(net::RXQ).add({{ram.alloc(rx_len), rx_len, true}});
    }
    q.driver(net::RXQ).publish();
    // Frames: u16 length then that many bytes; the low bit of the length's first byte splits
    // the chain after the header, the next bit sends the bytes as a host frame (rx) instead.
    size_t at = 1;
    int frames = 0;
    while (at + 2 <= size && frames < 48) {
        uint16_t len;
        std::memcpy(&len, data + at, 2);
        const bool split = (data[at] & 1) != 0;
        const bool to_guest = (data[at] & 2) != 0;
        at += 2;
        len = static_cast<uint16_t>(std::min<size_t>(len, size - at));
        if (to_guest) {
            (void)!::send(world.host_end, data + at, len, MSG_DONTWAIT);
        } else {
            const uint64_t b = ram.alloc(len + 1U, 8);
            std::memcpy(ram.host(b), data + at, len);
            const bool added =
                split && len > net::VNET_HDR_BYTES
                    ? q.driver(net::TXQ)
                          .add({{b, net::VNET_HDR_BYTES, false},
                                {b + net::VNET_HDR_BYTES, len - net::VNET_HDR_BYTES, false}})
                          .has_value()
                    : q.driver(net::TXQ).add({{b, len, false}}).has_value();
            if (!added) {
                break;
            }
        }
        at += len;
        ++frames;
    }
    q.driver(net::TXQ).publish();
    world.device->on_kick(net::TXQ);
    world.device->on_kick(net::RXQ);
    (void)world.loop->run_once(0);
    world.device->reset();
    // Whatever the guest sent reached the host end; drop it so the socket never fills.
    char sink[70000];
    while (::recv(world.host_end, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
    }
    return 0;
}
