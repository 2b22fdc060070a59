// broker_bench: the broker's data paths driven by the in-process virtqueue driver (no
// guest) against their raw baselines, in one run: blk sequential read MB/s and 4 KiB
// random read IOPS vs pread on the same file, vsock stream MB/s vs a Unix socket pair.
// Prints a Markdown table. Not a ctest entry (scripts/bench/broker.sh runs it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "broker/devices/blk/device.hpp"
#include "broker/devices/vsock/device.hpp"
#include "broker/devices/vsock/handshake.hpp"
#include "broker/testing/device_harness.hpp"

using namespace runvm;
using namespace runvm::broker;
using namespace runvm::broker::testing;
using Clock = std::chrono::steady_clock;

namespace {

// CPU seconds of the whole process (driver and broker threads alike).
double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Rate per wall second and per CPU second of one measured run.
struct Rate {
    double wall;
    double cpu;
};

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

[[noreturn]] void die(const Error& e) {
    std::fprintf(stderr, "broker_bench: %s\n", e.str().c_str());
    std::exit(1);
}

template <typename T>
T must(Result<T> r) {
    if (!r) {
        die(r.error());
    }
    return std::move(*r);
}

struct Row {
    const char* what;
    Rate broker;
    Rate baseline;
};

// BENCH_IMMEDIATE_INTERRUPTS=1: the blk driver asks for an interrupt at the first
// completion (virtqueue_enable_cb) instead of at 3/4 of those in flight.
bool immediate_interrupts() {
    static const bool on = std::getenv("BENCH_IMMEDIATE_INTERRUPTS") != nullptr;
    return on;
}

// pread baseline: `ops` reads of `chunk` at offsets from `next`.
// Rotates over `buffers` destinations, as the broker's requests do.
template <typename Next>
Rate pread_rate(int fd, size_t chunk, uint64_t ops, unsigned buffers, Next next) {
    std::vector<uint8_t> buf(chunk * buffers);
    const auto t = Clock::now();
    const double c = cpu_seconds();
    for (uint64_t i = 0; i < ops; ++i) {
        uint8_t* dst = buf.data() + (i % buffers) * chunk;
        if (::pread(fd, dst, chunk, static_cast<off_t>(next(i))) != static_cast<ssize_t>(chunk)) {
            die(Error::from_errno("pread baseline"));
        }
    }
    const double ops_d = static_cast<double>(ops);
    return {ops_d / seconds_since(t), ops_d / (cpu_seconds() - c)};
}

// The same reads through the broker: `depth` requests in flight on one ring.
template <typename Next>
Rate broker_rate(DeviceHarness& h, size_t chunk, uint64_t ops, unsigned depth, Next next) {
    VirtqueueDriver& q = h.ring(0);
    TestGuestMemory& m = h.memory();
    struct Slot {
        uint64_t hdr, data, status;
    };
    std::vector<Slot> slots(depth);
    for (auto& s : slots) {
        s = {m.alloc(16), m.alloc(chunk, 4096), m.alloc(1)};
    }
    std::vector<int> slot_of(q.size(), -1);
    uint64_t issued = 0, done = 0;
    auto issue = [&](unsigned slot) {
        const Slot& s = slots[slot];
        const uint32_t type = blk::T_IN;
        const uint64_t sector = next(issued++) / 512;
        std::memcpy(m.host(s.hdr), &type, 4);
        std::memset(m.host(s.hdr) + 4, 0, 4);
        std::memcpy(m.host(s.hdr) + 8, &sector, 8);
        const DriverBuffer buffers[] = {
            {s.hdr, 16, false}, {s.data, static_cast<uint32_t>(chunk), true}, {s.status, 1, true}};
        auto head = q.add(buffers, 3);
        slot_of[*head] = static_cast<int>(slot);
    };
    // The first 2 * depth requests are not timed: they fault the fresh buffers into both
    // mappings of guest RAM, which the baseline's buffer (zero-filled) never pays for.
    const uint64_t warmup = 2ULL * depth;
    ops += warmup;
    auto t = Clock::now();
    double c = cpu_seconds();
    for (unsigned i = 0; i < depth && issued < ops; ++i) {
        issue(i);
    }
    if (q.publish()) {
        (void)h.frontend().kick(0);
    }
    while (done < ops) {
        bool more = false;
        while (auto e = q.take_used()) {
            if (++done == warmup) {
                t = Clock::now();
                c = cpu_seconds();
            }
            const int slot = slot_of[e->id];
            if (*m.host(slots[static_cast<unsigned>(slot)].status) != blk::S_OK) {
                die(Error::msg("blk bench: request failed"));
            }
            if (issued < ops) {
                issue(static_cast<unsigned>(slot));
                more = true;
            }
        }
        if (more) {
            if (q.publish()) {
                (void)h.frontend().kick(0);
            }
            continue;
        }
        if (done == ops) {
            break; // all in: no interrupt to wait for
        }
        // As Linux's virtqueue_enable_cb_delayed: wake when 3/4 of those in flight are
        // done, so one wake-up refills many while the device works through the rest.
        const uint64_t in_flight = issued - done;
        if (immediate_interrupts()) {
            q.arm_interrupt();
        } else {
            q.arm_interrupt_after(static_cast<uint16_t>(std::max<uint64_t>(1, in_flight * 3 / 4)));
        }
        if (!q.has_used()) {
            (void)h.frontend().wait_call(0, 100);
        }
    }
    const double ops_d = static_cast<double>(ops - warmup);
    return {ops_d / seconds_since(t), ops_d / (cpu_seconds() - c)};
}

Rate socketpair_baseline(uint64_t total, size_t chunk) {
    int sv[2];
    ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    UniqueFd a(sv[0]), b(sv[1]);
    std::thread writer([&] {
        std::vector<uint8_t> buf(chunk, 7);
        for (uint64_t sent = 0; sent < total; sent += chunk) {
            (void)write_all(a.get(), buf.data(), chunk, "socketpair");
        }
    });
    std::vector<uint8_t> buf(chunk);
    uint64_t got = 0;
    const auto t = Clock::now();
    const double c = cpu_seconds();
    while (got < total) {
        const ssize_t n = ::read(b.get(), buf.data(), buf.size());
        if (n <= 0) {
            die(Error::from_errno("socketpair read"));
        }
        got += static_cast<uint64_t>(n);
    }
    writer.join();
    const double mb = static_cast<double>(total) / 1e6;
    return {mb / seconds_since(t), mb / (cpu_seconds() - c)};
}

// Host -> guest through the vsock device: a host client streams `total` bytes, the driver
// keeps 64 KiB receive buffers posted (as a guest with big buffers would).
Rate vsock_rate(TempDir& dir, uint64_t total, size_t chunk) {
    const std::string uds = dir.file("bench-v.sock");
    auto h = must(DeviceHarness::start(dir, must(vsock::VsockDevice::open({uds, 3})), 64 << 20));
    VirtqueueDriver* rx = must(h->start_ring(vsock::RXQ, 256));
    VirtqueueDriver* tx = must(h->start_ring(vsock::TXQ, 256));
    TestGuestMemory& m = h->memory();
    constexpr uint32_t BUF = 64 * 1024 + vsock::HEADER_BYTES;
    std::vector<uint64_t> buf_of(256);
    for (int i = 0; i < 128; ++i) {
        const uint64_t b = m.alloc(BUF, 4096);
        buf_of[*rx->add({{b, BUF, true}})] = b;
    }
    rx->publish();
    (void)h->frontend().kick(vsock::RXQ);
    UniqueFd client = must(connect_unix(uds, false));
    (void)write_all(client.get(), "CONNECT 77\n", 11, "bench client");
    // REQUEST arrives on rx; answer RESPONSE with a huge buffer so credit never stalls.
    auto take = [&]() -> std::pair<vsock::PacketHeader, uint32_t> {
        for (;;) {
            if (auto e = rx->take_used()) {
                const uint64_t b = buf_of[e->id];
                auto hd = vsock::decode_header(m.host(b));
                buf_of[*rx->add({{b, BUF, true}})] = b;
                return {hd, e->len};
            }
            rx->arm_interrupt();
            if (!rx->has_used()) {
                (void)h->frontend().wait_call(vsock::RXQ, 100);
            }
        }
    };
    auto req = take().first;
    vsock::PacketHeader resp;
    resp.src_cid = 3;
    resp.dst_cid = vsock::HOST_CID;
    resp.src_port = req.dst_port;
    resp.dst_port = req.src_port;
    resp.type = vsock::TYPE_STREAM;
    resp.op = vsock::OP_RESPONSE;
    resp.buf_alloc = 0x7fffffff;
    const uint64_t pkt = m.alloc(vsock::HEADER_BYTES);
    vsock::encode_header(resp, m.host(pkt));
    tx->add({{pkt, vsock::HEADER_BYTES, false}});
    tx->publish();
    (void)h->frontend().kick(vsock::TXQ);
    char ok[32];
    (void)::read(client.get(), ok, sizeof(ok));
    // Two passes over the posted buffers are not timed (they fault them in; the
    // baseline's buffer is zero-filled before its clock starts).
    const uint64_t warmup = 2ULL * 128 * BUF;
    std::thread writer([&] {
        std::vector<uint8_t> data(chunk, 9);
        for (uint64_t sent = 0; sent < total + warmup; sent += chunk) {
            (void)write_all(client.get(), data.data(), chunk, "bench client");
        }
    });
    uint64_t got = 0;
    auto t = Clock::now();
    double c = cpu_seconds();
    bool timing = false;
    uint64_t timed_from = 0;
    unsigned since_publish = 0;
    while (got < total + warmup) {
        auto [hd, len] = take();
        if (hd.op == vsock::OP_RW) {
            got += hd.len;
        }
        if (!timing && got >= warmup) {
            timing = true;
            timed_from = got;
            t = Clock::now();
            c = cpu_seconds();
        }
        if (++since_publish >= 16) {
            if (rx->publish()) {
                (void)h->frontend().kick(vsock::RXQ);
            }
            since_publish = 0;
        }
    }
    writer.join();
    const double mb = static_cast<double>(got - timed_from) / 1e6;
    return {mb / seconds_since(t), mb / (cpu_seconds() - c)};
}

} // namespace

// Medians of each field over rounds: the machine is shared, single runs are noisy.
Rate median(std::vector<Rate> v) {
    auto mid = [&](auto field) {
        std::vector<double> x;
        for (const auto& r : v) {
            x.push_back(field(r));
        }
        std::sort(x.begin(), x.end());
        return x[x.size() / 2];
    };
    return {mid([](const Rate& r) { return r.wall; }), mid([](const Rate& r) { return r.cpu; })};
}

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const uint64_t image_mb = argc > 1 ? std::stoull(argv[1]) : 256;
    const int rounds = argc > 2 ? std::stoi(argv[2]) : 3;
    // Optional third argument: which paths to run (seq, rand, vsock; default all), for
    // profiling one path at a time.
    const std::string only = argc > 3 ? argv[3] : "seq,rand,vsock";
    auto wanted = [&](const char* path) { return only.find(path) != std::string::npos; };
    TempDir dir = must(TempDir::create("runvm-broker-bench"));
    const std::string image = dir.file("bench.img");
    {
        UniqueFd fd(::open(image.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
        std::vector<uint8_t> block(1 << 20);
        std::mt19937_64 rng(1);
        for (auto& b : block) {
            b = static_cast<uint8_t>(rng());
        }
        for (uint64_t i = 0; i < image_mb; ++i) {
            (void)write_all(fd.get(), block.data(), block.size(), "bench image");
        }
    }
    const uint64_t bytes = image_mb << 20;
    UniqueFd raw(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
    blk::BlkOptions o;
    o.path = image;
    o.read_only = true;
    auto h = must(DeviceHarness::start(dir, must(blk::BlkDevice::open(o)), 256 << 20));
    (void)must(h->start_ring(0, 256));

    constexpr size_t SEQ = 128 * 1024;
    const uint64_t seq_ops = bytes / SEQ;
    auto seq = [&](uint64_t i) { return (i % seq_ops) * SEQ; };
    auto to_mb = [](Rate r) { return Rate{r.wall * SEQ / 1e6, r.cpu * SEQ / 1e6}; };
    std::mt19937_64 rng(7);
    std::vector<uint64_t> offsets(200000);
    for (auto& off : offsets) {
        off = (rng() % (bytes / 4096)) * 4096;
    }
    auto rnd = [&](uint64_t i) { return offsets[i % offsets.size()]; };
    const uint64_t stream = 256ULL << 20;
    (void)pread_rate(raw.get(), SEQ, seq_ops, 32, seq); // warm the page cache
    std::vector<Rate> m[6];
    for (int round = 0; round < rounds; ++round) {
        // Broker and baseline interleaved, so both see the same load.
        if (wanted("seq")) {
            m[0].push_back(to_mb(pread_rate(raw.get(), SEQ, seq_ops * 2, 32, seq)));
            m[1].push_back(to_mb(broker_rate(*h, SEQ, seq_ops * 2, 32, seq)));
        }
        if (wanted("rand")) {
            m[2].push_back(pread_rate(raw.get(), 4096, offsets.size(), 32, rnd));
            m[3].push_back(broker_rate(*h, 4096, offsets.size(), 32, rnd));
        }
        if (wanted("vsock")) {
            m[4].push_back(socketpair_baseline(stream, 64 * 1024));
            m[5].push_back(vsock_rate(dir, stream, 64 * 1024));
        }
    }
    const char* names[] = {"blk sequential read, 128 KiB, 32 in flight (MB/s)",
                           "blk 4 KiB random read, 32 in flight (IOPS)",
                           "vsock host -> guest stream, 64 KiB (MB/s)"};
    std::vector<Row> rows;
    for (int i = 0; i < 3; ++i) {
        if (!m[2 * i].empty()) {
            rows.push_back({names[i], median(m[2 * i + 1]), median(m[2 * i])});
        }
    }
    std::printf("Median of %d interleaved rounds, image %llu MiB.\n\n", rounds,
                static_cast<unsigned long long>(image_mb));
    std::printf("| path | broker (wall) | baseline (wall) | wall ratio | broker per CPU-s | "
                "baseline per CPU-s | CPU ratio |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows) {
        std::printf("| %s | %.0f | %.0f | %.0f%% | %.0f | %.0f | %.0f%% |\n", r.what, r.broker.wall,
                    r.baseline.wall, 100.0 * r.broker.wall / r.baseline.wall, r.broker.cpu,
                    r.baseline.cpu, 100.0 * r.broker.cpu / r.baseline.cpu);
    }
    return 0;
}
