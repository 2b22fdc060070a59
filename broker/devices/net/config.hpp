// virtio-net (virtio 1.2 section 5.1): options, feature bits, the vnet header and the
// configuration space.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::net {

struct NetOptions {
    std::string tap_name; // the broker opens (or creates) this tap in its own namespace
    int tap_fd = -1;      // or adopts this inherited tap fd (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR)
    // or waits for its tap on this inherited unix socket (SOCK_SEQPACKET): a pooled VM's
    // device, booted before its container's network namespace exists (NetDevice::on_tap_offer).
    int tap_socket_fd = -1;
    std::optional<std::array<uint8_t, 6>> mac;
    uint16_t mtu = 0;     // 0: no VIRTIO_NET_F_MTU
    bool offloads = true; // checksum and TSO offloads where the tap supports them
};

// The frontend keeps the control queue (QEMU handles it itself for vhost-user): two queues.
inline constexpr uint16_t RXQ = 0;
inline constexpr uint16_t TXQ = 1;

inline constexpr uint64_t F_CSUM = 1ULL << 0;
inline constexpr uint64_t F_GUEST_CSUM = 1ULL << 1;
inline constexpr uint64_t F_MTU = 1ULL << 3;
inline constexpr uint64_t F_MAC = 1ULL << 5;
inline constexpr uint64_t F_GUEST_TSO4 = 1ULL << 7;
inline constexpr uint64_t F_GUEST_TSO6 = 1ULL << 8;
inline constexpr uint64_t F_HOST_TSO4 = 1ULL << 11;
inline constexpr uint64_t F_HOST_TSO6 = 1ULL << 12;
inline constexpr uint64_t F_MRG_RXBUF = 1ULL << 15;
inline constexpr uint64_t F_STATUS = 1ULL << 16;

inline constexpr uint16_t S_LINK_UP = 1;

// struct virtio_net_hdr_v1 (12 bytes, VERSION_1): the tap is set to the same size
// (TUNSETVNETHDRSZ), so frames pass between guest and tap with their header unchanged.
inline constexpr uint32_t VNET_HDR_BYTES = 12;
inline constexpr uint8_t HDR_F_NEEDS_CSUM = 1;
inline constexpr uint8_t HDR_F_DATA_VALID = 2;
inline constexpr uint8_t GSO_NONE = 0;
inline constexpr uint8_t GSO_TCPV4 = 1;
inline constexpr uint8_t GSO_UDP = 3;
inline constexpr uint8_t GSO_TCPV6 = 4;
inline constexpr uint8_t GSO_ECN = 0x80;

inline constexpr uint32_t ETH_HEADER_BYTES = 14;
// The largest frame either way: 64 KiB of GSO payload plus an Ethernet and a VLAN header.
inline constexpr uint32_t MAX_FRAME_BYTES = 65536 + ETH_HEADER_BYTES + 4;

// What the tap accepts for frames it hands to the guest (TUNSETOFFLOAD succeeded).
struct TapOffloads {
    bool csum = false;
    bool tso = false;
};

// The keys of "--net <sock>,tap=<name>|fd=<inherited fd>|tap_socket=<inherited fd>
// [,mac=<xx:..>][,mtu=<n>][,nooffload]".
inline constexpr std::string_view SPEC_KEYS[] = {"tap", "fd",  "tap_socket",
                                                 "mac", "mtu", "nooffload"};
Result<NetOptions> parse_options(const DeviceSpec& spec);

uint64_t net_features(const NetOptions& options, const TapOffloads& tap);
// mac[6], le16 status, le16 max_virtqueue_pairs, le16 mtu.
std::vector<uint8_t> net_config_space(const NetOptions& options);

// "52:54:00:12:34:56".
Result<std::array<uint8_t, 6>> parse_mac(const std::string& text);
std::string format_mac(const std::array<uint8_t, 6>& mac);

} // namespace runvm::broker::net
