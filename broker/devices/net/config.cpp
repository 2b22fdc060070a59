// virtio-net features, configuration space and MAC address text.
#include "broker/devices/net/config.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::net {

Result<NetOptions> parse_options(const DeviceSpec& spec) {
    NetOptions o;
    const int given = int{spec.has("tap")} + int{spec.has("fd")} + int{spec.has("tap_socket")};
    if (given != 1) {
        return Err(Error::with_errno(EINVAL, "net " + spec.socket +
                                                 ": give one of tap=, fd=, tap_socket="));
    }
    if (spec.has("tap")) {
        o.tap_name = spec.get("tap");
    } else if (spec.has("fd")) {
        RUNVM_ASSIGN_OR_RETURN(const uint64_t fd, spec_number(spec, "net", "fd", 0, INT_MAX));
        o.tap_fd = static_cast<int>(fd);
    } else {
        RUNVM_ASSIGN_OR_RETURN(const uint64_t fd,
                               spec_number(spec, "net", "tap_socket", 0, INT_MAX));
        o.tap_socket_fd = static_cast<int>(fd);
    }
    if (spec.has("mtu")) {
        // 68: the IPv4 minimum (RFC 791); 65535: virtio-net's le16 mtu field.
        RUNVM_ASSIGN_OR_RETURN(const uint64_t mtu, spec_number(spec, "net", "mtu", 68, 65535));
        o.mtu = static_cast<uint16_t>(mtu);
    }
    if (spec.has("mac")) {
        RUNVM_ASSIGN_OR_RETURN(o.mac, parse_mac(spec.get("mac")));
    }
    o.offloads = !spec.has("nooffload");
    return o;
}

uint64_t net_features(const NetOptions& options, const TapOffloads& tap) {
    uint64_t f = virtio::F_VERSION_1 | virtio::F_RING_INDIRECT_DESC | virtio::F_RING_EVENT_IDX |
                 F_MRG_RXBUF | F_STATUS;
    if (options.mac) {
        f |= F_MAC;
    }
    if (options.mtu != 0) {
        f |= F_MTU;
    }
    if (options.offloads) {
        // Guest -> tap: the tap takes partial checksums and GSO frames whatever its
        // offload flags say (tun_get_user -> virtio_net_hdr_to_skb).
        f |= F_CSUM | F_HOST_TSO4 | F_HOST_TSO6;
        if (tap.csum) {
            f |= F_GUEST_CSUM;
        }
        if (tap.csum && tap.tso) {
            f |= F_GUEST_TSO4 | F_GUEST_TSO6;
        }
    }
    return f;
}

std::vector<uint8_t> net_config_space(const NetOptions& options) {
    std::vector<uint8_t> c(12, 0);
    if (options.mac) {
        for (size_t i = 0; i < 6; ++i) {
            c[i] = (*options.mac)[i];
        }
    }
    put_le<uint16_t>(c, 6, S_LINK_UP);
    put_le<uint16_t>(c, 8, 1); // max_virtqueue_pairs
    put_le<uint16_t>(c, 10, options.mtu);
    return c;
}

Result<std::array<uint8_t, 6>> parse_mac(const std::string& text) {
    std::array<unsigned, 6> v{};
    char tail = 0;
    if (text.size() != 17 || std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1],
                                         &v[2], &v[3], &v[4], &v[5], &tail) != 6) {
        return Err(Error::with_errno(EINVAL, "mac '" + text + "' (want xx:xx:xx:xx:xx:xx)"));
    }
    std::array<uint8_t, 6> mac{};
    for (size_t i = 0; i < 6; ++i) {
        mac[i] = static_cast<uint8_t>(v[i]);
    }
    return mac;
}

std::string format_mac(const std::array<uint8_t, 6>& mac) {
    char buf[18];
    std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return buf;
}

} // namespace runvm::broker::net
