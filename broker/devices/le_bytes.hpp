// Little-endian field access in device config spaces and packet headers (x86 hosts only).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace runvm::broker {

template <typename T>
void put_le(std::vector<uint8_t>& buf, size_t offset, T value) {
    static_assert(std::is_integral_v<T>);
    std::memcpy(buf.data() + offset, &value, sizeof(T));
}

template <typename T>
T get_le(const uint8_t* p) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return value;
}

} // namespace runvm::broker
