// libFuzzer: sequences of vhost-user front-end messages, with real fds, read off a socket and
// handled by the broker's BackendSession the way DeviceServer does it, in front of a blk or a
// console device. The fds an input names are memfds (the input's guest RAM, fresh ones of odd
// sizes, a read-only reopen), eventfds, /dev/null, a pipe and a directory, so SET_MEM_TABLE's
// size and offset checks and the vring fd rules meet what a broken or hostile frontend sends;
// rings the input starts are kicked and served from RAM the input wrote.
//
// Input: byte 0 picks the device (bit 0: console, bit 1: read-only blk), then records:
//   0 message: request, flags, fd count, one kind byte per fd, le16 size, payload
//   1 kick:    which of the four kept eventfds to signal, then one event loop round
//   2 poke:    le16 offset, length byte, bytes written into the guest RAM memfd
//   3 reconnect: the frontend goes away (disconnect) and a new one connects
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_socket.hpp"
#include "broker/devices/blk/device.hpp"
#include "broker/devices/console/device.hpp"
#include "broker/testing/temp_dir.hpp"
#include "broker/vhost_user/backend_session.hpp"
#include "tests/fuzz/device_fuzz.hpp"
#include "vhost_user/message.hpp"

using namespace runvm;
using namespace runvm::broker;
namespace vu = runvm::vhost_user;
using runvm::broker::fuzz::Input;
using runvm::broker::vhost_user::BackendSession;

namespace {

constexpr size_t RAM_BYTES = 64 * 1024;
constexpr size_t KEPT_EVENTFDS = 4;
constexpr int MAX_RECORDS = 64;

UniqueFd memfd_of(size_t bytes, const char* name) {
    UniqueFd fd(::memfd_create(name, MFD_CLOEXEC));
    if (!fd || ::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
        std::abort();
    }
    return fd;
}

// What lives across inputs: the scratch directory (console log, a directory fd to send) and
// the blk image, zeroed again for every input.
struct World {
    testing::TempDir dir = testing::TempDir::create("runvm-vhost-user-fuzz").value();
    UniqueFd image = memfd_of(RAM_BYTES, "blk image");

    World() { spdlog::set_level(spdlog::level::off); } // a line per refused request
};

std::unique_ptr<Device> device_for(uint8_t choice, World& world) {
    if ((choice & 1) != 0) {
        console::ConsoleOptions o{world.dir.file("console.log"), 16 * 1024};
        return console::ConsoleDevice::open(o).value();
    }
    if (::ftruncate(world.image.get(), 0) != 0 || ::ftruncate(world.image.get(), RAM_BYTES) != 0) {
        std::abort();
    }
    blk::BlkOptions o;
    o.path = "/proc/self/fd/" + std::to_string(world.image.get());
    o.read_only = (choice & 2) != 0;
    return blk::BlkDevice::open(o).value();
}

// One input's frontend: the connection, guest RAM and the eventfds it keeps to kick with.
class Frontend {
public:
    Frontend(Device& device, EventLoop& loop, World& world)
        : device_(device), loop_(loop), world_(world), ram_(memfd_of(RAM_BYTES, "guest ram")) {
        for (auto& e : kept_) {
            e = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        }
        session_ = std::make_unique<BackendSession>(device_, loop_);
        (void)device_.attach(session_.get(), &loop_);
        connect();
    }

    // As DeviceServer::drop_connection: the session outlives its connections.
    void reconnect() {
        session_->disconnect();
        connect();
    }

    void send_message(Input& in) {
        const uint32_t request = in.byte();
        const uint8_t f = in.byte();
        // Mostly well-formed flags; bit 7 sends the raw bits (bad versions, a reply flag).
        const uint32_t flags =
            (f & 0x80) != 0 ? f & 0x7fU : vu::VERSION | ((f & 1) != 0 ? vu::FLAG_NEED_REPLY : 0);
        const size_t fd_count = in.byte() & 0xf; // over MAX_FDS sometimes
        std::vector<UniqueFd> fds;
        for (size_t i = 0; i < fd_count; ++i) {
            fds.push_back(fd_of_kind(in.byte()));
        }
        const uint16_t declared = in.le16();
        const std::vector<uint8_t> payload = in.bytes(declared);
        std::vector<uint8_t> wire(sizeof(vu::Header) + payload.size());
        const vu::Header h{request, flags, declared};
        std::memcpy(wire.data(), &h, sizeof(h));
        std::copy(payload.begin(), payload.end(), wire.begin() + sizeof(h));
        std::vector<int> raw;
        for (const auto& fd : fds) {
            raw.push_back(fd.get());
        }
        if (!send_with_fds(ours_.get(), wire.data(), wire.size(), raw, "fuzz request")) {
            reconnect();
            return;
        }
        serve_one();
    }

    void kick(uint8_t which) {
        const uint64_t one = 1;
        (void)!::write(kept_[which % KEPT_EVENTFDS].get(), &one, sizeof(one));
        (void)loop_.run_once(0);
    }

    void poke(Input& in) {
        const size_t offset = in.le16() % RAM_BYTES;
        const std::vector<uint8_t> b = in.bytes(in.byte());
        (void)!::pwrite(ram_.get(), b.data(), std::min(b.size(), RAM_BYTES - offset),
                        static_cast<off_t>(offset));
    }

private:
    void connect() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            std::abort();
        }
        ours_ = UniqueFd(sv[0]);
        // Non-blocking: a message shorter than its header says ends the connection at once
        // instead of waiting out DeviceServer's receive timeout.
        theirs_ = UniqueFd(sv[1]);
        (void)set_nonblocking(theirs_.get(), true, "fuzz backend end");
    }

    // What DeviceServer::on_connection_ready does with one readable message.
    void serve_one() {
        auto read = vu::read_message(theirs_.get());
        if (!read || !read->has_value()) {
            reconnect();
            return;
        }
        vu::Message& msg = **read;
        const uint32_t request = msg.header.request;
        auto handled = session_->handle(msg);
        if (!handled && BackendSession::expects_reply(request)) {
            reconnect();
            return;
        }
        if (handled && handled->has_value()) {
            const auto& payload = **handled;
            (void)vu::write_reply(theirs_.get(), request, payload.data(),
                                  static_cast<uint32_t>(payload.size()));
        } else if (msg.need_reply() && session_->reply_ack_negotiated()) {
            const uint64_t status = handled ? 0 : 1;
            (void)vu::write_reply(theirs_.get(), request, &status, sizeof(status));
        }
        char sink[4096]; // the replies: read so the socket never fills
        while (::recv(ours_.get(), sink, sizeof(sink), MSG_DONTWAIT) > 0) {
        }
    }

    UniqueFd fd_of_kind(uint8_t kind) {
        static constexpr size_t ODD_SIZES[] = {0, 100, 4096, 8192 + 512};
        switch (kind % 8) {
        case 0:
            return UniqueFd(::dup(ram_.get()));
        case 1:
            return memfd_of(ODD_SIZES[(kind >> 3) % 4], "odd memfd");
        case 2:
            return UniqueFd(::dup(kept_[(kind >> 3) % KEPT_EVENTFDS].get()));
        case 3:
            return UniqueFd(::eventfd(0, EFD_CLOEXEC));
        case 4:
            return UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC));
        case 5: { // the same RAM, but a mapping PROT_WRITE of it must fail
            const std::string self = "/proc/self/fd/" + std::to_string(ram_.get());
            return UniqueFd(::open(self.c_str(), O_RDONLY | O_CLOEXEC));
        }
        case 6: { // a pipe's read end whose writer is gone: always readable, never data
            int p[2];
            if (::pipe2(p, O_CLOEXEC) != 0) {
                std::abort();
            }
            ::close(p[1]);
            return UniqueFd(p[0]);
        }
        default:
            return UniqueFd(::open(world_.dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        }
    }

    Device& device_;
    EventLoop& loop_;
    World& world_;
    UniqueFd ram_;
    UniqueFd kept_[KEPT_EVENTFDS];
    UniqueFd ours_, theirs_;
    std::unique_ptr<BackendSession> session_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World& world = *new World; // never destroyed: no teardown after libFuzzer's exit()
    if (size < 1) {
        return 0;
    }
    Input in(data, size);
    auto loop = EventLoop::create().value();
    std::unique_ptr<Device> device = device_for(in.byte(), world);
    {
        Frontend frontend(*device, *loop, world);
        for (int n = 0; n < MAX_RECORDS && !in.empty(); ++n) {
            switch (in.byte() % 4) {
            case 0:
                frontend.send_message(in);
                break;
            case 1:
                frontend.kick(in.byte());
                break;
            case 2:
                frontend.poke(in);
                break;
            default:
                frontend.reconnect();
                break;
            }
        }
    }
    return 0;
}
