// Device specs on the runvm-broker command line: "<vhost-user socket>,key=value,flag".
#pragma once

#include <map>
#include <string>

#include "base/result.hpp"

namespace runvm::broker {

struct DeviceSpec {
    std::string socket;
    std::map<std::string, std::string> options; // flags map to ""
};

// Parses a spec; `allowed` lists the keys and flags this device takes.
Result<DeviceSpec> parse_device_spec(const std::string& text,
                                     std::initializer_list<const char*> allowed);

} // namespace runvm::broker
