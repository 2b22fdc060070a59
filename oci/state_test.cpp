// Tests of container ids, timestamps, state JSON and the on-disk state store with its lock.
#define BOOST_TEST_MODULE oci_state
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "base/io.hpp"
#include "oci/container_id.hpp"
#include "oci/state.hpp"
#include "oci/state_store.hpp"
#include "oci/timestamp.hpp"

using namespace runvm::oci;
using namespace std::chrono_literals;

namespace {

struct TempRoot {
    std::string path;
    TempRoot() {
        char tmpl[] = "/tmp/runvm-state-test.XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempRoot() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

Timestamp at(int64_t ns) {
    return Timestamp(std::chrono::nanoseconds(ns));
}

State sample_state(const std::string& id) {
    State s;
    s.oci_version = "1.2.0";
    s.id = id;
    s.status = Status::created;
    s.pid = 4242;
    s.bundle = "/bundles/" + id;
    s.rootfs = "/bundles/" + id + "/rootfs";
    s.created = at(1700000000123456789);
    s.annotations = {{"io.runvm.vcpus", "2"}};
    return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(container_ids_follow_runc) {
    for (const char* ok : {"a", "abc-DEF_0.9", "x+y", "with,comma", "...", "-"}) {
        BOOST_TEST_CONTEXT(ok) {
            BOOST_TEST(validate_container_id(ok).ok());
        }
    }
    BOOST_TEST(validate_container_id(std::string(1024, 'a')).ok());
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "invalid container id: must not be empty"},
        {".", "invalid container id \".\""},
        {"..", "invalid container id \"..\""},
        {"a/b", "invalid container id \"a/b\": only letters, digits and _ + , - . are allowed"},
        {"a b", "invalid container id \"a b\": only letters, digits and _ + , - . are allowed"},
        {"ü", "invalid container id \"ü\": only letters, digits and _ + , - . are allowed"},
        {std::string(1025, 'a'), "invalid container id: longer than 1024 bytes"},
    };
    for (const auto& [id, message] : bad) {
        BOOST_TEST_CONTEXT(id) {
            auto r = validate_container_id(id);
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().message() == message);
            BOOST_TEST(r.error().code() == EINVAL);
        }
    }
}

BOOST_AUTO_TEST_CASE(timestamps_match_go_rfc3339_nano) {
    BOOST_TEST(format_rfc3339_nano(at(0)) == "1970-01-01T00:00:00Z");
    BOOST_TEST(format_rfc3339_nano(at(1700000000123456789)) == "2023-11-14T22:13:20.123456789Z");
    BOOST_TEST(format_rfc3339_nano(at(1700000000500000000)) == "2023-11-14T22:13:20.5Z");
    BOOST_TEST(format_rfc3339_nano(at(951782400000000010)) == "2000-02-29T00:00:00.00000001Z");
    BOOST_TEST(format_rfc3339_nano(at(-1)) == "1969-12-31T23:59:59.999999999Z");
    for (int64_t ns :
         {int64_t{0}, int64_t{1700000000123456789}, int64_t{-1}, int64_t{4102444799999999999}}) {
        auto back = parse_rfc3339(format_rfc3339_nano(at(ns)));
        BOOST_TEST_REQUIRE(back.ok());
        BOOST_TEST(back->time_since_epoch().count() == ns);
    }
    auto offset = parse_rfc3339("2023-11-15T00:13:20.1+02:00");
    BOOST_TEST_REQUIRE(offset.ok());
    BOOST_TEST(offset->time_since_epoch().count() == 1700000000100000000);
    for (const char* bad :
         {"2023-11-14", "2023-02-29T00:00:00Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20.Z",
          "2023-11-14T22:13:20.1234567891Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:20Zx",
          "9999-01-01T00:00:00Z"}) {
        BOOST_TEST_CONTEXT(bad) {
            BOOST_TEST(!parse_rfc3339(bad).ok());
        }
    }
}

BOOST_AUTO_TEST_CASE(state_json_has_runc_state_shape) {
    const State s = sample_state("c1");
    const auto j = state_to_json(s);
    const nlohmann::json want = {
        {"ociVersion", "1.2.0"},
        {"id", "c1"},
        {"pid", 4242},
        {"status", "created"},
        {"bundle", "/bundles/c1"},
        {"rootfs", "/bundles/c1/rootfs"},
        {"created", "2023-11-14T22:13:20.123456789Z"},
        {"owner", ""},
        {"annotations", {{"io.runvm.vcpus", "2"}}},
    };
    BOOST_TEST(j == want);
    // Bytes that are not UTF-8 (a path from argv) are written as U+FFFD, never thrown on.
    State odd_bundle = s;
    odd_bundle.bundle = "/b\xff";
    BOOST_TEST(state_to_json(odd_bundle)["bundle"].is_string());
    BOOST_TEST(serialize_state(odd_bundle).find("/b\xef\xbf\xbd") != std::string::npos);
    BOOST_TEST(validate_container_id("a\xff").error().message() ==
               "invalid container id \"a\xef\xbf\xbd\": only letters, digits and _ + , - . are "
               "allowed");

    State no_annotations = s;
    no_annotations.annotations.clear();
    BOOST_TEST(!state_to_json(no_annotations).contains("annotations"));

    State with_extra = s;
    with_extra.extra = {{"sandbox", {{"vmm_pid", 7}}}};
    auto back = parse_state(serialize_state(with_extra));
    BOOST_TEST_REQUIRE(back.ok());
    BOOST_TEST((*back == with_extra));
}

BOOST_AUTO_TEST_CASE(state_parse_errors_name_the_member) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"ociVersion":"1.0.0","id":"a","pid":1,"status":"zombie","bundle":"/b",
             "created":"2023-11-14T22:13:20Z"})",
         "status: unknown status \"zombie\""},
        {R"({"ociVersion":"1.0.0","id":"a","pid":"1","status":"running","bundle":"/b",
             "created":"2023-11-14T22:13:20Z"})",
         "pid: expected a 32-bit integer, got string"},
        {R"({"ociVersion":"1.0.0","id":"a","pid":1,"status":"running","bundle":"/b",
             "created":"yesterday"})",
         "created: invalid RFC 3339 timestamp \"yesterday\": want YYYY-MM-DDTHH:MM:SS"},
        {R"({"ociVersion":"1.0.0","id":"a","pid":-1,"status":"running","bundle":"/b",
             "created":"2023-11-14T22:13:20Z"})",
         "pid: must not be negative"},
    };
    for (const auto& [text, message] : cases) {
        BOOST_TEST_CONTEXT(text) {
            auto r = parse_state(text);
            BOOST_TEST_REQUIRE(!r.ok());
            BOOST_TEST(r.error().str() == message);
        }
    }
    for (const char* status : {"creating", "created", "running", "stopped", "paused"}) {
        BOOST_TEST(status_name(*parse_status(status)) == status);
    }
}

BOOST_AUTO_TEST_CASE(store_create_load_save_list_remove) {
    TempRoot tmp;
    StateStore store(tmp.path + "/nested/root");
    auto empty = store.list();
    BOOST_TEST_REQUIRE(empty.ok());
    BOOST_TEST(empty->empty());

    State a = sample_state("a");
    BOOST_TEST_REQUIRE(store.create(a).ok());
    BOOST_TEST_REQUIRE(store.create(sample_state("b")).ok());
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(store.state_path("a").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);

    auto again = store.create(a);
    BOOST_TEST_REQUIRE(!again.ok());
    BOOST_TEST(again.error().code() == EEXIST);
    BOOST_TEST(again.error().message() == "container \"a\"");

    auto loaded = store.load("a");
    BOOST_TEST_REQUIRE(loaded.ok());
    BOOST_TEST((*loaded == a));

    a.status = Status::running;
    a.pid = 99;
    BOOST_TEST_REQUIRE(store.save(a).ok());
    BOOST_TEST((store.load("a")->status == Status::running));
    BOOST_TEST(store.load("a")->pid == 99);

    // Stray files in the root and the container dir do not confuse list() or remove().
    BOOST_TEST_REQUIRE(runvm::write_file_atomic(tmp.path + "/nested/root/file", "x", 0600).ok());
    BOOST_TEST_REQUIRE(
        runvm::write_file_atomic(store.container_dir("b") + "/vm.sock", "", 0600).ok());
    auto ids = store.list();
    BOOST_TEST_REQUIRE(ids.ok());
    BOOST_TEST((*ids == std::vector<std::string>{"a", "b"}));

    BOOST_TEST_REQUIRE(store.remove("b").ok());
    BOOST_TEST(!std::filesystem::exists(store.container_dir("b")));
    auto gone = store.load("b");
    BOOST_TEST_REQUIRE(!gone.ok());
    BOOST_TEST(gone.error().code() == ENOENT);
    BOOST_TEST(gone.error().str() == "container \"b\": No such file or directory");
    BOOST_TEST(store.remove("b").error().code() == ENOENT);
    State b = sample_state("b");
    BOOST_TEST(store.save(b).error().code() == ENOENT);
    BOOST_TEST((*store.list() == std::vector<std::string>{"a"}));
}

BOOST_AUTO_TEST_CASE(store_refuses_bad_ids_and_files) {
    TempRoot tmp;
    StateStore store(tmp.path);
    BOOST_TEST(store.create(sample_state("../escape")).error().code() == EINVAL);
    BOOST_TEST(store.load("..").error().code() == EINVAL);
    BOOST_TEST(store.remove("a/b").error().code() == EINVAL);
    BOOST_TEST_REQUIRE(store.create(sample_state("c")).ok());
    BOOST_TEST_REQUIRE(runvm::write_file_atomic(store.state_path("c"), "{", 0600).ok());
    auto broken = store.load("c");
    BOOST_TEST_REQUIRE(!broken.ok());
    BOOST_TEST(broken.error().str().rfind(store.state_path("c") + ": invalid JSON", 0) == 0u);
    BOOST_TEST_REQUIRE(
        runvm::write_file_atomic(store.state_path("c"), serialize_state(sample_state("d")), 0600)
            .ok());
    BOOST_TEST(store.load("c").error().str() ==
               store.state_path("c") + ": id: \"d\" does not match the directory");
}

BOOST_AUTO_TEST_CASE(second_locker_times_out_until_release) {
    TempRoot tmp;
    StateStore store(tmp.path);
    BOOST_TEST_REQUIRE(store.create(sample_state("c")).ok());
    auto first = store.lock("c", 100ms);
    BOOST_TEST_REQUIRE(first.ok());
    BOOST_TEST(first->held());

    const auto start = std::chrono::steady_clock::now();
    auto second = store.lock("c", 150ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST_REQUIRE(!second.ok());
    BOOST_TEST(second.error().code() == ETIMEDOUT);
    BOOST_TEST(second.error().message() ==
               "flock " + store.container_dir("c") + "/lock: waited 150 ms");
    BOOST_TEST(waited >= 150ms);
    BOOST_TEST(waited < 5s);

    first->release();
    auto third = store.lock("c", 100ms);
    BOOST_TEST(third.ok());
    BOOST_TEST(store.lock("missing", 10ms).error().code() == ENOENT);
}

BOOST_AUTO_TEST_CASE(store_refuses_a_symlinked_or_open_root) {
    TempRoot tmp;
    BOOST_TEST_REQUIRE(::mkdir((tmp.path + "/real").c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::symlink("real", (tmp.path + "/link").c_str()) == 0);
    StateStore linked(tmp.path + "/link");
    BOOST_TEST(linked.create(sample_state("a")).error().code() == ELOOP);
    BOOST_TEST(linked.load("a").error().code() == ELOOP);
    StateStore store(tmp.path + "/real");
    BOOST_TEST_REQUIRE(store.create(sample_state("a")).ok());
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(store.container_dir("a").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0700u);
    BOOST_TEST_REQUIRE(::chmod((tmp.path + "/real").c_str(), 0777) == 0);
    auto open_root = store.load("a");
    BOOST_TEST(open_root.error().str().find("lets group or others write") != std::string::npos);
}
