// linux.seccomp compiled and loaded with libseccomp.
#pragma once

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

class SeccompFilter {
public:
    // Builds the filter (actions, architectures, argument conditions, errnoRet, flags);
    // errors name the field, e.g. "linux.seccomp.syscalls[3].action".
    static Result<SeccompFilter> build(const oci::Seccomp& spec);
    ~SeccompFilter();
    SeccompFilter(SeccompFilter&& o) noexcept;
    SeccompFilter& operator=(SeccompFilter&&) = delete;
    SeccompFilter(const SeccompFilter&) = delete;

    // seccomp_load; the filter holds for this thread and everything it execs.
    Result<void> load() const;

private:
    explicit SeccompFilter(void* ctx) : ctx_(ctx) {}
    void* ctx_ = nullptr; // scmp_filter_ctx
};

} // namespace runvm::agent
