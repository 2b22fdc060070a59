// resolve_allowed_path: openat2(RESOLVE_BENEATH) from the allowed directory, so the kernel
// refuses any step out of it (an absolute symlink, "..", a magic link) while it resolves.
#include "shim/config/allowed_path.hpp"

#include <cerrno>
#include <climits>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::config {
namespace {

std::string_view without_trailing_slashes(std::string_view dir) {
    while (dir.size() > 1 && dir.back() == '/') {
        dir.remove_suffix(1);
    }
    return dir;
}

std::string list(std::span<const std::string> allowed) {
    if (allowed.empty()) {
        return "none";
    }
    std::string out;
    for (const auto& dir : allowed) {
        out += (out.empty() ? "" : ", ") + dir;
    }
    return out;
}

Result<std::string> resolve_beneath(const std::string& dir, std::string_view relative,
                                    std::string_view path) {
    const UniqueFd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        return Err(Error::from_errno("open allowed directory " + dir));
    }
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const std::string name(relative);
    const UniqueFd file(
        static_cast<int>(::syscall(SYS_openat2, root.get(), name.c_str(), &how, sizeof(how))));
    if (!file) {
        if (errno == EXDEV || errno == ELOOP) {
            return Err(Error::with_errno(EPERM, std::string(path) +
                                                    " leads out of the allowed directory " + dir));
        }
        return Err(Error::from_errno(std::string(path)));
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        return Err(Error::from_errno("fstat " + std::string(path)));
    }
    if (!S_ISREG(st.st_mode)) {
        return Err(Error::with_errno(EINVAL, std::string(path) + " is not a regular file"));
    }
    char resolved[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(file.get());
    const ssize_t n = ::readlink(link.c_str(), resolved, sizeof(resolved) - 1);
    if (n <= 0) {
        return Err(Error::from_errno("readlink " + link));
    }
    return std::string(resolved, static_cast<size_t>(n));
}

} // namespace

Result<std::string> resolve_allowed_path(std::string_view path,
                                         std::span<const std::string> allowed) {
    for (const auto& entry : allowed) {
        const std::string_view dir = without_trailing_slashes(entry);
        const bool inside = path.size() > dir.size() + 1 && path.substr(0, dir.size()) == dir &&
                            (dir == "/" || path[dir.size()] == '/');
        if (inside) {
            return resolve_beneath(std::string(dir), path.substr(dir.size() + (dir == "/" ? 0 : 1)),
                                   path);
        }
    }
    return Err(Error::with_errno(
        EPERM, std::string(path) +
                   " is outside the allowed paths (annotations.paths: " + list(allowed) + ")"));
}

} // namespace runvm::config
