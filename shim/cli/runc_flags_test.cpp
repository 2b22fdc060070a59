// runc's flag syntaxes: Go durations, go-units sizes, update's resource flags.
#define BOOST_TEST_MODULE cli_support
#include <boost/test/unit_test.hpp>

#include "shim/cli/runc_flags.hpp"

using namespace runvm::cli;
using namespace std::chrono_literals;

namespace {
const UpdateFlag& flag(std::string_view name) {
    for (const auto& f : update_flags()) {
        if (std::string_view(f.names).find(name) != std::string_view::npos) {
            return f;
        }
    }
    throw std::runtime_error("no flag " + std::string(name));
}
} // namespace

BOOST_AUTO_TEST_CASE(go_durations) {
    BOOST_TEST(parse_go_duration("1s").value().count() == std::chrono::nanoseconds(1s).count());
    BOOST_TEST(parse_go_duration("500ms").value().count() == 500'000'000);
    BOOST_TEST(parse_go_duration("2m").value().count() == 120'000'000'000);
    BOOST_TEST(parse_go_duration("1m30s").value().count() == 90'000'000'000);
    BOOST_TEST(parse_go_duration("1.5h").value().count() == 5'400'000'000'000);
    BOOST_TEST(parse_go_duration("0").value().count() == 0);
    BOOST_TEST(parse_go_duration("-2s").value().count() == -2'000'000'000);
    BOOST_TEST(parse_go_duration("10us").value().count() == 10'000);
    BOOST_TEST(parse_go_duration("10\u00b5s").value().count() == 10'000);
    BOOST_TEST(parse_go_duration(".5s").value().count() == 500'000'000);
    for (const char* junk : {"", "5", "abc", "1x", "s", "1s2", "1..5s", "+", "9999999999h"}) {
        BOOST_TEST_INFO(junk);
        BOOST_TEST(!parse_go_duration(junk));
    }
    BOOST_TEST(parse_go_duration("5").error().message().find("missing unit") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ram_sizes) {
    BOOST_TEST(parse_ram_in_bytes("64m").value() == 64 << 20);
    BOOST_TEST(parse_ram_in_bytes("64M").value() == 64 << 20);
    BOOST_TEST(parse_ram_in_bytes("1g").value() == int64_t{1} << 30);
    BOOST_TEST(parse_ram_in_bytes("1.5GiB").value() == int64_t{3} << 29);
    BOOST_TEST(parse_ram_in_bytes("100").value() == 100);
    BOOST_TEST(parse_ram_in_bytes("64 kb").value() == 64 << 10);
    BOOST_TEST(parse_ram_in_bytes("2t").value() == int64_t{2} << 40);
    for (const char* junk : {"", "-1", "m", "64x", "1.g", "64mm", "1e3", " 64m", "64m "}) {
        BOOST_TEST_INFO(junk);
        BOOST_TEST(!parse_ram_in_bytes(junk));
    }
}

BOOST_AUTO_TEST_CASE(update_flags_build_linux_resources) {
    nlohmann::json r = nlohmann::json::object();
    BOOST_TEST(apply_update_flag(flag("--memory"), "64m", r).ok());
    BOOST_TEST(apply_update_flag(flag("--memory-swap"), "-1", r).ok());
    BOOST_TEST(apply_update_flag(flag("--pids-limit"), "10", r).ok());
    BOOST_TEST(apply_update_flag(flag("--cpu-shares"), "512", r).ok());
    BOOST_TEST(apply_update_flag(flag("--cpu-quota"), "-1", r).ok());
    BOOST_TEST(apply_update_flag(flag("--cpuset-cpus"), "0-1", r).ok());
    BOOST_TEST(apply_update_flag(flag("--blkio-weight"), "500", r).ok());
    BOOST_TEST(apply_update_flag(flag("--memory-reservation"), "", r).ok()); // unset
    const auto want = nlohmann::json::parse(R"({
        "memory": {"limit": 67108864, "swap": -1},
        "pids": {"limit": 10},
        "cpu": {"shares": 512, "quota": -1, "cpus": "0-1"},
        "blockIO": {"weight": 500}})");
    BOOST_TEST(r == want, r.dump());
}

BOOST_AUTO_TEST_CASE(update_flags_refuse_bad_values_naming_the_flag) {
    nlohmann::json r = nlohmann::json::object();
    const struct {
        const char* flag;
        const char* value;
    } bad[] = {{"--memory", "lots"},     {"--memory", "-2"},      {"--pids-limit", "ten"},
               {"--cpu-period", "-1"},   {"--blkio-weight", "5"}, {"--cpu-quota", "1.5"},
               {"--kernel-memory", "1q"}};
    for (const auto& b : bad) {
        auto res = apply_update_flag(flag(b.flag), b.value, r);
        BOOST_TEST_INFO(b.flag << " " << b.value);
        BOOST_REQUIRE(!res);
        BOOST_TEST(res.error().message().find(std::string("invalid value for ") + b.flag) == 0u,
                   res.error().message());
    }
    BOOST_TEST(r == nlohmann::json::object());
    // runc: --pids-limit 0 leaves the limit alone.
    BOOST_TEST(apply_update_flag(flag("--pids-limit"), "0", r).ok());
    BOOST_TEST(r == nlohmann::json::object());
}
