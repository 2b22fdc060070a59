// The jailer's command line for a hypervisor: the program found, the files it reads bound in.
#include "shim/hypervisor/jail_command.hpp"

#include <cerrno>
#include <cstdlib>

#include <unistd.h>

#include "base/text.hpp"
#include "shim/config/helper_paths.hpp"

namespace runvm::shim {

std::string jail_program() {
    return config::find_helper("runvm-jail", "jail");
}

namespace {

// Without symlinks: /bin/qemu-system-x86_64 is /usr/bin's, which the jail has already, while
// the /bin link there must not become a mount point.
Result<std::string> real_path(const std::string& path) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) {
        return Err(Error::from_errno("realpath " + path));
    }
    std::string resolved(real);
    std::free(real);
    return resolved;
}

} // namespace

Result<std::string> absolute_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return real_path(name);
    }
    const char* env = std::getenv("PATH");
    for (const auto dir : split(env ? env : "/usr/local/bin:/usr/bin:/bin", ':')) {
        const std::string candidate = std::string(dir) + "/" + name;
        if (!dir.empty() && dir.front() == '/' && ::access(candidate.c_str(), X_OK) == 0) {
            return real_path(candidate);
        }
    }
    return Err(Error::with_errno(ENOENT, name + ": not found on PATH"));
}

Result<jail::JailSpec> hypervisor_jail(const VmConfig& config, std::vector<std::string> program) {
    if (config.jail_dir.empty() || config.jail_root.empty()) {
        return Err(Error::with_errno(EINVAL, "jail: no jail directory for the hypervisor"));
    }
    jail::JailSpec spec;
    spec.root = config.jail_root;
    spec.user = config.settings.jail_user;
    if (config.jail_ids.first != 0) {
        spec.ids = config.jail_ids;
    }
    spec.binds = {{config::guest_kernel(config.settings), true},
                  {config::guest_initrd(config.settings), true},
                  {config.jail_dir, false}};
    spec.devices = {"null", "urandom"};
    spec.proc = true;
    spec.program = std::move(program);
    return spec;
}

} // namespace runvm::shim
