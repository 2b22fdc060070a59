// FNV-1a, 64-bit: a stable, short name for a string (run directories, pool keys). Not for
// anything an attacker may choose to collide with.
#pragma once

#include <cstdint>
#include <string_view>

namespace runvm {

constexpr uint64_t fnv1a64(std::string_view text, uint64_t h = 14695981039346656037ULL) {
    for (const char c : text) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return h;
}

} // namespace runvm
