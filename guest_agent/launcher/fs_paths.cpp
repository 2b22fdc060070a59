// secure_join walks the path one component at a time and re-roots every symlink target.
#include "guest_agent/launcher/fs_paths.hpp"

#include <cerrno>
#include <climits>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::agent {

namespace {
std::vector<std::string> split(const std::string& p) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) {
            j = p.size();
        }
        if (j > i) {
            parts.push_back(p.substr(i, j - i));
        }
        i = j + 1;
    }
    return parts;
}
} // namespace

std::string clean_path(const std::string& path) {
    std::vector<std::string> out;
    for (auto& part : split(path)) {
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
            continue;
        }
        out.push_back(part);
    }
    std::string s;
    for (auto& part : out) {
        s += "/" + part;
    }
    return s.empty() ? "/" : s;
}

Result<std::string> secure_join(const std::string& root, const std::string& unsafe) {
    std::vector<std::string> pending = split(unsafe);
    std::vector<std::string> resolved;
    int links = 0;
    // pending is consumed from the front; a symlink target is spliced in its place.
    size_t idx = 0;
    while (idx < pending.size()) {
        std::string part = pending[idx++];
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!resolved.empty()) {
                resolved.pop_back();
            }
            continue;
        }
        std::string cur = root;
        for (auto& r : resolved) {
            cur += "/" + r;
        }
        cur += "/" + part;
        struct stat st;
        if (::lstat(cur.c_str(), &st) < 0 || !S_ISLNK(st.st_mode)) {
            resolved.push_back(part);
            continue;
        }
        if (++links > 255) {
            return Err(Error::with_errno(ELOOP, "resolve " + unsafe + " in " + root));
        }
        char buf[PATH_MAX];
        const ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
        if (n < 0) {
            return Err(Error::from_errno("readlink " + cur));
        }
        std::string target(buf, static_cast<size_t>(n));
        if (!target.empty() && target[0] == '/') {
            resolved.clear();
        }
        std::vector<std::string> rest = split(target);
        rest.insert(rest.end(), pending.begin() + static_cast<long>(idx), pending.end());
        pending = std::move(rest);
        idx = 0;
    }
    std::string out = root;
    for (auto& r : resolved) {
        out += "/" + r;
    }
    return out;
}

Result<void> mkdir_all(const std::string& path, mode_t mode) {
    std::string cur;
    for (auto& part : split(path)) {
        cur += "/" + part;
        if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) {
            return Err(Error::from_errno("mkdir " + cur));
        }
    }
    return Ok();
}

Result<void> touch_file(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        return Ok();
    }
    const auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
        RUNVM_TRY(mkdir_all(path.substr(0, slash), 0755));
    }
    UniqueFd fd(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755));
    if (!fd) {
        return Err(Error::from_errno("create " + path));
    }
    return Ok();
}

} // namespace runvm::agent
