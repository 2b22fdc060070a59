// Tests of config.json validation: every rule, with the exact message it produces.
#define BOOST_TEST_MODULE oci_validate
#include <functional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "base/io.hpp"
#include "oci/spec_json.hpp"
#include "oci/validate.hpp"

using runvm::oci::Spec;
using Strings = std::vector<std::string>;

namespace {

Spec load(const std::string& name) {
    auto spec = runvm::oci::load_spec(std::string(RUNVM_OCI_TESTDATA) + "/" + name);
    BOOST_TEST_REQUIRE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
    return *spec;
}

// The problems found after `change` edits a copy of runc's default spec.
Strings problems_after(const std::function<void(Spec&)>& change) {
    Spec spec = load("runc-spec.json");
    change(spec);
    return runvm::oci::find_problems(spec);
}

runvm::oci::Namespace ns(const std::string& type) {
    runvm::oci::Namespace n;
    n.type = type;
    return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(accepts_real_specs) {
    for (const char* name : {"runc-spec.json", "runc-spec-rootless.json", "full.json"}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(runvm::oci::find_problems(load(name)) == Strings{});
            BOOST_TEST(runvm::oci::validate(load(name)).ok());
        }
    }
}

BOOST_AUTO_TEST_CASE(top_level_rules) {
    BOOST_TEST(problems_after([](Spec& s) { s.oci_version = "2.0.0"; }) ==
               Strings{R"(ociVersion: unsupported version "2.0.0", want 1.x)"});
    BOOST_TEST(problems_after([](Spec& s) { s.oci_version = "1."; }) ==
               Strings{R"(ociVersion: unsupported version "1.", want 1.x)"});
    BOOST_TEST(problems_after([](Spec& s) { s.process.reset(); }) ==
               Strings{"process: is required"});
    BOOST_TEST(problems_after([](Spec& s) { s.root.reset(); }) == Strings{"root: is required"});
    BOOST_TEST(problems_after([](Spec& s) { s.root->path.clear(); }) ==
               Strings{"root.path: must not be empty"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->namespaces->erase(s.linux->namespaces->begin() + 3);
               }) == Strings{"hostname: requires a uts namespace in linux.namespaces"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.annotations = std::map<std::string, std::string>{{"", "x"}};
               }) == Strings{"annotations: keys must not be empty"});
}

BOOST_AUTO_TEST_CASE(process_rules) {
    BOOST_TEST(problems_after([](Spec& s) { s.process->args = Strings{}; }) ==
               Strings{"process.args: must be a non-empty array"});
    BOOST_TEST(problems_after([](Spec& s) { s.process->args.reset(); }) ==
               Strings{"process.args: must be a non-empty array"});
    BOOST_TEST(problems_after([](Spec& s) { s.process->cwd = "srv"; }) ==
               Strings{"process.cwd: must be an absolute path"});
    BOOST_TEST(problems_after([](Spec& s) { s.process->env->push_back("NOVALUE"); }) ==
               Strings{R"(process.env[2]: must be KEY=VALUE, got "NOVALUE")"});
    BOOST_TEST(problems_after([](Spec& s) { s.process->user.umask = 01000; }) ==
               Strings{"process.user.umask: must be at most 0777"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.process->capabilities->bounding->push_back("CAP_FOO");
               }) == Strings{R"(process.capabilities.bounding[3]: unknown capability "CAP_FOO")"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.process->capabilities->ambient = Strings{"CAP_KILL", "kill"};
               }) == Strings{R"(process.capabilities.ambient[1]: unknown capability "kill")"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.process->rlimits->push_back({"RLIMIT_FOO", 1, 1, {}});
               }) == Strings{R"(process.rlimits[1].type: unknown rlimit "RLIMIT_FOO")"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.process->rlimits->push_back({"RLIMIT_NOFILE", 1, 1, {}});
               }) == Strings{R"(process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE")"});
    BOOST_TEST(problems_after([](Spec& s) { (*s.process->rlimits)[0].soft = 2048; }) ==
               Strings{"process.rlimits[0]: soft limit exceeds hard limit"});
    BOOST_TEST(problems_after([](Spec& s) { s.process->oom_score_adj = 1001; }) ==
               Strings{"process.oomScoreAdj: must be between -1000 and 1000"});
}

BOOST_AUTO_TEST_CASE(mount_and_hook_rules) {
    BOOST_TEST(problems_after([](Spec& s) { (*s.mounts)[0].destination = "proc"; }) ==
               Strings{"mounts[0].destination: must be an absolute path"});
    BOOST_TEST(problems_after([](Spec& s) {
                   (*s.mounts)[1].uid_mappings = std::vector<runvm::oci::IdMapping>{{0, 1, 0, {}}};
               }) == Strings{"mounts[1].uidMappings[0].size: must be greater than zero"});
    BOOST_TEST(problems_after([](Spec& s) {
                   runvm::oci::Hook hook;
                   hook.path = "hook";
                   hook.timeout = 0;
                   s.hooks.emplace().poststop = std::vector<runvm::oci::Hook>{hook};
               }) == (Strings{"hooks.poststop[0].path: must be an absolute path",
                              "hooks.poststop[0].timeout: must be greater than zero"}));
}

BOOST_AUTO_TEST_CASE(namespace_and_mapping_rules) {
    BOOST_TEST(problems_after([](Spec& s) { (*s.linux->namespaces)[2] = ns("foo"); }) ==
               Strings{R"(linux.namespaces[2].type: unknown namespace type "foo")"});
    BOOST_TEST(problems_after([](Spec& s) { s.linux->namespaces->push_back(ns("pid")); }) ==
               Strings{R"(linux.namespaces[5].type: duplicate namespace "pid")"});
    BOOST_TEST(problems_after([](Spec& s) {
                   auto n = ns("cgroup");
                   n.path = "proc/1/ns/cgroup";
                   s.linux->namespaces->push_back(n);
               }) == Strings{"linux.namespaces[5].path: must be an absolute path"});
    BOOST_TEST(problems_after([](Spec& s) { s.linux->namespaces->push_back(ns("user")); }) ==
               (Strings{"linux.uidMappings: is required with a new user namespace",
                        "linux.gidMappings: is required with a new user namespace"}));
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->uid_mappings = std::vector<runvm::oci::IdMapping>{{0, 1000, 1, {}}};
               }) == Strings{"linux.uidMappings: requires a user namespace in linux.namespaces"});
    BOOST_TEST(
        problems_after([](Spec& s) {
            s.linux->namespaces->push_back(ns("user"));
            s.linux->uid_mappings = std::vector<runvm::oci::IdMapping>{{2, 0, 0xffffffff, {}}};
            s.linux->gid_mappings = std::vector<runvm::oci::IdMapping>{{0, 0xfffffff0, 0x20, {}}};
        }) == (Strings{"linux.uidMappings[0]: containerID + size exceeds the 32-bit id space",
                       "linux.gidMappings[0]: hostID + size exceeds the 32-bit id space"}));
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->namespaces->push_back(ns("user"));
                   s.linux->uid_mappings = std::vector<runvm::oci::IdMapping>(341, {0, 0, 1, {}});
                   s.linux->gid_mappings = std::vector<runvm::oci::IdMapping>{{0, 0, 1, {}}};
               }) == Strings{"linux.uidMappings: at most 340 mappings are allowed"});
}

BOOST_AUTO_TEST_CASE(device_sysctl_and_path_rules) {
    BOOST_TEST(problems_after([](Spec& s) {
                   runvm::oci::Device d;
                   d.type = "x";
                   d.path = "/dev/x";
                   s.linux->devices = std::vector<runvm::oci::Device>{d};
               }) ==
               Strings{R"(linux.devices[0].type: unknown device type "x", want c, b, u or p)"});
    BOOST_TEST(problems_after([](Spec& s) {
                   runvm::oci::Device d;
                   d.type = "c";
                   d.path = "dev/null";
                   d.minor = 3;
                   d.file_mode = 010000;
                   s.linux->devices = std::vector<runvm::oci::Device>{d};
               }) == (Strings{R"(linux.devices[0].major: is required for type "c")",
                              "linux.devices[0].path: must be an absolute path",
                              "linux.devices[0].fileMode: must be at most 07777"}));
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->namespaces->erase(s.linux->namespaces->begin() + 1); // network
                   s.linux->sysctl = std::map<std::string, std::string>{
                       {"net.ipv4.ip_forward", "1"}, {"kernel.pid_max", "100"}, {"a/b", "1"}};
               }) == (Strings{R"(linux.sysctl["a/b"]: invalid sysctl name)",
                              R"(linux.sysctl["net.ipv4.ip_forward"]: requires a network )"
                              "namespace in linux.namespaces"}));
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->namespaces->erase(s.linux->namespaces->begin() + 2); // ipc
                   s.linux->sysctl = std::map<std::string, std::string>{{"fs.mqueue.x", "1"}};
               }) == Strings{R"(linux.sysctl["fs.mqueue.x"]: requires an ipc namespace in )"
                             "linux.namespaces"});
    BOOST_TEST(problems_after([](Spec& s) { s.linux->rootfs_propagation = "rshard"; }) ==
               Strings{R"(linux.rootfsPropagation: unknown propagation "rshard")"});
    BOOST_TEST(problems_after([](Spec& s) {
                   s.linux->masked_paths = {"/proc/kcore", "proc/x"};
               }) == Strings{"linux.maskedPaths[1]: must be an absolute path"});
    BOOST_TEST(problems_after([](Spec& s) { (*s.linux->readonly_paths)[0] = ""; }) ==
               Strings{"linux.readonlyPaths[0]: must be an absolute path"});
    BOOST_TEST(problems_after([](Spec& s) { s.linux->personality.emplace().domain = "BSD"; }) ==
               Strings{R"(linux.personality.domain: unknown domain "BSD", want LINUX or LINUX32)"});
}

BOOST_AUTO_TEST_CASE(seccomp_rules) {
    const auto with_seccomp = [](const std::string& json_text) {
        return problems_after([&](Spec& s) {
            auto seccomp = runvm::oci::parse_spec(
                R"({"ociVersion": "1.0.0", "linux": {"seccomp": )" + json_text + "}}");
            BOOST_TEST_REQUIRE(seccomp.ok(), (seccomp.ok() ? "" : seccomp.error().str()));
            s.linux->seccomp = seccomp->linux->seccomp;
        });
    };
    BOOST_TEST(with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW"})") == Strings{});
    BOOST_TEST(with_seccomp(R"({"defaultAction": "ALLOW"})") ==
               Strings{R"(linux.seccomp.defaultAction: unknown action "ALLOW")"});
    BOOST_TEST(
        with_seccomp(R"({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/l"})") ==
        Strings{"linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"});
    BOOST_TEST(with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "x86_64"], "flags": ["SECCOMP_FILTER_FLAG_FOO"]})") ==
               (Strings{R"(linux.seccomp.architectures[1]: unknown architecture "x86_64")",
                        R"(linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO")"}));
    BOOST_TEST(with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["open"], "action": "SCMP_ACT_LOG"},
        {"names": ["close"], "action": "SCMP_ACT_FOO"}]})") ==
               Strings{R"(linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO")"});
    BOOST_TEST(with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": [], "action": "SCMP_ACT_KILL", "errnoRet": 1},
        {"names": ["read", ""], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"},
                  {"index": 0, "value": 1, "op": "EQ"}]}]})") ==
               (Strings{"linux.seccomp.syscalls[0].names: must be a non-empty array",
                        "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
                        "SCMP_ACT_TRACE",
                        "linux.seccomp.syscalls[1].names[1]: must not be empty",
                        "linux.seccomp.syscalls[1].args[0].index: must be less than 6",
                        R"(linux.seccomp.syscalls[1].args[1].op: unknown operator "EQ")"}));
    BOOST_TEST(
        with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]})") ==
        Strings{"linux.seccomp.listenerPath: is required when an action is SCMP_ACT_NOTIFY"});
    BOOST_TEST(
        with_seccomp(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "agent.sock"})") ==
        Strings{"linux.seccomp.listenerPath: must be an absolute path"});
}

BOOST_AUTO_TEST_CASE(resource_rules) {
    const auto with_resources = [](const std::string& json_text) {
        return problems_after([&](Spec& s) {
            auto parsed = runvm::oci::parse_spec(
                R"({"ociVersion": "1.0.0", "linux": {"resources": )" + json_text + "}}");
            BOOST_TEST_REQUIRE(parsed.ok(), (parsed.ok() ? "" : parsed.error().str()));
            s.linux->resources = parsed->linux->resources;
        });
    };
    BOOST_TEST(
        with_resources(R"({"devices": [{"allow": true, "type": "x", "access": "rwx"},
        {"allow": true, "access": "rr"}]})") ==
        (Strings{R"(linux.resources.devices[0].type: unknown device type "x", want a, c or b)",
                 R"(linux.resources.devices[0].access: must be a subset of "rwm", got "rwx")",
                 R"(linux.resources.devices[1].access: must be a subset of "rwm", got "rr")"}));
    BOOST_TEST(with_resources(R"({"memory": {"limit": 1000, "swap": 500, "swappiness": 101,
        "reservation": -2}})") ==
               (Strings{"linux.resources.memory.reservation: must be -1 (unlimited) or more",
                        "linux.resources.memory.swappiness: must be between 0 and 100",
                        "linux.resources.memory.swap: must be at least "
                        "linux.resources.memory.limit"}));
    BOOST_TEST(with_resources(R"({"memory": {"limit": 1000, "swap": -1}})") == Strings{});
    BOOST_TEST(with_resources(R"({"cpu": {"cpus": "0-3,5,7-8", "mems": "0"}})") == Strings{});
    BOOST_TEST(with_resources(R"({"cpu": {"cpus": "3-1", "mems": "0,", "period": 999,
        "quota": -5, "idle": 2}})") ==
               (Strings{R"(linux.resources.cpu.cpus: invalid cpu list "3-1")",
                        R"(linux.resources.cpu.mems: invalid memory node list "0,")",
                        "linux.resources.cpu.period: must be between 1000 and 1000000 "
                        "microseconds",
                        "linux.resources.cpu.quota: must be -1 (unlimited) or more",
                        "linux.resources.cpu.idle: must be 0 or 1"}));
    BOOST_TEST(with_resources(R"({"pids": {"limit": -3}})") ==
               Strings{"linux.resources.pids.limit: must be -1 (unlimited) or more"});
    BOOST_TEST(with_resources(R"({"blockIO": {"weight": 5,
        "weightDevice": [{"major": 8, "minor": 0, "leafWeight": 1001}]}})") ==
               (Strings{"linux.resources.blockIO.weight: must be between 10 and 1000",
                        "linux.resources.blockIO.weightDevice[0].leafWeight: must be between 10 "
                        "and 1000"}));
    BOOST_TEST(with_resources(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 1},
        {"pageSize": "2MB", "limit": 1}, {"pageSize": "2M", "limit": 1}]})") ==
               (Strings{R"(linux.resources.hugepageLimits[1].pageSize: duplicate page size "2MB")",
                        R"(linux.resources.hugepageLimits[2].pageSize: invalid page size "2M", )"
                        R"(want e.g. "2MB")"}));
    BOOST_TEST(with_resources(R"({"unified": {"memory.max": "1G", "../x": "1"}})") ==
               Strings{R"(linux.resources.unified["../x"]: must name a file in the container's )"
                       "cgroup directory"});
}

BOOST_AUTO_TEST_CASE(validate_joins_every_problem) {
    Spec spec = load("runc-spec.json");
    spec.process->cwd = "x";
    spec.root->path.clear();
    auto r = runvm::oci::validate(spec);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().str() ==
               "process.cwd: must be an absolute path; root.path: must not be empty");
}
