// MappedFile: a kernel or initrd image mapped read-only, so loading copies it once, from
// the page cache straight into guest RAM.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/mapping.hpp"
#include "base/result.hpp"

namespace runvm::vmm {

class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path);
    // The same for an open fd (not taken); `name` is for errors.
    static Result<MappedFile> map(int fd, const std::string& name);
    std::span<const uint8_t> bytes() const { return {map_.data(), map_.size()}; }

private:
    explicit MappedFile(Mapping map) : map_(std::move(map)) {}
    Mapping map_;
};

} // namespace runvm::vmm
