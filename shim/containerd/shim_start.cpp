// `containerd-shim-runvm-v2 start`: bind the group's socket (or find the live shim already
// on it), start the daemon on it detached, print the address.
#include <climits>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/containerd/shim_actions.hpp"
#include "shim/containerd/shim_address.hpp"
#include "shim/containerd/spawn.hpp"

namespace runvm::containerd {

namespace {

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    return addr;
}

bool can_connect(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_un addr = unix_address(path);
    return fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

// Binds without replacing a live socket: EADDRINUSE comes back for the caller to judge.
Result<UniqueFd> bind_listen(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return Err(Error::from_errno("socket for " + path));
    }
    const sockaddr_un addr = unix_address(path);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return Err(Error::from_errno("bind " + path));
    }
    if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 128) != 0) {
        Error e = Error::from_errno("listen " + path);
        ::unlink(path.c_str());
        return Err(std::move(e));
    }
    return fd;
}

Result<void> mkdir_p(const std::string& dir, mode_t mode) {
    for (size_t pos = 1; pos != std::string::npos;) {
        pos = dir.find('/', pos + 1);
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + part));
        }
    }
    return Ok();
}

std::string self_exe() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "containerd-shim-runvm-v2";
}

Result<std::string> start_shim(const ShimFlags& flags) {
    const std::string group = shim_group(".", flags.id);
    const std::string address = socket_address(flags.address, flags.namespace_name, group);
    RUNVM_ASSIGN_OR_RETURN(std::string path, socket_path(address));
    RUNVM_TRY(mkdir_p(path.substr(0, path.rfind('/')), 0711));
    auto listener = bind_listen(path);
    if (!listener && listener.error().code() == EADDRINUSE) {
        // Another container of the same group: its shim serves this one too.
        if (can_connect(path)) {
            RUNVM_TRY(write_file_atomic("address", address, 0644));
            return address;
        }
        ::unlink(path.c_str()); // a dead shim's leftover
        listener = bind_listen(path);
    }
    if (!listener) {
        return Err(std::move(listener).error());
    }
    RUNVM_TRY(write_file_atomic("address", address, 0644));
    SpawnSpec spec;
    spec.argv = daemon_args(self_exe(), flags);
    spec.extra_fd = listener->get();
    spec.new_session = true; // containerd's signals to its process group are not ours
    auto pid = spawn_process(spec);
    if (!pid) {
        ::unlink(path.c_str());
        return Err(std::move(pid).error());
    }
    return address;
}

} // namespace

std::string runvm_root_for(const std::string& ns) {
    const char* root = std::getenv("RUNVM_SHIM_ROOT");
    return std::string(root && *root ? root : "/run/containerd/runvm") + "/" + ns;
}

std::string runvm_binary() {
    const char* cli = std::getenv("RUNVM_CLI");
    return cli && *cli ? cli : config::find_helper("runvm", "shim/cli");
}

std::string shim_group(const std::string& bundle_dir, const std::string& id) {
    auto text = read_file(bundle_dir + "/config.json");
    if (!text) {
        return id;
    }
    auto spec = nlohmann::json::parse(*text, nullptr, false);
    if (spec.is_discarded() || !spec.contains("annotations") || !spec["annotations"].is_object()) {
        return id;
    }
    for (const char* label : {"io.containerd.runvm.v2.group", "io.containerd.runc.v2.group",
                              "io.kubernetes.cri.sandbox-id"}) {
        auto a = spec["annotations"].find(label);
        if (a != spec["annotations"].end() && a->is_string() && !a->get<std::string>().empty()) {
            return a->get<std::string>();
        }
    }
    return id;
}

int run_start(const ShimFlags& flags) {
    auto address = start_shim(flags);
    if (!address) {
        std::fprintf(stderr, "containerd-shim-runvm-v2: start: %s\n",
                     address.error().str().c_str());
        return 1;
    }
    std::fputs(address->c_str(), stdout);
    return 0;
}

} // namespace runvm::containerd
