// A tiny AML byte writer: just the terms a DSDT needs to describe fixed devices (ACPI 6.4
// §20: DefScope, DefDevice, DefName, DefPackage, DefBuffer, strings, integers) and the
// resource descriptors of their _CRS (§6.4: Memory32Fixed, I/O port, Extended Interrupt).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace runvm::vmm::x86_64::aml {

using Bytes = std::vector<uint8_t>;

// PkgLength for `payload` bytes that follow it; the encoded length counts its own bytes
// (1 to 4 of them, so payloads up to 2^28 - 5 bytes).
Bytes pkg_length(uint64_t payload);

// A NameString: an optional leading '\' (root), then 4-character segments separated by
// '.'; shorter segments are padded with '_'. Names come from the VMM, never the guest.
Bytes name_string(std::string_view path);

Bytes integer(uint64_t value); // ZeroOp, OneOp or the smallest Byte/Word/DWord/QWordConst
Bytes string(std::string_view s);
// EISAID("PNP0501"): the compressed 32-bit PNP id as an integer.
Bytes eisa_id(std::string_view id);

Bytes name(std::string_view name, const Bytes& value);
Bytes package(std::initializer_list<Bytes> elements);
Bytes buffer(const Bytes& data);
Bytes scope(std::string_view name, const Bytes& body);
Bytes device(std::string_view name, const Bytes& body);

// Resource descriptors for a ResourceTemplate.
Bytes memory32_fixed(bool writable, uint32_t base, uint32_t length);
Bytes io_port(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length);    // 16-bit decode
Bytes extended_interrupt(bool edge, bool active_low, bool shared, uint32_t gsi); // consumer
// A Buffer holding the descriptors and an EndTag whose checksum makes them sum to 0.
Bytes resource_template(std::initializer_list<Bytes> descriptors);

// Appends `b` to `out`.
void append(Bytes& out, const Bytes& b);

} // namespace runvm::vmm::x86_64::aml
