// runvm ps's table: procps' ps -ef columns for guest processes.
#include <boost/test/unit_test.hpp>

#include "shim/cli/ps_table.hpp"

using namespace runvm::cli;

BOOST_AUTO_TEST_CASE(ps_args_pick_the_columns) {
    BOOST_TEST((ps_columns({}).value() == PsColumns::full));
    BOOST_TEST((ps_columns({"-ef"}).value() == PsColumns::full));
    BOOST_TEST((ps_columns({"-e", "-f"}).value() == PsColumns::full));
    BOOST_TEST((ps_columns({"-A"}).value() == PsColumns::brief));
    BOOST_TEST(!ps_columns({"aux"}));
    BOOST_TEST(!ps_columns({"-o", "pid"}));
}

BOOST_AUTO_TEST_CASE(tty_cpu_and_start_columns) {
    BOOST_TEST(tty_name(0) == "?");
    BOOST_TEST(tty_name((136u << 8) | 3) == "pts/3");
    BOOST_TEST(tty_name((4u << 8) | 1) == "tty1");
    BOOST_TEST(tty_name((4u << 8) | 64) == "ttyS0");
    BOOST_TEST(tty_name((5u << 8) | 1) == "console");
    BOOST_TEST(cpu_time_text(0) == "00:00:00");
    BOOST_TEST(cpu_time_text(3'723'999) == "01:02:03");
    BOOST_TEST(cpu_time_text(90'000'000) == "1-01:00:00");
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    const std::time_t now = 1'700'000'000; // 2023-11-14 22:13:20 UTC
    BOOST_TEST(start_time_text(now - 60, now) == "22:12");
    BOOST_TEST(start_time_text(now - 86400 * 3, now) == "Nov11");
    BOOST_TEST(start_time_text(now - 86400 * 365, now) == "2022");
}

BOOST_AUTO_TEST_CASE(full_table_has_ps_ef_header_and_commands) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    const std::time_t now = 1'700'000'000;
    const auto rows = std::vector<PsRow>{
        PsRow::from_json(nlohmann::json::parse(
            R"({"pid": 12, "ppid": 9, "uid": 0, "user": "root", "comm": "sleep",
                "args": ["sleep", "1000"], "tty_nr": 0, "age_ms": 120000,
                "cpu_time_ms": 30000, "state": "S"})")),
        PsRow::from_json(nlohmann::json::parse(
            R"({"pid": 7, "ppid": 1, "uid": 1000, "user": "averylongname", "comm": "sh",
                "args": [], "tty_nr": 34816, "age_ms": 5000, "cpu_time_ms": 0,
                "state": "Z"})")),
    };
    const std::string want = "UID          PID    PPID  C STIME TTY          TIME CMD\n"
                             "1000           7       1  0 22:13 pts/0    00:00:00 [sh] <defunct>\n"
                             "root          12       9 25 22:11 ?        00:00:30 sleep 1000\n";
    BOOST_TEST(ps_table(rows, PsColumns::full, now) == want);
    const std::string brief = "    PID TTY          TIME CMD\n"
                              "      7 pts/0    00:00:00 sh <defunct>\n"
                              "     12 ?        00:00:30 sleep\n";
    BOOST_TEST(ps_table(rows, PsColumns::brief, now) == brief);
}
