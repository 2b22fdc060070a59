// parse_device_spec: comma-separated, first field the socket, then key=value or flag.
#include "broker/runtime/device_spec.hpp"

#include <algorithm>
#include <cerrno>

#include "base/text.hpp"

namespace runvm::broker {

std::string DeviceSpec::get(const char* key, std::string fallback) const {
    const auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
}

Result<DeviceSpec> parse_device_spec(std::string_view text,
                                     std::span<const std::string_view> allowed) {
    DeviceSpec spec;
    const auto fields = split(text, ',');
    spec.socket = std::string(fields.front());
    for (size_t i = 1; i < fields.size(); ++i) {
        const std::string_view field = fields[i];
        if (field.empty() && i + 1 == fields.size()) {
            break; // a trailing comma names nothing
        }
        const auto eq = field.find('=');
        const std::string_view key = field.substr(0, eq);
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            return Err(Error::with_errno(EINVAL, "device spec '" + std::string(text) +
                                                     "': unknown option '" + std::string(key) +
                                                     "'"));
        }
        spec.options[std::string(key)] =
            eq == std::string_view::npos ? "" : std::string(field.substr(eq + 1));
    }
    if (spec.socket.empty()) {
        return Err(
            Error::with_errno(EINVAL, "device spec '" + std::string(text) + "': no socket path"));
    }
    return spec;
}

Result<uint64_t> spec_number(const DeviceSpec& spec, const char* device, const char* key,
                             uint64_t min, uint64_t max) {
    const std::string text = spec.get(key);
    const auto value = parse_u64(text);
    if (!value || *value < min || *value > max) {
        return Err(Error::with_errno(EINVAL, std::string(device) + " " + spec.socket + ": " + key +
                                                 "='" + text + "' (want " + std::to_string(min) +
                                                 " to " + std::to_string(max) + ")"));
    }
    return *value;
}

} // namespace runvm::broker
