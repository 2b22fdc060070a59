// Unit tests for base/: Result, UniqueFd, Mapping, I/O helpers.
#define BOOST_TEST_MODULE base
#include <regex>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/scope_guard.hpp"
#include "base/step_clock.hpp"
#include "base/text.hpp"
#include "base/unique_fd.hpp"

using namespace runvm;

namespace {
Result<int> parse_positive(int v) {
    if (v <= 0) {
        return Err(Error::msg("value: must be positive"));
    }
    return v;
}
Result<int> twice(int v) {
    RUNVM_ASSIGN_OR_RETURN(int x, parse_positive(v));
    return x * 2;
}
} // namespace

BOOST_AUTO_TEST_CASE(result_carries_value_or_error) {
    BOOST_TEST(twice(4).value() == 8);
    auto r = twice(-1);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error().message() == "value: must be positive");
    BOOST_TEST(r.error().context("config").message() == "config: value: must be positive");
}

BOOST_AUTO_TEST_CASE(error_names_errno) {
    errno = ENOENT;
    Error e = Error::from_errno("open /nope");
    BOOST_TEST(e.code() == ENOENT);
    BOOST_TEST(e.str() == "open /nope: No such file or directory");
}

BOOST_AUTO_TEST_CASE(unique_fd_closes_on_drop_and_keeps_errno) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    {
        UniqueFd r(fds[0]);
        UniqueFd w(fds[1]);
        UniqueFd moved = std::move(w);
        BOOST_TEST(!w.valid());
        BOOST_TEST(moved.get() == fds[1]);
        errno = EAGAIN;
    }
    BOOST_TEST(errno == EAGAIN);
    BOOST_TEST(::fcntl(fds[0], F_GETFD) == -1);
    BOOST_TEST(::fcntl(fds[1], F_GETFD) == -1);
}

BOOST_AUTO_TEST_CASE(unique_fd_release_gives_up_ownership) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    int raw;
    {
        UniqueFd r(fds[0]);
        raw = r.release();
    }
    BOOST_TEST(::fcntl(raw, F_GETFD) != -1);
    ::close(raw);
    ::close(fds[1]);
}

BOOST_AUTO_TEST_CASE(scope_guard_rolls_back_unless_dismissed) {
    int undone = 0;
    {
        ScopeGuard g([&] { ++undone; });
    }
    {
        ScopeGuard g([&] { ++undone; });
        g.dismiss();
    }
    BOOST_TEST(undone == 1);
}

BOOST_AUTO_TEST_CASE(mapping_maps_and_unmaps) {
    auto m = Mapping::map(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "anon");
    BOOST_REQUIRE(m.ok());
    m->data()[0] = 42;
    BOOST_TEST(m->data()[4095] == 0);
    auto bad = Mapping::map(4096, PROT_READ, MAP_SHARED, 12345, 0, "bad fd");
    BOOST_TEST(!bad.ok());
    BOOST_TEST(bad.error().message() == "mmap bad fd");
}

BOOST_AUTO_TEST_CASE(atomic_write_and_read_back) {
    char dir[] = "/tmp/runvm-base-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/f";
    BOOST_REQUIRE(write_file_atomic(path, "hello", 0600).ok());
    auto back = read_file(path);
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(*back == "hello");
    BOOST_TEST(!read_file(std::string(dir) + "/missing").ok());
    ::unlink(path.c_str());
    ::rmdir(dir);
}

BOOST_AUTO_TEST_CASE(read_exact_reports_eof_and_short_reads) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    UniqueFd r(fds[0]);
    UniqueFd w(fds[1]);
    BOOST_REQUIRE(write_all(w.get(), "abc", 3, "pipe").ok());
    w.reset();
    char buf[8];
    auto got = read_exact(r.get(), buf, 2, "pipe");
    BOOST_TEST((got.ok() && *got));
    auto partial = read_exact(r.get(), buf, 2, "pipe");
    BOOST_TEST(!partial.ok());
    auto eof = read_exact(r.get(), buf, 2, "pipe");
    BOOST_TEST((eof.ok() && !*eof));
}

BOOST_AUTO_TEST_CASE(split_keeps_empty_fields) {
    const auto f = split("root:x:0:0::/root:", ':');
    BOOST_TEST(f.size() == 7u);
    BOOST_TEST(f[2] == "0");
    BOOST_TEST(f[4].empty());
    BOOST_TEST(f[5] == "/root");
    BOOST_TEST(f[6].empty());
    BOOST_TEST(split("", ':').size() == 1u);
}

BOOST_AUTO_TEST_CASE(words_skip_every_kind_of_blank) {
    const auto w = words("  cpu\tmemory\n pids\r\n");
    BOOST_TEST(w.size() == 3u);
    BOOST_TEST(w[0] == "cpu");
    BOOST_TEST(w[1] == "memory");
    BOOST_TEST(w[2] == "pids");
    BOOST_TEST(words(" \n\t").empty());
}

BOOST_AUTO_TEST_CASE(parse_u64_takes_only_whole_numbers) {
    BOOST_TEST(parse_u64("0").value() == 0u);
    BOOST_TEST(parse_u64("18446744073709551615").value() == UINT64_MAX);
    BOOST_TEST(!parse_u64("18446744073709551616").has_value());
    BOOST_TEST(!parse_u64("max").has_value());
    BOOST_TEST(!parse_u64("12x").has_value());
    BOOST_TEST(!parse_u64("-1").has_value());
    BOOST_TEST(!parse_u64("").has_value());
}

BOOST_AUTO_TEST_CASE(parse_keyed_reads_cgroup_flat_keyed_files) {
    const auto k = parse_keyed("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\nbad x\nthree a b\n");
    BOOST_TEST(k.size() == 5u);
    BOOST_TEST(k.at("oom_kill") == 2u);
    BOOST_TEST(k.at("max") == 3u);
    BOOST_TEST(k.count("bad") == 0u);
}

BOOST_AUTO_TEST_CASE(hex_round_trips_every_byte_and_refuses_bad_digits) {
    std::string all;
    for (int b = 0; b < 256; ++b) {
        all.push_back(static_cast<char>(b));
    }
    const std::string hex = hex_encode(all);
    BOOST_TEST(hex.size() == 512u);
    BOOST_TEST(hex.substr(0, 6) == "000102");
    BOOST_TEST(hex.substr(508) == "feff");
    BOOST_TEST((hex_decode(hex) == all));
    BOOST_TEST((hex_decode("0A0b") == std::string("\x0a\x0b")));
    BOOST_TEST(!hex_decode("abc"));
    BOOST_TEST(!hex_decode("0g"));
    BOOST_TEST(!hex_decode(" 0"));
    BOOST_TEST((hex_decode("") == std::string()));
}

BOOST_AUTO_TEST_CASE(step_clock_names_each_lap_in_tenths_of_a_ms) {
    StepClock steps;
    BOOST_TEST(steps.str().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(12));
    steps.lap("spec");
    steps.lap("launch");
    const std::string s = steps.str();
    std::smatch m;
    BOOST_REQUIRE_MESSAGE(
        std::regex_match(s, m, std::regex(R"(spec (\d+)\.\d ms, launch \d+\.\d ms)")), s);
    BOOST_TEST(std::stoi(m[1]) >= 12);
}
