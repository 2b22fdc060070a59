// Turning agent errors into ttRPC statuses.
#pragma once

#include <cerrno>

#include "base/error.hpp"
#include "rpc/status.hpp"

namespace runvm::agent {

// EINVAL: InvalidArgument (a bad request, the field is in the message); ENOENT from a
// lookup of args[0]: FailedPrecondition; everything else Internal.
inline rpc::Status to_status(const Error& e, const std::string& what) {
    int32_t code = rpc::kInternal;
    if (e.code() == EINVAL) {
        code = rpc::kInvalidArgument;
    } else if (e.code() == ENOENT || e.code() == EACCES) {
        code = rpc::kFailedPrecondition;
    } else if (e.code() == ETIMEDOUT) {
        code = rpc::kDeadlineExceeded;
    } else if (e.code() == EOPNOTSUPP) {
        code = rpc::kUnimplemented; // a spec feature the agent refuses (seccomp notify)
    }
    return rpc::Status{code, what + ": " + e.str()};
}

} // namespace runvm::agent
