// NetworkSpec: what ConfigureNetwork asks of the guest, checked and parsed from the request
// (hostile input: names, MACs, addresses and prefix lengths are validated here).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "base/result.hpp"
#include "guest_agent/network/rtnl_requests.hpp"

namespace runvm::agent::net {

struct AddressSpec {
    IpAddress address;
    unsigned prefix_len = 0;
};

struct InterfaceSpec {
    std::string name;
    std::array<uint8_t, 6> mac{};
    // The link's MAC now, when `mac` is to be set on it (a pooled VM's parked spare link).
    std::optional<std::array<uint8_t, 6>> guest_mac;
    uint32_t mtu = 0; // 0: kept
    std::vector<AddressSpec> addresses;
};

struct RouteSpec {
    IpAddress destination; // family set even for the default route
    unsigned prefix_len = 0;
    std::optional<IpAddress> gateway;
    std::string device; // one of the interfaces' names
    uint32_t metric = 0;
};

struct NetworkSpec {
    std::vector<std::array<uint8_t, 6>> park; // links to move out of the VM's namespace
    std::vector<InterfaceSpec> interfaces;
    std::vector<RouteSpec> routes; // on-link routes first (a gateway must be reachable)
    std::string resolv_conf;
    std::string hosts;
};

inline constexpr size_t kMaxInterfaces = 16;
inline constexpr size_t kMaxRoutes = 256;
inline constexpr size_t kMaxAddresses = 64; // per interface
inline constexpr size_t kMaxConfigFile = 64 * 1024;

Result<std::array<uint8_t, 6>> parse_mac(const std::string& text);
Result<NetworkSpec> parse_network_request(const runvm::agent::v1::ConfigureNetworkRequest& req);

} // namespace runvm::agent::net
