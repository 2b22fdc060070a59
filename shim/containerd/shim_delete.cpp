// `containerd-shim-runvm-v2 delete`: containerd's cleanup after a shim that went away:
// the container's VM and runvm record go, the rootfs is unmounted, and a DeleteResponse
// goes to stdout.
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include "base/io.hpp"
#include "containerd/api/runtime/task/v2/shim.pb.h"
#include "shim/containerd/rootfs_mounts.hpp"
#include "shim/containerd/shim_actions.hpp"
#include "shim/containerd/time_util.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::containerd {

int run_delete(const ShimFlags& flags) {
    const std::string bundle = flags.bundle.empty() ? "." : flags.bundle;
    const std::string root = runvm_root_for(flags.namespace_name);
    if (auto r = shim::delete_container(root, flags.id, true); !r && r.error().code() != ENOENT) {
        std::fprintf(stderr, "containerd-shim-runvm-v2: delete %s: %s\n", flags.id.c_str(),
                     r.error().str().c_str());
    }
    if (auto r = unmount_all(bundle + "/rootfs"); !r) {
        std::fprintf(stderr, "containerd-shim-runvm-v2: %s\n", r.error().str().c_str());
    }
    uint32_t pid = 0;
    if (auto text = read_file(bundle + "/init.pid")) {
        pid = static_cast<uint32_t>(std::strtoul(text->c_str(), nullptr, 10));
    }
    ::containerd::task::v2::DeleteResponse resp;
    resp.set_pid(pid);
    resp.set_exit_status(128 + SIGKILL);
    *resp.mutable_exited_at() = timestamp_now();
    const std::string out = resp.SerializeAsString();
    if (auto w = write_all(STDOUT_FILENO, out.data(), out.size(), "stdout"); !w) {
        std::fprintf(stderr, "containerd-shim-runvm-v2: %s\n", w.error().str().c_str());
        return 1;
    }
    return 0;
}

} // namespace runvm::containerd
