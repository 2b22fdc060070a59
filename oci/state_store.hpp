// StateStore: one directory per container under a root (default /run/runvm; the CLI's
// rootless default is shim/sandbox/vm_dirs.hpp's), holding state.json (replaced atomically)
// and a lock file; ContainerLock is an flock on that file. Directories are made 0700 and
// checked by open_owned_dir (owner, mode, no symlink) before they are read.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "oci/state.hpp"

namespace runvm::oci {

inline constexpr const char* kDefaultStateRoot = "/run/runvm";

// Holds an exclusive flock on <root>/<id>/lock until destroyed.
class ContainerLock {
public:
    ContainerLock() = default;
    explicit ContainerLock(UniqueFd fd) : fd_(std::move(fd)) {}
    bool held() const { return fd_.valid(); }
    void release() { fd_.reset(); } // closing the fd drops the flock

private:
    UniqueFd fd_;
};

class StateStore {
public:
    explicit StateStore(std::string root = kDefaultStateRoot) : root_(std::move(root)) {}

    const std::string& root() const { return root_; }
    std::string container_dir(std::string_view id) const; // <root>/<id>
    std::string state_path(std::string_view id) const;    // <root>/<id>/state.json

    // Makes <root>/<id> and writes state.json; EEXIST if the container exists.
    Result<void> create(const State& state);
    // ENOENT (`container "x": No such file or directory`) when it does not exist.
    Result<State> load(std::string_view id) const;
    // Replaces state.json of an existing container.
    Result<void> save(const State& state);
    // Removes <root>/<id> and everything in it (the shim keeps sockets and logs there too).
    Result<void> remove(std::string_view id);
    // Ids of the containers with a directory under root, sorted; empty if root is missing.
    Result<std::vector<std::string>> list() const;

    // Waits at most `timeout` for the container's lock. A waiter that gets the lock after
    // another process removed the container must load() again to notice.
    Result<ContainerLock> lock(std::string_view id, std::chrono::milliseconds timeout) const;

private:
    std::string root_;
};

} // namespace runvm::oci
