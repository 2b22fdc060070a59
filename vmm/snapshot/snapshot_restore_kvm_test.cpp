// The real runvm-vmm, end to end: a real-mode guest counts on the serial port (1, 2, 3, ...
// as hex lines, the count in RAM: vmm/tests/counter.S); the control socket's `snapshot DIR`
// saves it and lets it run on, `snapshot-and-stop DIR` saves it and ends the process, and
// `runvm-vmm --restore DIR` in a new process goes on counting from where the snapshot
// stopped, not from 1. A VM with the real broker's blk device restores on a fresh broker at
// the saved ring position. A last case times restore against a cold start of the same guest.
// Needs /dev/kvm (tiny guests run on this host's kvm_pvm): exits 77 without a usable one.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOST_TEST_MODULE vmm_snapshot_restore
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

namespace runvm::vmm {

namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
T must(Result<T> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().str()));
    return std::move(*r);
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/vmm-snaprestore.XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// What the counter guest writes from its start: "00000001\n00000002\n...".
std::string counting(uint32_t lines) {
    std::string out;
    char buf[16];
    for (uint32_t i = 1; i <= lines; ++i) {
        std::snprintf(buf, sizeof buf, "%08X\n", i);
        out += buf;
    }
    return out;
}

size_t file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

// Polls (100 µs) until `path` holds at least `bytes` bytes; the time it took.
std::optional<Clock::duration> wait_for_bytes(const std::string& path, size_t bytes,
                                              Clock::time_point since, int timeout_ms = 10000) {
    const auto deadline = since + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        if (file_size(path) >= bytes) {
            return Clock::now() - since;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return std::nullopt;
}

// One request on the control socket, the whole answer back.
std::string control(const std::string& socket, const std::string& request) {
    for (int i = 0; i < 200 && !std::filesystem::exists(socket); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    UniqueFd fd = must(connect_unix(socket, false));
    BOOST_REQUIRE(write_all(fd.get(), request.data(), request.size(), "control").ok());
    std::string reply;
    char buf[512];
    pollfd p{fd.get(), POLLIN, 0};
    while (::poll(&p, 1, 10000) == 1) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        reply.append(buf, static_cast<size_t>(n));
    }
    return reply;
}

struct Vmm {
    ChildProcess process;
    std::string serial;
    std::string socket;
    std::string log;
    Clock::time_point started;

    // `how`: {"--kernel", guest, "--kernel-format", "raw16"} or {"--restore", dir}.
    static Vmm start(const std::string& dir, const std::string& name,
                     std::vector<std::string> how) {
        Vmm v;
        v.serial = dir + "/" + name + ".serial";
        v.socket = dir + "/" + name + ".sock";
        v.log = dir + "/" + name + ".log";
        std::vector<std::string> argv = {RUNVM_VMM_BIN, "--memory-mib",     "16",    "--serial-log",
                                         v.serial,      "--control-socket", v.socket};
        argv.insert(argv.end(), how.begin(), how.end());
        v.started = Clock::now();
        v.process = must(ChildProcess::spawn(argv, {.die_with_parent = true,
                                                    .stdin_null = true,
                                                    .stdout_path = v.log,
                                                    .stderr_path = v.log}));
        return v;
    }
    static Vmm cold(const std::string& dir, const std::string& name) {
        return start(dir, name, {"--kernel", RUNVM_COUNTER_GUEST, "--kernel-format", "raw16"});
    }

    int wait_exit() {
        auto status = must(process.wait_for(5000));
        BOOST_REQUIRE_MESSAGE(status.has_value(), "runvm-vmm still running: " + slurp(log));
        BOOST_REQUIRE_MESSAGE(WIFEXITED(*status), "runvm-vmm killed by a signal: " + slurp(log));
        return WEXITSTATUS(*status);
    }
    void stop() {
        BOOST_TEST(control(socket, "stop\n") == "ok\n");
        BOOST_TEST(wait_exit() == 143);
    }
};

uint64_t ok_bytes(const std::string& reply) {
    BOOST_REQUIRE_MESSAGE(reply.starts_with("ok "), "reply: " + reply);
    return std::stoull(reply.substr(3));
}

void check_private_file(const std::string& path) {
    struct stat st {};
    BOOST_REQUIRE_MESSAGE(::stat(path.c_str(), &st) == 0, path);
    BOOST_TEST((st.st_mode & 07777) == 0600u, path);
    BOOST_TEST(S_ISREG(st.st_mode));
}

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// runvm-vmm's own "first KVM_RUN: N ms wall" (from its main()).
double first_run_ms(const std::string& log) {
    const std::string key = "first KVM_RUN: ";
    const size_t at = log.find(key);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, log);
    return std::stod(log.substr(at + key.size()));
}

} // namespace

BOOST_AUTO_TEST_CASE(a_restored_guest_counts_on_where_the_snapshot_stopped) {
    TempDir dir;
    const std::string live = dir.path + "/live", stopped = dir.path + "/stopped";
    std::filesystem::create_directory(live);
    std::filesystem::create_directory(stopped);

    Vmm a = Vmm::cold(dir.path, "a");
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(a.serial, 20 * 9, a.started), slurp(a.log));
    const uint64_t live_bytes = ok_bytes(control(a.socket, "snapshot " + live + "\n"));
    // The VM was resumed: it goes on counting and answering.
    const size_t after_live = file_size(a.serial);
    BOOST_TEST(wait_for_bytes(a.serial, after_live + 10 * 9, Clock::now()).has_value());
    BOOST_TEST(control(a.socket, "status\n") == "running\n");
    const uint64_t stopped_bytes = ok_bytes(control(a.socket, "snapshot-and-stop " + stopped));
    BOOST_TEST(a.wait_exit() == 143);
    BOOST_TEST(live_bytes > 0u);
    BOOST_TEST(stopped_bytes == live_bytes); // the same pages hold data, the same state size
    const std::string a_out = slurp(a.serial);
    // Far more than the three VMs print, however slowly the stop requests arrive.
    const std::string expected = counting(200000);
    BOOST_TEST_REQUIRE(expected.starts_with(a_out));

    for (const std::string& d : {live, stopped}) {
        check_private_file(d + "/state");
        check_private_file(d + "/memory");
        struct stat st {};
        BOOST_REQUIRE(::stat((d + "/memory").c_str(), &st) == 0);
        BOOST_TEST(st.st_size == 16 << 20);
        BOOST_TEST(st.st_blocks * 512 < 1 << 20); // sparse: a few pages of 16 MiB hold data
        BOOST_TEST(!std::filesystem::exists(d + "/memory.tmp"));
        BOOST_TEST(!std::filesystem::exists(d + "/state.tmp"));
    }

    // From the stopped snapshot: A's output and B's together are one unbroken count.
    Vmm b = Vmm::start(dir.path, "b", {"--restore", stopped});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(b.serial, 20 * 9, b.started), slurp(b.log));
    b.stop();
    const std::string b_out = slurp(b.serial);
    BOOST_TEST(!b_out.starts_with("00000001"));
    const std::string joined = a_out + b_out;
    BOOST_TEST(expected.starts_with(joined), "a ended with '" << a_out.substr(a_out.size() - 18)
                                                              << "', b began with '"
                                                              << b_out.substr(0, 18) << "'");

    // From the live snapshot: C's output takes up the count at a point inside A's output.
    Vmm c = Vmm::start(dir.path, "c", {"--restore", live});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(c.serial, 20 * 9, c.started), slurp(c.log));
    c.stop();
    const std::string c_out = slurp(c.serial);
    const size_t at = expected.find(c_out);
    BOOST_TEST_REQUIRE(at != std::string::npos, "c began with '" << c_out.substr(0, 18) << "'");
    BOOST_TEST(at >= 20u * 9);
    BOOST_TEST(at <= after_live);
}

// Every vCPU is paused and saved: the second one waits for INIT/SIPI in its in-kernel LAPIC
// (inside KVM_RUN until the kick), and the restored VM has two again.
BOOST_AUTO_TEST_CASE(two_vcpus_are_paused_saved_and_restored) {
    TempDir dir;
    const std::string snap = dir.path + "/snap";
    std::filesystem::create_directory(snap);
    Vmm a =
        Vmm::start(dir.path, "a",
                   {"--kernel", RUNVM_COUNTER_GUEST, "--kernel-format", "raw16", "--vcpus", "2"});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(a.serial, 20 * 9, a.started), slurp(a.log));
    ok_bytes(control(a.socket, "snapshot-and-stop " + snap + "\n"));
    BOOST_TEST(a.wait_exit() == 143);
    Vmm b = Vmm::start(dir.path, "b", {"--restore", snap});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(b.serial, 20 * 9, b.started), slurp(b.log));
    b.stop();
    BOOST_TEST(slurp(b.log).find("restored from " + snap + ": 2 vCPU, 16 MiB") !=
               std::string::npos);
    BOOST_TEST(counting(200000).starts_with(slurp(a.serial) + slurp(b.serial)));
}

BOOST_AUTO_TEST_CASE(damaged_snapshots_are_refused) {
    TempDir dir;
    const std::string snap = dir.path + "/snap";
    std::filesystem::create_directory(snap);
    Vmm a = Vmm::cold(dir.path, "a");
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(a.serial, 9, a.started), slurp(a.log));
    ok_bytes(control(a.socket, "snapshot-and-stop " + snap + "\n"));
    BOOST_TEST(a.wait_exit() == 143);
    // Into a directory that does not exist: an error answer, and the VM runs on.
    Vmm b = Vmm::cold(dir.path, "b");
    const std::string reply = control(b.socket, "snapshot " + dir.path + "/none\n");
    BOOST_TEST(reply.starts_with("error snapshot " + dir.path + "/none: open "), reply);
    BOOST_TEST(control(b.socket, "status\n") == "running\n");
    b.stop();

    const auto refused = [&](const std::string& name, const std::string& why) {
        Vmm r = Vmm::start(dir.path, name, {"--restore", snap});
        BOOST_TEST(r.wait_exit() == 1);
        BOOST_TEST(slurp(r.log).find(why) != std::string::npos, slurp(r.log));
    };
    std::string state = slurp(snap + "/state");
    state[state.size() / 2] = static_cast<char>(state[state.size() / 2] ^ 1);
    std::ofstream(snap + "/state.bad", std::ios::binary) << state;
    std::filesystem::rename(snap + "/state", snap + "/state.good");
    std::filesystem::rename(snap + "/state.bad", snap + "/state");
    refused("corrupt", "checksum mismatch");
    std::filesystem::rename(snap + "/state.good", snap + "/state");
    BOOST_REQUIRE(::truncate((snap + "/memory").c_str(), 8 << 20) == 0);
    refused("short", "not a regular file of the 16777216 bytes");
}

namespace {

// A blk ring in the counter guest's RAM, above the 1 MiB it can reach in real mode.
constexpr uint64_t kDesc = 0x800000, kAvail = 0x801000, kUsed = 0x802000, kBufs = 0x803000;
constexpr uint16_t kQueueSize = 16;

struct Broker {
    ChildProcess process;
    std::string socket;
    std::string log;
    static Broker start(const std::string& dir, const std::string& name, const std::string& disk) {
        Broker b;
        b.socket = dir + "/" + name + ".sock";
        b.log = dir + "/" + name + ".log";
        b.process = must(ChildProcess::spawn(
            {RUNVM_BROKER_BIN, "--log-level", "debug", "--blk", b.socket + ",path=" + disk},
            {.die_with_parent = true,
             .stdin_null = true,
             .stdout_path = b.log,
             .stderr_path = b.log}));
        for (int i = 0; i < 500 && !std::filesystem::exists(b.socket); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return b;
    }
};

size_t count(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

std::string sector(const std::string& disk, uint64_t n) {
    return slurp(disk).substr(n * 512, 512);
}

// Writes `value` at guest-physical `gpa` of a snapshot's memory file (RAM below 3 GiB is at
// the same offset in the memfd, and so in the file).
template <typename T>
void poke(int fd, uint64_t gpa, const T& value) {
    BOOST_REQUIRE(::pwrite(fd, &value, sizeof value, static_cast<off_t>(gpa)) ==
                  static_cast<ssize_t>(sizeof value));
}

// The counter guest cannot drive virtio, so the test plays its driver in the snapshot: the
// blk transport activated with queue 0 at kDesc/kAvail/kUsed, the broker having taken 5
// requests (all on the used ring) and two more available after them: writes of 'B' to
// sector 10 and 'C' to sector 11. Entries 0-4 name a write of 'A' to sector 12 that a
// restore must not repeat.
void activate_in_snapshot(const std::string& snap) {
    snapshot::Snapshot s = must(snapshot::decode_snapshot(
        std::span(reinterpret_cast<const uint8_t*>(slurp(snap + "/state").data()),
                  file_size(snap + "/state"))));
    BOOST_REQUIRE(s.devices.transports.size() == 1u);
    snapshot::TransportState& t = s.devices.transports[0];
    BOOST_REQUIRE(!t.activated);
    t.status = 15; // ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK
    t.driver_features = 1ull << 32;
    t.activated = true;
    t.queues[0].size = kQueueSize;
    t.queues[0].ready = true;
    t.queues[0].desc = kDesc;
    t.queues[0].driver = kAvail;
    t.queues[0].device = kUsed;
    t.queues[0].next_avail = 5;
    const std::vector<uint8_t> state = snapshot::encode_snapshot(s);
    std::ofstream(snap + "/state", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(state.data()),
               static_cast<std::streamsize>(state.size()));

    UniqueFd mem(::open((snap + "/memory").c_str(), O_RDWR | O_CLOEXEC));
    BOOST_REQUIRE(mem);
    struct Desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
    };
    struct Header {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    };
    const auto write_request = [&](uint16_t head, uint64_t sector_no, char fill) {
        const uint64_t header = kBufs + 0x1000ull * head, data = header + 0x200;
        const uint64_t status = header + 0x400;
        poke(mem.get(), header, Header{1 /* VIRTIO_BLK_T_OUT */, 0, sector_no});
        for (uint64_t i = 0; i < 512; ++i) {
            poke(mem.get(), data + i, fill);
        }
        poke(mem.get(), status, uint8_t{0xff});
        poke(mem.get(), kDesc + 16ull * head, Desc{header, 16, 1, static_cast<uint16_t>(head + 1)});
        poke(mem.get(), kDesc + 16ull * (head + 1),
             Desc{data, 512, 1, static_cast<uint16_t>(head + 2)});
        poke(mem.get(), kDesc + 16ull * (head + 2), Desc{status, 1, 2, 0});
    };
    write_request(0, 10, 'B');
    write_request(3, 11, 'C');
    write_request(6, 12, 'A');
    for (uint16_t slot = 0; slot < 5; ++slot) {
        poke(mem.get(), kAvail + 4 + 2ull * slot, uint16_t{6});
        poke(mem.get(), kUsed + 4 + 8ull * slot, uint64_t{6} | (uint64_t{1} << 32));
    }
    poke(mem.get(), kAvail + 4 + 2ull * 5, uint16_t{0});
    poke(mem.get(), kAvail + 4 + 2ull * 6, uint16_t{3});
    poke(mem.get(), kAvail + 2, uint16_t{7}); // avail idx
    poke(mem.get(), kUsed + 2, uint16_t{5});  // used idx
}

bool wait_for_sector(const std::string& disk, uint64_t n, char fill) {
    for (int i = 0; i < 500; ++i) {
        if (sector(disk, n) == std::string(512, fill)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

} // namespace

// Plan step 7 with the real runvm-broker: a VM with a vhost-user blk device snapshots; its
// restore against a fresh broker sets the device up with the saved ring base (the broker
// serves only the requests after it); a live snapshot of the restored VM stops the ring,
// saves where the broker stopped, resumes it and the VM runs on; a restore of that one on a
// third broker repeats nothing.
BOOST_AUTO_TEST_CASE(a_vm_with_a_broker_device_restores_on_a_fresh_broker_at_the_saved_ring,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return boost::unit_test::assertion_result(std::string(RUNVM_BROKER_BIN) !=
                                                                   "-");
                     })) {
    TempDir dir;
    const std::string disk = dir.path + "/disk.img";
    std::ofstream(disk).close();
    BOOST_REQUIRE(::truncate(disk.c_str(), 1 << 20) == 0);
    const std::string snap_a = dir.path + "/a", snap_b = dir.path + "/b";
    std::filesystem::create_directory(snap_a);
    std::filesystem::create_directory(snap_b);

    Broker broker_a = Broker::start(dir.path, "broker-a", disk);
    Vmm a = Vmm::start(dir.path, "a",
                       {"--kernel", RUNVM_COUNTER_GUEST, "--kernel-format", "raw16", "--device",
                        "blk=" + broker_a.socket});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(a.serial, 20 * 9, a.started), slurp(a.log));
    ok_bytes(control(a.socket, "snapshot-and-stop " + snap_a + "\n"));
    BOOST_TEST(a.wait_exit() == 143);
    activate_in_snapshot(snap_a);

    Broker broker_b = Broker::start(dir.path, "broker-b", disk);
    Vmm b = Vmm::start(
        dir.path, "b",
        {"--restore", snap_a, "--device", "blk=" + broker_b.socket, "--log-level", "debug"});
    BOOST_TEST_REQUIRE(wait_for_sector(disk, 10, 'B'), slurp(broker_b.log) + slurp(b.log));
    BOOST_TEST_REQUIRE(wait_for_sector(disk, 11, 'C'), slurp(broker_b.log) + slurp(b.log));
    BOOST_TEST(sector(disk, 12) == std::string(512, '\0')); // taken before the snapshot
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(b.serial, 20 * 9, b.started), slurp(b.log));
    BOOST_TEST(count(slurp(broker_b.log), "blk: ring 0 started, size 16, base 5") == 1u,
               slurp(broker_b.log));
    BOOST_TEST(slurp(b.log).find("restore: device 0 (blk): used-buffer interrupt") !=
                   std::string::npos,
               slurp(b.log));

    // A live snapshot of the restored VM: the broker stopped at 7, the ring resumes there.
    ok_bytes(control(b.socket, "snapshot " + snap_b + "\n"));
    const size_t after = file_size(b.serial);
    BOOST_TEST(wait_for_bytes(b.serial, after + 10 * 9, Clock::now()).has_value());
    BOOST_TEST(control(b.socket, "status\n") == "running\n");
    const std::string b_broker_log = slurp(broker_b.log);
    BOOST_TEST(count(b_broker_log, "blk: ring 0 started, size 16, base 7") == 1u, b_broker_log);
    BOOST_TEST(b_broker_log.find("device reset") == std::string::npos, b_broker_log);
    const snapshot::Snapshot saved = must(snapshot::decode_snapshot(
        std::span(reinterpret_cast<const uint8_t*>(slurp(snap_b + "/state").data()),
                  file_size(snap_b + "/state"))));
    BOOST_TEST(saved.devices.transports[0].activated);
    BOOST_TEST(saved.devices.transports[0].queues[0].next_avail == 7u);
    b.stop();

    // From the live snapshot on a third broker: requests 5 and 6 are done, nothing repeats.
    {
        std::ofstream wipe(disk, std::ios::binary | std::ios::in | std::ios::out);
        wipe.seekp(10 * 512);
        wipe << std::string(1024, '\0');
    }
    Broker broker_c = Broker::start(dir.path, "broker-c", disk);
    Vmm c = Vmm::start(dir.path, "c", {"--restore", snap_b, "--device", "blk=" + broker_c.socket});
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(c.serial, 20 * 9, c.started), slurp(c.log));
    BOOST_TEST(count(slurp(broker_c.log), "blk: ring 0 started, size 16, base 7") == 1u,
               slurp(broker_c.log));
    c.stop();
    BOOST_TEST(slurp(disk).substr(10 * 512, 3 * 512) == std::string(3 * 512, '\0'));
}

BOOST_AUTO_TEST_CASE(restore_to_first_output_against_a_cold_start) {
    TempDir dir;
    const std::string snap = dir.path + "/snap";
    std::filesystem::create_directory(snap);
    Vmm a = Vmm::cold(dir.path, "template");
    BOOST_REQUIRE_MESSAGE(wait_for_bytes(a.serial, 9, a.started), slurp(a.log));
    ok_bytes(control(a.socket, "snapshot-and-stop " + snap + "\n"));
    BOOST_TEST(a.wait_exit() == 143);

    std::vector<double> cold, restored, cold_run, restored_run;
    for (int round = 0; round < 5; ++round) {
        const std::string n = std::to_string(round);
        Vmm c = Vmm::cold(dir.path, "cold" + n);
        auto t = wait_for_bytes(c.serial, 1, c.started);
        BOOST_TEST_REQUIRE(t.has_value());
        cold.push_back(ms(*t));
        c.stop();
        cold_run.push_back(first_run_ms(slurp(c.log)));
        Vmm r = Vmm::start(dir.path, "restored" + n, {"--restore", snap});
        t = wait_for_bytes(r.serial, 1, r.started);
        BOOST_TEST_REQUIRE(t.has_value());
        restored.push_back(ms(*t));
        r.stop();
        restored_run.push_back(first_run_ms(slurp(r.log)));
    }
    for (auto* v : {&cold_run, &restored_run}) {
        std::sort(v->begin(), v->end());
    }
    std::sort(cold.begin(), cold.end());
    std::sort(restored.begin(), restored.end());
    std::printf("spawn to first serial byte, median of 5: cold start %.2f ms (%.2f-%.2f), "
                "restore %.2f ms (%.2f-%.2f)\n",
                cold[2], cold.front(), cold.back(), restored[2], restored.front(), restored.back());
    std::printf("main() to first KVM_RUN, median of 5: cold start %.2f ms, restore %.2f ms\n",
                cold_run[2], restored_run[2]);
}

} // namespace runvm::vmm

int main(int argc, char* argv[]) {
    const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::printf("vmm_snapshot_restore_test: needs /dev/kvm: skipped\n");
        return 77;
    }
    ::close(fd);
    return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
