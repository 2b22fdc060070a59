// TempDir: a private directory under $TMPDIR (or /tmp), removed with its contents on drop.
#pragma once

#include <string>

#include "base/result.hpp"

namespace runvm::broker::testing {

class TempDir {
public:
    static Result<TempDir> create(const std::string& prefix);
    ~TempDir();
    TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    explicit TempDir(std::string path) : path_(std::move(path)) {}
    std::string path_;
};

} // namespace runvm::broker::testing
