// Fuzzes config.json handling with arbitrary bytes: parse, validate, serialize; every accepted
// input must survive a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "oci/spec_json.hpp"
#include "oci/state.hpp"
#include "oci/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto spec = runvm::oci::parse_spec(text);
    if (spec.ok()) {
        (void)runvm::oci::find_problems(*spec);
        const std::string out = runvm::oci::serialize_spec(*spec);
        auto again = runvm::oci::parse_spec(out);
        if (!again.ok() || !(*again == *spec) || runvm::oci::serialize_spec(*again) != out) {
            __builtin_trap();
        }
    }
    // The same bytes as a state.json, which a crashed or hostile writer may have left behind.
    auto state = runvm::oci::parse_state(text);
    if (state.ok()) {
        auto again = runvm::oci::parse_state(runvm::oci::serialize_state(*state));
        if (!again.ok() || !(*again == *state)) {
            __builtin_trap();
        }
    }
    return 0;
}
