// parse_device_spec: comma-separated, first field the socket, then key=value or flag.
#include "broker/runtime/device_spec.hpp"

#include <cerrno>
#include <sstream>

namespace runvm::broker {

Result<DeviceSpec> parse_device_spec(const std::string& text,
                                     std::initializer_list<const char*> allowed) {
    DeviceSpec spec;
    std::stringstream in(text);
    std::string field;
    bool first = true;
    while (std::getline(in, field, ',')) {
        if (first) {
            spec.socket = field;
            first = false;
            continue;
        }
        const auto eq = field.find('=');
        const std::string key = field.substr(0, eq);
        bool known = false;
        for (const char* a : allowed) {
            known = known || key == a;
        }
        if (!known) {
            return Err(Error::with_errno(EINVAL, "device spec '" + text + "': unknown option '" +
                                                     key + "'"));
        }
        spec.options[key] = eq == std::string::npos ? "" : field.substr(eq + 1);
    }
    if (spec.socket.empty()) {
        return Err(Error::with_errno(EINVAL, "device spec '" + text + "': no socket path"));
    }
    return spec;
}

} // namespace runvm::broker
