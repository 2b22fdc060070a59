// Tests of config.json parsing and serialization: real `runc spec` output, every modeled field,
// lossless round trips, and type errors that name the JSON path.
#define BOOST_TEST_MODULE oci_spec
#include <string>

#include <boost/test/unit_test.hpp>

#include "base/io.hpp"
#include "oci/spec_json.hpp"

using nlohmann::json;
using runvm::oci::Spec;

namespace {

std::string fixture(const std::string& name) {
    auto text = runvm::read_file(std::string(RUNVM_OCI_TESTDATA) + "/" + name);
    BOOST_TEST_REQUIRE(text.ok(), (text.ok() ? "" : text.error().str()));
    return *text;
}

Spec parse_ok(const std::string& text) {
    auto spec = runvm::oci::parse_spec(text);
    BOOST_TEST_REQUIRE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
    return *spec;
}

std::string parse_error(const std::string& text) {
    auto spec = runvm::oci::parse_spec(text);
    BOOST_TEST_REQUIRE(!spec.ok());
    return spec.error().str();
}

// Serializing must reproduce the input document exactly, unknown members included.
void check_lossless(const std::string& text) {
    const Spec spec = parse_ok(text);
    const std::string out = runvm::oci::serialize_spec(spec);
    BOOST_TEST(json::parse(out) == json::parse(text));
    BOOST_TEST((parse_ok(out) == spec));
}

} // namespace

BOOST_AUTO_TEST_CASE(parses_runc_spec_output) {
    const Spec spec = parse_ok(fixture("runc-spec.json"));
    BOOST_TEST(spec.oci_version == "1.0.2-dev");
    BOOST_TEST_REQUIRE(spec.process.has_value());
    BOOST_TEST(*spec.process->terminal);
    BOOST_TEST((spec.process->args == std::vector<std::string>{"sh"}));
    BOOST_TEST(spec.process->cwd == "/");
    BOOST_TEST(spec.process->user.uid == 0u);
    BOOST_TEST_REQUIRE(spec.process->rlimits.has_value());
    BOOST_TEST((*spec.process->rlimits)[0].type == "RLIMIT_NOFILE");
    BOOST_TEST((*spec.process->rlimits)[0].hard == 1024u);
    BOOST_TEST(spec.process->capabilities->bounding->size() == 3u);
    BOOST_TEST(spec.root->path == "rootfs");
    BOOST_TEST(*spec.root->readonly);
    BOOST_TEST(*spec.hostname == "runc");
    BOOST_TEST(spec.mounts->size() == 7u);
    BOOST_TEST((*spec.mounts)[0].destination == "/proc");
    BOOST_TEST_REQUIRE(spec.linux.has_value());
    BOOST_TEST(spec.linux->namespaces->size() == 5u);
    BOOST_TEST(spec.linux->resources->devices->front().allow == false);
    BOOST_TEST(*spec.linux->resources->devices->front().access == "rwm");
    BOOST_TEST(spec.linux->masked_paths->size() > 5u);
    BOOST_TEST(spec.extra.is_null());
    BOOST_TEST(spec.process->extra.is_null());
}

BOOST_AUTO_TEST_CASE(parses_runc_rootless_spec_output) {
    const Spec spec = parse_ok(fixture("runc-spec-rootless.json"));
    BOOST_TEST_REQUIRE(spec.linux->uid_mappings.has_value());
    BOOST_TEST(spec.linux->uid_mappings->front().size == 1u);
    BOOST_TEST(spec.linux->gid_mappings->front().host_id == 0u);
}

BOOST_AUTO_TEST_CASE(parses_every_modeled_field) {
    const Spec s = parse_ok(fixture("full.json"));
    const auto& p = *s.process;
    BOOST_TEST(p.console_size->width == 80u);
    BOOST_TEST(*p.user.umask == 18u);
    BOOST_TEST((*p.user.additional_gids == std::vector<uint32_t>{5, 6}));
    BOOST_TEST(*p.user.username == "app");
    BOOST_TEST(p.capabilities->permitted->back() == "CAP_CHECKPOINT_RESTORE");
    BOOST_TEST(p.capabilities->inheritable->empty());
    BOOST_TEST((*p.rlimits)[1].hard == UINT64_MAX);
    BOOST_TEST(*p.no_new_privileges);
    BOOST_TEST(*p.oom_score_adj == -500);
    BOOST_TEST(p.extra.contains("ioPriority"));
    BOOST_TEST(p.extra.contains("scheduler"));
    BOOST_TEST(*s.domainname == "example.org");
    const auto& data_mount = (*s.mounts)[1];
    BOOST_TEST(data_mount.uid_mappings->front().host_id == 100000u);
    BOOST_TEST(data_mount.extra["x-future"]["nested"][1] == 2.5);
    BOOST_TEST(*s.hooks->create_runtime->front().timeout == 5);
    BOOST_TEST(s.hooks->poststop->front().args->size() == 2u);
    BOOST_TEST(s.annotations->at("io.runvm.vcpus") == "2");
    const auto& l = *s.linux;
    BOOST_TEST(*(*l.namespaces)[1].path == "/proc/1234/ns/net");
    BOOST_TEST(l.extra.contains("timeOffsets"));
    BOOST_TEST(*l.devices->front().file_mode == 438u);
    BOOST_TEST(!(*l.devices)[2].major.has_value());
    const auto& r = *l.resources;
    BOOST_TEST(*r.memory->kernel == -1);
    BOOST_TEST(r.memory->extra.contains("checkBeforeUpdate"));
    BOOST_TEST(*r.cpu->cpus == "2-3");
    BOOST_TEST(r.cpu->extra["burst"] == 10);
    BOOST_TEST(r.pids->limit == 32771);
    BOOST_TEST(*r.block_io->weight_device->front().leaf_weight == 300);
    BOOST_TEST(r.block_io->throttle_write_iops_device->front().minor == 16);
    BOOST_TEST(r.hugepage_limits->front().page_size == "2MB");
    BOOST_TEST(*r.network->class_id == 1048577u);
    BOOST_TEST(r.network->priorities->front().name == "eth0");
    BOOST_TEST(*r.rdma->at("mlx5_1").hca_handles == 3u);
    BOOST_TEST(!r.rdma->at("mlx4_0").hca_handles.has_value());
    BOOST_TEST(r.unified->at("io.max") == "259:0 rbps=2097152 wiops=120");
    BOOST_TEST(l.sysctl->size() == 3u);
    const auto& sc = *l.seccomp;
    BOOST_TEST(*sc.default_errno_ret == 1u);
    BOOST_TEST(*sc.listener_metadata == "metadata");
    BOOST_TEST(*(*sc.syscalls)[1].args->back().value_two == 8u);
    BOOST_TEST(*(*sc.syscalls)[3].errno_ret == 38u);
    BOOST_TEST(*l.rootfs_propagation == "rslave");
    BOOST_TEST(*l.intel_rdt->enable_cmt);
    BOOST_TEST(l.personality->domain == "LINUX");
    BOOST_TEST(s.extra.contains("vm"));
}

BOOST_AUTO_TEST_CASE(round_trips_without_loss) {
    check_lossless(fixture("runc-spec.json"));
    check_lossless(fixture("runc-spec-rootless.json"));
    check_lossless(fixture("full.json"));
}

BOOST_AUTO_TEST_CASE(null_members_read_as_absent) {
    const Spec s = parse_ok(R"({"ociVersion": "1.0.0", "hooks": null, "hostname": null})");
    BOOST_TEST(!s.hooks.has_value());
    BOOST_TEST(!s.hostname.has_value());
    BOOST_TEST(s.extra.is_null());
}

BOOST_AUTO_TEST_CASE(type_errors_name_the_json_path) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"ociVersion": 1})", "ociVersion: expected a string, got number"},
        {R"({})", "ociVersion: is required"},
        {R"([])", "(top level): expected an object, got array"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": "0", "gid": 0}, "cwd": "/"}})",
         "process.user.uid: expected an unsigned 32-bit integer, got string"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"}})",
         "process.user.uid: -1 is out of range for an unsigned 32-bit integer"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": 4294967296, "gid": 0}}})",
         "process.user.uid: 4294967296 is out of range for an unsigned 32-bit integer"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/",
             "args": "sh"}})",
         "process.args: expected an array, got string"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/",
             "args": ["sh", 1]}})",
         "process.args[1]: expected a string, got number"},
        {R"({"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}}})",
         "process.cwd: is required"},
        {R"({"ociVersion": "1.0.0", "linux": {"namespaces": [{"type": "pid"}, {"type": "uts"},
             {"path": "/x"}]}})",
         "linux.namespaces[2].type: is required"},
        {R"({"ociVersion": "1.0.0", "linux": {"resources": {"cpu": {"quota": 1.5}}}})",
         "linux.resources.cpu.quota: expected a 64-bit integer, got fractional number"},
        {R"({"ociVersion": "1.0.0", "linux": {"resources": {"blockIO": {"weight": 70000}}}})",
         "linux.resources.blockIO.weight: 70000 is out of range for an unsigned 16-bit integer"},
        {R"({"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": -2, "value": 0, "op": "SCMP_CMP_EQ"}]}]}}})",
         "linux.seccomp.syscalls[0].args[0].index: -2 is out of range for an unsigned 32-bit "
         "integer"},
        {R"({"ociVersion": "1.0.0", "annotations": {"a.b": 3}})",
         R"(annotations["a.b"]: expected a string, got number)"},
        {R"({"ociVersion": "1.0.0", "process": {"terminal": "yes"}})",
         "process.terminal: expected a boolean, got string"},
        {R"({"ociVersion": "1.0.0", "mounts": {}})", "mounts: expected an array, got object"},
        {R"({"ociVersion": "1.0.0", "linux": {"resources": {"rdma": {"mlx": 1}}}})",
         R"(linux.resources.rdma["mlx"]: expected an object, got number)"},
    };
    for (const auto& [text, message] : cases) {
        BOOST_TEST_CONTEXT(text) {
            BOOST_TEST(parse_error(text) == message);
        }
    }
}

BOOST_AUTO_TEST_CASE(refuses_bad_json_text) {
    BOOST_TEST(parse_error("{").rfind("invalid JSON: parse error at line 1, column 2", 0) == 0u);
    BOOST_TEST(parse_error(std::string(100, '[') + std::string(100, ']')) ==
               "invalid JSON: nested deeper than 64 levels");
    BOOST_TEST(parse_error(R"({"ociVersion": "1.0.0", "x": 1e999})") ==
               "invalid JSON: number overflow parsing '1e999'");
}

BOOST_AUTO_TEST_CASE(load_spec_names_the_file) {
    auto missing = runvm::oci::load_spec("/nonexistent/config.json");
    BOOST_TEST_REQUIRE(!missing.ok());
    BOOST_TEST(missing.error().str() == "open /nonexistent/config.json: No such file or directory");
    auto loaded = runvm::oci::load_spec(std::string(RUNVM_OCI_TESTDATA) + "/runc-spec.json");
    BOOST_TEST(loaded.ok());
}
