// AML encodings from the ACPI 6.4 specification, §20.2 (grammar) and §6.4 (resources).
#include "vmm/arch/x86_64/aml.hpp"

#include <algorithm>
#include <cassert>

namespace runvm::vmm::x86_64::aml {

namespace {

constexpr uint8_t kZeroOp = 0x00, kOneOp = 0x01, kNameOp = 0x08, kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b, kDWordPrefix = 0x0c, kStringPrefix = 0x0d;
constexpr uint8_t kQWordPrefix = 0x0e, kScopeOp = 0x10, kBufferOp = 0x11, kPackageOp = 0x12;
constexpr uint8_t kExtOpPrefix = 0x5b, kDeviceOp = 0x82, kRootChar = 0x5c;
constexpr uint8_t kDualNamePrefix = 0x2e, kMultiNamePrefix = 0x2f;
constexpr uint8_t kEndTag = 0x79;

void put_le(Bytes& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
}

// An opcode, PkgLength and body: the shape of every term that holds others.
Bytes with_pkg(std::initializer_list<uint8_t> opcode, const Bytes& body) {
    Bytes out(opcode);
    append(out, pkg_length(body.size()));
    append(out, body);
    return out;
}

} // namespace

void append(Bytes& out, const Bytes& b) {
    out.insert(out.end(), b.begin(), b.end());
}

Bytes pkg_length(uint64_t payload) {
    // One byte holds up to 63; each extra byte adds 8 bits above the low nibble.
    if (payload + 1 < 0x40) {
        return {static_cast<uint8_t>(payload + 1)};
    }
    for (int extra = 1; extra <= 3; ++extra) {
        const uint64_t total = payload + 1 + static_cast<uint64_t>(extra);
        if (total < (1ull << (4 + 8 * extra))) {
            Bytes out{static_cast<uint8_t>((static_cast<uint64_t>(extra) << 6) | (total & 0xf))};
            put_le(out, total >> 4, extra);
            return out;
        }
    }
    assert(false && "AML package longer than 2^28 bytes");
    return {};
}

Bytes name_string(std::string_view path) {
    Bytes out;
    if (!path.empty() && path.front() == '\\') {
        out.push_back(kRootChar);
        path.remove_prefix(1);
    }
    std::vector<std::string_view> segs;
    while (!path.empty()) {
        const auto dot = path.find('.');
        segs.push_back(path.substr(0, dot));
        path.remove_prefix(dot == std::string_view::npos ? path.size() : dot + 1);
    }
    if (segs.size() == 2) {
        out.push_back(kDualNamePrefix);
    } else if (segs.size() > 2) {
        out.push_back(kMultiNamePrefix);
        out.push_back(static_cast<uint8_t>(segs.size()));
    }
    for (auto seg : segs) {
        assert(!seg.empty() && seg.size() <= 4);
        for (size_t i = 0; i < 4; ++i) {
            out.push_back(static_cast<uint8_t>(i < seg.size() ? seg[i] : '_'));
        }
    }
    if (segs.empty()) {
        out.push_back(0); // NullName
    }
    return out;
}

Bytes integer(uint64_t value) {
    if (value == 0) {
        return {kZeroOp};
    }
    if (value == 1) {
        return {kOneOp};
    }
    Bytes out;
    int bytes = 8;
    uint8_t prefix = kQWordPrefix;
    if (value <= 0xff) {
        bytes = 1;
        prefix = kBytePrefix;
    } else if (value <= 0xffff) {
        bytes = 2;
        prefix = kWordPrefix;
    } else if (value <= 0xffffffff) {
        bytes = 4;
        prefix = kDWordPrefix;
    }
    out.push_back(prefix);
    put_le(out, value, bytes);
    return out;
}

Bytes string(std::string_view s) {
    // Sized up front: GCC 12 misreads an insert into a one-byte vector (-Warray-bounds).
    Bytes out(s.size() + 2, 0);
    out[0] = kStringPrefix;
    std::copy(s.begin(), s.end(), out.begin() + 1);
    return out;
}

Bytes eisa_id(std::string_view id) {
    assert(id.size() == 7);
    // Three letters in 5 bits each ('A' = 1), then four hex digits; stored big-endian.
    auto letter = [&](size_t i) { return static_cast<uint32_t>(id[i] - 0x40) & 0x1f; };
    auto digit = [&](size_t i) {
        const char c = id[i];
        return static_cast<uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10) & 0xf;
    };
    const uint32_t be = (letter(0) << 26) | (letter(1) << 21) | (letter(2) << 16) |
                        (digit(3) << 12) | (digit(4) << 8) | (digit(5) << 4) | digit(6);
    const uint32_t le =
        ((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >> 8) & 0xff00) | (be >> 24);
    Bytes out{kDWordPrefix};
    put_le(out, le, 4);
    return out;
}

Bytes name(std::string_view n, const Bytes& value) {
    Bytes out{kNameOp};
    append(out, name_string(n));
    append(out, value);
    return out;
}

Bytes package(std::initializer_list<Bytes> elements) {
    Bytes body{static_cast<uint8_t>(elements.size())};
    for (const auto& e : elements) {
        append(body, e);
    }
    return with_pkg({kPackageOp}, body);
}

Bytes buffer(const Bytes& data) {
    Bytes body = integer(data.size());
    append(body, data);
    return with_pkg({kBufferOp}, body);
}

Bytes scope(std::string_view n, const Bytes& body) {
    Bytes inner = name_string(n);
    append(inner, body);
    return with_pkg({kScopeOp}, inner);
}

Bytes device(std::string_view n, const Bytes& body) {
    Bytes inner = name_string(n);
    append(inner, body);
    return with_pkg({kExtOpPrefix, kDeviceOp}, inner);
}

Bytes memory32_fixed(bool writable, uint32_t base, uint32_t length) {
    Bytes out{0x86, 9, 0, static_cast<uint8_t>(writable ? 1 : 0)}; // large item, 9 bytes
    put_le(out, base, 4);
    put_le(out, length, 4);
    return out;
}

Bytes io_port(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length) {
    Bytes out{0x47, 1}; // small item 8, 7 bytes; information bit 0: 16-bit decode
    put_le(out, min, 2);
    put_le(out, max, 2);
    out.push_back(alignment);
    out.push_back(length);
    return out;
}

Bytes extended_interrupt(bool edge, bool active_low, bool shared, uint32_t gsi) {
    const uint8_t flags = static_cast<uint8_t>(1 | (edge ? 2 : 0) | (active_low ? 4 : 0) |
                                               (shared ? 8 : 0)); // bit 0: consumer
    Bytes out{0x89, 6, 0, flags, 1}; // large item, 6 bytes, one interrupt in the table
    put_le(out, gsi, 4);
    return out;
}

Bytes resource_template(std::initializer_list<Bytes> descriptors) {
    Bytes data;
    for (const auto& d : descriptors) {
        append(data, d);
    }
    data.push_back(kEndTag);
    uint8_t sum = 0;
    for (uint8_t b : data) {
        sum = static_cast<uint8_t>(sum + b);
    }
    data.push_back(static_cast<uint8_t>(-sum));
    return buffer(data);
}

} // namespace runvm::vmm::x86_64::aml
