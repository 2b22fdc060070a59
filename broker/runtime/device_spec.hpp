// Device specs on the runvm-broker command line: "<vhost-user socket>,key=value,flag".
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace runvm::broker {

struct DeviceSpec {
    std::string socket;
    std::map<std::string, std::string> options; // flags map to ""

    bool has(const char* key) const { return options.count(key) != 0; }
    // The key's value, or `fallback` when the spec does not name it.
    std::string get(const char* key, std::string fallback = "") const;
};

// Splits a spec; `allowed` lists the keys and flags this device takes.
Result<DeviceSpec> parse_device_spec(std::string_view text,
                                     std::span<const std::string_view> allowed);

// The value of `key` as an unsigned number within [min, max]; an error naming the device,
// the option and the value otherwise.
Result<uint64_t> spec_number(const DeviceSpec& spec, const char* device, const char* key,
                             uint64_t min, uint64_t max);

} // namespace runvm::broker
