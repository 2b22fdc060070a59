// runvm features: what this runtime supports, in runtime-spec features.md's shape.
#include <iostream>
#include <memory>

#include "oci/names.hpp"
#include "shim/cli/verb.hpp"
#include "shim/config/annotations.hpp"

namespace runvm::cli {

namespace {

nlohmann::json features() {
    using nlohmann::json;
    json caps = json::array();
    for (const std::string_view c : oci::capability_names()) {
        caps.push_back(c);
    }
    json annotations = json::object();
    for (const config::AnnotationKey& k : config::annotation_keys()) {
        annotations[std::string(k.key)] = k.description;
    }
    return {{"ociVersionMin", "1.0.0"},
            {"ociVersionMax", "1.2.0"},
            {"hooks",
             {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop"}},
            {"mountOptions",
             {"async",    "atime",       "bind",       "defaults", "dev",    "diratime", "exec",
              "noatime",  "nodev",       "nodiratime", "noexec",   "nosuid", "private",  "rbind",
              "relatime", "ro",          "rprivate",   "rshared",  "rslave", "rw",       "shared",
              "slave",    "strictatime", "suid",       "sync"}},
            {"linux",
             {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
              {"capabilities", caps},
              {"cgroup", {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
              {"seccomp",
               {{"enabled", true},
                {"actions",
                 {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
                {"operators",
                 {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                  "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
                {"archs", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}}}},
              {"apparmor", {{"enabled", false}}},
              {"selinux", {{"enabled", false}}}}},
            {"annotations", annotations}};
}

} // namespace

Runner setup_features(CLI::App&, const GlobalOptions&) {
    return [] {
        std::cout << features().dump(2) << "\n";
        return 0;
    };
}

} // namespace runvm::cli
