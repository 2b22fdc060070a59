// Error: an errno (0 when none applies) plus a message naming the syscall and its object.
#pragma once

#include <cerrno>
#include <string>
#include <utility>

namespace runvm {

class Error {
public:
    Error() = default;
    Error(int err, std::string message) : errno_(err), message_(std::move(message)) {}

    // Captures errno at the call site, before any cleanup can clobber it.
    static Error from_errno(std::string what) { return Error(errno, std::move(what)); }
    static Error with_errno(int err, std::string what) { return Error(err, std::move(what)); }
    static Error msg(std::string what) { return Error(0, std::move(what)); }

    int code() const { return errno_; }
    const std::string& message() const { return message_; }

    // "KVM_CREATE_VM: Permission denied" or just the message when errno is 0.
    std::string str() const;

    // Prefixes context: Error::msg("x").context("parse config") -> "parse config: x".
    Error context(const std::string& what) const&;
    Error context(const std::string& what) &&;

private:
    int errno_ = 0;
    std::string message_;
};

} // namespace runvm
