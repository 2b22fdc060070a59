// runvm spec: writes runc's default config.json (a busybox-ready starting point) to the bundle.
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "shim/cli/verb.hpp"

namespace runvm::cli {

namespace {

// `runc spec` (runc 1.1) with ociVersion 1.2.0: terminal sh, the default capabilities,
// mounts, masked and read-only paths.
constexpr const char* kDefaultSpec =
    R"json({"ociVersion":"1.2.0","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],"maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}})json";

struct SpecArgs {
    std::string bundle = ".";
    bool rootless = false;
};

} // namespace

Runner setup_spec(CLI::App& sub, const GlobalOptions&) {
    auto a = std::make_shared<SpecArgs>();
    sub.add_option("-b,--bundle", a->bundle, "bundle directory");
    sub.add_flag("--rootless", a->rootless, "accepted (the container runs in its own VM)");
    return [a] {
        const std::string path = a->bundle + "/config.json";
        if (::access(path.c_str(), F_OK) == 0) {
            return fail("File " + path + " exists. Remove it first");
        }
        const auto spec = nlohmann::json::parse(kDefaultSpec);
        auto r = write_file_atomic(path, spec.dump(1, '\t') + "\n", 0644);
        return r ? 0 : fail(r.error().str());
    };
}

} // namespace runvm::cli
