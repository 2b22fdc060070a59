// SyncChannel: the seqpacket socket between the launcher and the container's init process;
// carries the create/start handshake, id-map requests, the pty master and step errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

enum class SyncType : uint32_t {
    need_id_maps = 1, // child unshared its user namespace: parent writes uid_map/gid_map
    id_maps_done = 2,
    init_pid = 3, // value: the container init's pid (in the launcher's pid namespace)
    console = 4,  // carries the pty master by SCM_RIGHTS
    created = 5,  // set up, waiting for start
    start = 6,
    error = 7, // step, err, text: a failed step; the child exits after sending it
};

struct SyncMessage {
    SyncType type = SyncType::error;
    int32_t value = 0;
    int32_t err = 0;    // errno of the failed step
    char step[48] = {}; // "pivot_root", "mount /proc", ...
    char text[1024] = {};
};

// An error message from the child: "<step>: <text>" with errno attached.
Error sync_error(const SyncMessage& m);

class SyncChannel {
public:
    // socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC): [0] parent end, [1] child end.
    static Result<std::pair<SyncChannel, SyncChannel>> create_pair();

    explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}
    SyncChannel() = default;

    Result<void> send(const SyncMessage& m, int fd_to_pass = -1) const;
    Result<void> send_type(SyncType t, int32_t value = 0) const;
    // Sends an error for `step` (errno and message from `e`); best effort, used just before
    // the child exits.
    void send_error(const char* step, const Error& e) const;

    struct Received {
        bool closed = false; // EOF: every child end closed (exec or exit)
        SyncMessage msg;
        UniqueFd fd;
    };
    // Waits up to `timeout` (negative: forever); a timeout is an ETIMEDOUT error.
    Result<Received> receive(std::chrono::milliseconds timeout) const;

    int get() const { return fd_.get(); }
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
};

} // namespace runvm::agent
