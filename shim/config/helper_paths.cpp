// Finds helper programs relative to this executable.
#include "shim/config/helper_paths.hpp"

#include <limits.h>
#include <unistd.h>

namespace runvm::config {

namespace {

std::string self_dir() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return "";
    }
    std::string exe(buf, static_cast<size_t>(n));
    return exe.substr(0, exe.rfind('/'));
}

} // namespace

std::string find_helper(const std::string& name, const std::string& build_subdir) {
    const std::string dir = self_dir();
    if (!dir.empty()) {
        for (const std::string& candidate :
             {dir + "/" + name, dir + "/../../" + build_subdir + "/" + name,
              dir + "/../" + build_subdir + "/" + name}) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
        }
    }
    return name;
}

std::string helper_program(const std::string& configured, const std::string& default_name,
                           const std::string& build_subdir) {
    return configured == default_name ? find_helper(default_name, build_subdir) : configured;
}

} // namespace runvm::config
