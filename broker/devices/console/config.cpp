// virtio-console features and configuration space.
#include "broker/devices/console/config.hpp"

#include <cerrno>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::console {

Result<ConsoleOptions> parse_options(const DeviceSpec& spec) {
    if (!spec.has("log")) {
        return Err(Error::with_errno(EINVAL, "console " + spec.socket + ": log= is required"));
    }
    return ConsoleOptions{spec.get("log")};
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
