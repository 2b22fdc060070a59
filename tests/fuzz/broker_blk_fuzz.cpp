// libFuzzer: hostile virtio-blk requests (header type and sector, split headers, data
// descriptors of any size and direction, missing or misplaced status bytes, discard and
// write-zeroes segments) served by the broker's blk device on a memfd image. The image's size
// and the bytes past its last whole sector must never change: no request reaches outside the
// disk the guest was given.
//
// Input: byte 0 picks the device (bits 0-1: read-write, read-only, no discard) and EVENT_IDX
// (bit 2), then requests, each:
//   16 header bytes (le32 type, le32 reserved, le64 sector), a shape byte
//   (bit 0 indirect, bit 1 header split 8+8, bits 2-4 data descriptors, bit 5 data writable,
//   bit 6 no status byte, bit 7 status joined to the last data descriptor),
//   then per data descriptor a le16 length and, when readable, that many bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/devices/blk/device.hpp"
#include "tests/fuzz/device_fuzz.hpp"

using namespace runvm;
using namespace runvm::broker;

namespace {

constexpr uint64_t IMAGE_SECTORS = 128;
constexpr uint64_t TAIL_BYTES = 100; // past the last whole sector: invisible to the guest
constexpr uint64_t IMAGE_BYTES = IMAGE_SECTORS * blk::SECTOR_SIZE + TAIL_BYTES;
constexpr uint8_t TAIL_MARK = 0xab;
constexpr uint16_t QUEUE = 64;
constexpr uint32_t MAX_DATA = 8192;
// Left free for what a request needs besides its data: header, status, an indirect table.
constexpr uint64_t RAM_RESERVE = 1024;

struct Disk {
    UniqueFd image;
    std::unique_ptr<blk::BlkDevice> device;
};

struct World {
    Disk disks[3];
    testing::CurrentQueues context;

    World() {
        spdlog::set_level(spdlog::level::off); // a warning per refused request
        for (int i = 0; i < 3; ++i) {
            Disk& d = disks[i];
            d.image = UniqueFd(::memfd_create("blk image", MFD_CLOEXEC));
            if (!d.image || ::ftruncate(d.image.get(), IMAGE_BYTES) != 0) {
                std::abort();
            }
            const std::vector<uint8_t> tail(TAIL_BYTES, TAIL_MARK);
            if (::pwrite(d.image.get(), tail.data(), tail.size(), IMAGE_BYTES - TAIL_BYTES) !=
                static_cast<ssize_t>(TAIL_BYTES)) {
                std::abort();
            }
            blk::BlkOptions o;
            o.path = "/proc/self/fd/" + std::to_string(d.image.get());
            o.read_only = i == 1;
            o.discard = i != 2;
            o.serial = i == 0 ? "fuzz-serial-of-20-b!" : "";
            d.device = blk::BlkDevice::open(o).value();
            (void)d.device->attach(&context, nullptr);
        }
    }
};

// The image as the guest must have left it: same size, tail untouched.
void check_image(const Disk& d) {
    struct stat st {};
    uint8_t tail[TAIL_BYTES];
    if (::fstat(d.image.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) != IMAGE_BYTES ||
        ::pread(d.image.get(), tail, sizeof(tail), IMAGE_BYTES - TAIL_BYTES) !=
            static_cast<ssize_t>(TAIL_BYTES)) {
        __builtin_trap();
    }
    for (uint8_t b : tail) {
        if (b != TAIL_MARK) {
            __builtin_trap(); // a write, discard or write-zeroes went past the disk
        }
    }
}

// Places one request's chain from the input and notes the bytes the device may write into
// it under its head; false when the ring or RAM ran out.
bool add_request(fuzz::Input& in, testing::DirectQueues& q, std::vector<uint64_t>& writable) {
    testing::TestGuestMemory& ram = q.ram();
    uint8_t header[blk::REQUEST_HEADER_BYTES] = {};
    in.copy(header, sizeof(header));
    const uint8_t shape = in.byte();
    const bool indirect = (shape & 1) != 0;
    const bool split_header = (shape & 2) != 0;
    const int data_count = (shape >> 2) & 7;
    const bool data_writable = (shape & 32) != 0;
    const bool no_status = (shape & 64) != 0;
    const bool status_joined = (shape & 128) != 0;

    if (ram.free_bytes() < RAM_RESERVE) {
        return false;
    }
    std::vector<testing::DriverBuffer> bufs;
    const uint64_t h = ram.alloc(sizeof(header), 8);
    std::memcpy(ram.host(h), header, sizeof(header));
    if (split_header) {
        bufs.push_back({h, 8, false});
        bufs.push_back({h + 8, 8, false});
    } else {
        bufs.push_back({h, sizeof(header), false});
    }
    for (int i = 0; i < data_count; ++i) {
        const uint32_t len = in.le16() % (MAX_DATA + 1);
        const bool joined = status_joined && !no_status && i == data_count - 1;
        const uint32_t room = len + (joined ? 1 : 0);
        if (room + RAM_RESERVE > ram.free_bytes()) {
            return false;
        }
        const uint64_t b = ram.alloc(std::max<uint32_t>(room, 1), 8);
        if (!data_writable) {
            in.copy(ram.host(b), len);
        }
        bufs.push_back({b, room, data_writable || joined}); // zero-length ones too
    }
    if (!no_status && !(status_joined && data_count > 0)) {
        bufs.push_back({ram.alloc(1, 1), 1, true});
    }
    const auto head = q.driver(0).add(bufs, indirect);
    if (!head) {
        return false;
    }
    writable[*head] = 0;
    for (const auto& b : bufs) {
        writable[*head] += b.writable ? b.len : 0;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World& world = *new World; // never destroyed: no teardown after libFuzzer's exit()
    if (size < 1) {
        return 0;
    }
    fuzz::Input in(data, size);
    const uint8_t pick = in.byte();
    Disk& disk = world.disks[(pick & 3) % 3];
    fuzz::InputQueues queues(world.context, 1, QUEUE, 1 << 20, (pick & 4) != 0);
    if (!queues.ok()) {
        return 0;
    }
    testing::DirectQueues& q = *queues;
    std::vector<uint64_t> writable(QUEUE);
    for (int n = 0; n < QUEUE && in.left() >= blk::REQUEST_HEADER_BYTES; ++n) {
        if (!add_request(in, q, writable)) {
            break;
        }
    }
    q.driver(0).publish();
    disk.device->on_kick(0);
    while (auto used = q.driver(0).take_used()) {
        if (used->id >= QUEUE || used->len > writable[used->id]) {
            __builtin_trap(); // the device claims bytes the driver's buffers do not have
        }
    }
    check_image(disk);
    return 0;
}
