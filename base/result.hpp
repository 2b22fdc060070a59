// Result<T>: the one return type for fallible calls (std::expected's shape; clang 14,
// which builds the fuzzers, cannot compile libstdc++'s <expected>).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/error.hpp"

namespace runvm {

// Wraps an Error so `return Err(...)` converts to any Result<T>.
struct Err {
    Error error;
    explicit Err(Error e) : error(std::move(e)) {}
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Err e) : v_(std::in_place_index<1>, std::move(e.error)) {}
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& {
        assert(!ok());
        return std::get<1>(v_);
    }
    Error&& error() && {
        assert(!ok());
        return std::get<1>(std::move(v_));
    }

    template <typename U>
    T value_or(U&& fallback) const& {
        return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Err e) : err_(std::move(e.error)), ok_(false) {}
    Result(Error e) : err_(std::move(e)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const& {
        assert(!ok_);
        return err_;
    }
    Error&& error() && {
        assert(!ok_);
        return std::move(err_);
    }

private:
    Error err_;
    bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

} // namespace runvm

// RUNVM_TRY(expr): returns the error of a failed Result from the enclosing function.
#define RUNVM_TRY(expr)                                                                        \
    do {                                                                                       \
        auto runvm_try_result_ = (expr);                                                       \
        if (!runvm_try_result_.ok()) {                                                         \
            return ::runvm::Err(std::move(runvm_try_result_).error());                         \
        }                                                                                      \
    } while (0)

// RUNVM_ASSIGN_OR_RETURN(decl, expr): `auto fd = ...` when ok, else returns the error.
#define RUNVM_CONCAT_INNER_(a, b) a##b
#define RUNVM_CONCAT_(a, b) RUNVM_CONCAT_INNER_(a, b)
#define RUNVM_ASSIGN_OR_RETURN(decl, expr)                                                     \
    RUNVM_ASSIGN_OR_RETURN_IMPL_(RUNVM_CONCAT_(runvm_aor_, __LINE__), decl, expr)
#define RUNVM_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr)                                          \
    auto tmp = (expr);                                                                         \
    if (!tmp.ok()) {                                                                           \
        return ::runvm::Err(std::move(tmp).error());                                           \
    }                                                                                          \
    decl = std::move(tmp).value()
