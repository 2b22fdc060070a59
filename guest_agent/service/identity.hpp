// Reinit: the guest's identity from the host (RNG seed, clock, hostname), which a VM restored
// from a template shares with every sibling until it is set (docs/design/fast-start.md §4).
#pragma once

#include <cstddef>
#include <ctime>
#include <functional>
#include <string>

#include "agent.pb.h"
#include "base/result.hpp"

namespace runvm::agent {

inline constexpr size_t kMinHostRandom = 32;
inline constexpr size_t kMaxHostRandom = 256;
inline constexpr size_t kMaxHostname = 64; // HOST_NAME_MAX
inline constexpr const char* kRandomDevice = "/dev/urandom";

// The syscalls Reinit makes, each returning what the syscall returns (-1 with errno set):
// the real ones in the agent, a recorder in tests (which must not reseed or re-clock a host).
struct IdentitySyscalls {
    std::function<int(const char* path, int flags)> open;
    std::function<int(int fd, unsigned long request, const void* arg)> ioctl;
    std::function<int(clockid_t clock, const timespec& ts)> clock_settime;
    std::function<int(const std::string& name)> sethostname;

    static IdentitySyscalls real();
};

// EINVAL naming the field: host_random outside 32..256 bytes, a negative realtime_ns, a
// hostname over 64 bytes or holding '/' or NUL.
Result<void> check_reinit(const v1::ReinitRequest& req);

// In this order: RNDADDENTROPY of host_random (8 bits credited per byte) and RNDRESEEDCRNG
// on /dev/urandom; clock_settime(CLOCK_REALTIME) unless realtime_ns is 0; sethostname unless
// hostname is empty. Stops at the first failure. `req` passed check_reinit.
Result<void> apply_reinit(const v1::ReinitRequest& req, const IdentitySyscalls& sys);

} // namespace runvm::agent
