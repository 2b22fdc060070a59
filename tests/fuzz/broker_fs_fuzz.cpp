// libFuzzer: hostile FUSE requests (headers, lengths, opcodes, node ids, names, argument
// structs) decoded and dispatched by the broker's virtio-fs device over a scratch share
// holding a FIFO, with inode and handle ceilings an input can reach.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/fs/device.hpp"
#include "broker/testing/temp_dir.hpp"
#include "tests/fuzz/device_fuzz.hpp"

using namespace runvm::broker;

namespace {

struct World {
    testing::TempDir dir = testing::TempDir::create("runvm-fs-fuzz").value();
    std::unique_ptr<fs::FsDevice> device;
    testing::CurrentQueues context;

    World() {
        // A few things to find: a file, a directory, a symlink pointing out.
        ::mkdir(dir.file("share").c_str(), 0755);
        ::mkdir(dir.file("share/d").c_str(), 0755);
        FILE* f = std::fopen(dir.file("share/f").c_str(), "w");
        if (f != nullptr) {
            std::fputs("data", f);
            std::fclose(f);
        }
        ::symlink("/etc", dir.file("share/out").c_str());
        // A FIFO: CREATE or OPEN of it must answer, never wait for a writer (a hang here is
        // a libFuzzer timeout).
        ::mkfifo(dir.file("share/p").c_str(), 0666);
        fs::FsOptions o;
        o.shared_dir = dir.file("share");
        o.tag = "fuzz";
        // Both set-ID policies (d keeps runc's, the rest strips) and ceilings low enough
        // that one input of 32 requests reaches ENFILE.
        o.setid_entries = {"d"};
        o.max_inodes = 8;
        o.max_handles = 4;
        device = fs::FsDevice::open(o).value();
        (void)device->attach(&context, nullptr);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    fuzz::InputQueues queues(world.context, 2, 64, 1 << 20, (size & 1) != 0);
    if (!queues.ok()) {
        return 0;
    }
    testing::DirectQueues& q = *queues;
    testing::TestGuestMemory& ram = q.ram();
    // Requests: u16 length, u8 shape, then that many bytes. The shape's bits make the
    // header's len match the bytes (so decoding reaches the operations), point the node id
    // at one of the first few nodes, pick the queue and the reply room.
    size_t at = 0;
    int requests = 0;
    while (at + 3 <= size && requests < 32) {
        uint16_t len;
        std::memcpy(&len, data + at, 2);
        const uint8_t shape = data[at + 2];
        at += 3;
        len = static_cast<uint16_t>(std::min<size_t>(len % 2048, size - at));
        const uint64_t in = ram.alloc(len + 1, 8);
        std::memcpy(ram.host(in), data + at, len);
        at += len;
        if (len >= sizeof(fuse_in_header)) {
            fuse_in_header h;
            std::memcpy(&h, ram.host(in), sizeof(h));
            if ((shape & 1) != 0) {
                h.len = len;
            }
            if ((shape & 2) != 0) {
                h.nodeid %= 8;
            }
            // Never let an input fill the disk: no FALLOCATE, no COPY_FILE_RANGE.
            if (h.opcode == FUSE_FALLOCATE || h.opcode == FUSE_COPY_FILE_RANGE) {
                h.opcode = FUSE_GETATTR;
            }
            std::memcpy(ram.host(in), &h, sizeof(h));
        }
        const uint16_t queue = (shape & 4) != 0 ? fs::HIPRIO_QUEUE : 1;
        const uint32_t room = (shape & 8) != 0 ? 24 : 8192;
        const uint64_t out = ram.alloc(room, 8);
        std::vector<testing::DriverBuffer> bufs{{in, len, false}, {out, room, true}};
        if (!q.driver(queue).add(bufs, (shape & 16) != 0).has_value()) {
            break;
        }
        q.driver(queue).publish();
        world.device->on_kick(queue);
        ++requests;
    }
    world.device->reset();
    return 0;
}
