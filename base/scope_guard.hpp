// ScopeGuard: runs a rollback on scope exit unless dismissed, so multi-step setup undoes
// itself in reverse order when a later step fails.
#pragma once

#include <utility>

namespace runvm {

template <typename F>
class [[nodiscard]] ScopeGuard {
public:
    explicit ScopeGuard(F f) : f_(std::move(f)) {}
    ~ScopeGuard() {
        if (active_) {
            f_();
        }
    }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard(ScopeGuard&& o) noexcept : f_(std::move(o.f_)), active_(std::exchange(o.active_, false)) {}
    ScopeGuard& operator=(ScopeGuard&&) = delete;

    void dismiss() { active_ = false; }

private:
    F f_;
    bool active_ = true;
};

} // namespace runvm
