// Per-container state directories: create/load/save/remove/list and the flock-based lock.
#include "oci/state_store.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/scope_guard.hpp"
#include "base/secure_dir.hpp"
#include "oci/container_id.hpp"

namespace runvm::oci {
namespace {

constexpr int kStateFileMode = 0600;
// No other uid reads container state.
constexpr mode_t kDirMode = 0700;

Error missing(std::string_view id) {
    return Error::with_errno(ENOENT, "container \"" + std::string(id) + "\"");
}

// The root and the container's directory, each the euid's own and not a symlink.
Result<void> check_dirs(const std::string& root, const std::string& dir, std::string_view id) {
    auto checked = open_owned_dir(root);
    if (checked) {
        checked = open_owned_dir(dir);
    }
    if (!checked) {
        return Err(checked.error().code() == ENOENT ? missing(id) : std::move(checked).error());
    }
    return Ok();
}

} // namespace

std::string StateStore::container_dir(std::string_view id) const {
    return root_ + "/" + std::string(id);
}

std::string StateStore::state_path(std::string_view id) const {
    return container_dir(id) + "/state.json";
}

Result<void> StateStore::create(const State& state) {
    RUNVM_TRY(validate_container_id(state.id));
    RUNVM_TRY(open_owned_dir(root_, kDirMode, MissingParents::create));
    const std::string dir = container_dir(state.id);
    if (auto made = create_owned_dir(dir, kDirMode); !made) {
        if (made.error().code() == EEXIST) {
            return Err(Error::with_errno(EEXIST, "container \"" + state.id + "\""));
        }
        return Err(std::move(made).error());
    }
    ScopeGuard undo_dir([&] {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    });
    RUNVM_TRY(write_file_atomic(state_path(state.id), serialize_state(state), kStateFileMode));
    undo_dir.dismiss();
    return Ok();
}

Result<State> StateStore::load(std::string_view id) const {
    RUNVM_TRY(validate_container_id(id));
    RUNVM_TRY(check_dirs(root_, container_dir(id), id));
    const std::string path = state_path(id);
    auto text = read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) {
            return Err(missing(id));
        }
        return Err(std::move(text).error());
    }
    auto state = parse_state(*text);
    if (!state) {
        return Err(std::move(state).error().context(path));
    }
    if (state->id != id) {
        return Err(Error::msg(path + ": id: \"" + state->id + "\" does not match the directory"));
    }
    return state;
}

Result<void> StateStore::save(const State& state) {
    RUNVM_TRY(validate_container_id(state.id));
    struct stat st {};
    if (::stat(container_dir(state.id).c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return Err(missing(state.id));
        }
        return Err(Error::from_errno("stat " + container_dir(state.id)));
    }
    return write_file_atomic(state_path(state.id), serialize_state(state), kStateFileMode);
}

Result<void> StateStore::remove(std::string_view id) {
    RUNVM_TRY(validate_container_id(id));
    const std::string dir = container_dir(id);
    std::error_code ec;
    const auto removed = std::filesystem::remove_all(dir, ec);
    if (ec) {
        return Err(Error::with_errno(ec.value(), "remove " + dir));
    }
    if (removed == 0) {
        return Err(missing(id));
    }
    return Ok();
}

Result<std::vector<std::string>> StateStore::list() const {
    std::vector<std::string> ids;
    DIR* raw = ::opendir(root_.c_str());
    if (raw == nullptr) {
        if (errno == ENOENT) {
            return ids;
        }
        return Err(Error::from_errno("opendir " + root_));
    }
    const auto close_dir = ScopeGuard([raw] { ::closedir(raw); });
    errno = 0;
    while (const dirent* entry = ::readdir(raw)) {
        const std::string name = entry->d_name;
        struct stat st {};
        if (validate_container_id(name).ok() &&
            ::fstatat(::dirfd(raw), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode)) {
            ids.push_back(name);
        }
        errno = 0;
    }
    if (errno != 0) {
        return Err(Error::from_errno("readdir " + root_));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

Result<ContainerLock> StateStore::lock(std::string_view id,
                                       std::chrono::milliseconds timeout) const {
    RUNVM_TRY(validate_container_id(id));
    const std::string path = container_dir(id) + "/lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kStateFileMode));
    if (!fd) {
        if (errno == ENOENT) {
            return Err(missing(id));
        }
        return Err(Error::from_errno("open " + path));
    }
    // flock has no timed wait; poll LOCK_NB so a stuck holder cannot hang us forever.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            return ContainerLock(std::move(fd));
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return Err(Error::from_errno("flock " + path));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return Err(Error::with_errno(ETIMEDOUT, "flock " + path + ": waited " +
                                                        std::to_string(timeout.count()) + " ms"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace runvm::oci
