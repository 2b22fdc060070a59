// virtio-console features and configuration space.
#include "broker/devices/console/config.hpp"

#include <cerrno>
#include <cstdlib>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::console {

Result<ConsoleOptions> parse_options(const DeviceSpec& spec) {
    if (!spec.has("log")) {
        return Err(Error::with_errno(EINVAL, "console " + spec.socket + ": log= is required"));
    }
    ConsoleOptions options{spec.get("log")};
    if (spec.has("log_max_kib")) {
        const std::string text = spec.get("log_max_kib");
        char* end = nullptr;
        errno = 0;
        const unsigned long long kib = std::strtoull(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno != 0 || kib < 16 || kib > 1048576) {
            return Err(Error::with_errno(EINVAL, "console " + spec.socket + ": log_max_kib=" +
                                                     text + ": must be 16 to 1048576"));
        }
        options.log_max_bytes = kib * 1024;
    }
    return options;
}

uint64_t console_features() {
    return virtio::F_VERSION_1 | virtio::F_RING_INDIRECT_DESC | virtio::F_RING_EVENT_IDX;
}

std::vector<uint8_t> console_config_space() {
    std::vector<uint8_t> c(12, 0);
    put_le<uint32_t>(c, 4, 1); // max_nr_ports (read only with MULTIPORT; 1 is truthful)
    return c;
}

} // namespace runvm::broker::console
