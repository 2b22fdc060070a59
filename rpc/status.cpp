// Status names for logs and error messages.
#include "rpc/status.hpp"

#include <array>

namespace runvm::rpc {

std::string code_name(int32_t code) {
    static constexpr std::array<const char*, 17> kNames = {
        "OK",       "Cancelled",      "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    if (code >= 0 && static_cast<size_t>(code) < kNames.size()) {
        return kNames[static_cast<size_t>(code)];
    }
    return "Code(" + std::to_string(code) + ")";
}

std::string Status::str() const {
    if (ok()) {
        return "OK";
    }
    return code_name(code) + ": " + message;
}

} // namespace runvm::rpc
