// ConfigureNetworkRequest -> NetworkSpec with every field checked.
#include "guest_agent/network/network_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include <net/if.h>

namespace runvm::agent::net {

namespace {

Result<void> check_name(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == ".." ||
        name.find_first_of("/: \t\n") != std::string::npos) {
        return Err(Error::with_errno(EINVAL, "interface name '" + name + "'"));
    }
    return Ok();
}

} // namespace

Result<std::array<uint8_t, 6>> parse_mac(const std::string& text) {
    std::array<uint8_t, 6> mac{};
    unsigned v[6];
    char tail = 0;
    // Exactly xx:xx:xx:xx:xx:xx: sscanf alone would take "0x" as a hex digit pair.
    bool shaped = text.size() == 17;
    for (size_t i = 0; shaped && i < text.size(); ++i) {
        shaped = i % 3 == 2 ? text[i] == ':' : std::isxdigit(static_cast<unsigned char>(text[i]));
    }
    if (!shaped || std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
                               &v[3], &v[4], &v[5], &tail) != 6) {
        return Err(Error::with_errno(EINVAL, "MAC address '" + text + "'"));
    }
    for (size_t i = 0; i < 6; ++i) {
        mac[i] = static_cast<uint8_t>(v[i]);
    }
    return mac;
}

Result<NetworkSpec> parse_network_request(const runvm::agent::v1::ConfigureNetworkRequest& req) {
    NetworkSpec spec;
    if (static_cast<size_t>(req.interfaces_size()) > kMaxInterfaces ||
        static_cast<size_t>(req.park_size()) > kMaxInterfaces ||
        static_cast<size_t>(req.routes_size()) > kMaxRoutes) {
        return Err(Error::with_errno(
            E2BIG, "ConfigureNetwork: " + std::to_string(req.interfaces_size()) + " interfaces, " +
                       std::to_string(req.routes_size()) + " routes, " +
                       std::to_string(req.park_size()) + " links to park"));
    }
    for (const auto& text : req.park()) {
        RUNVM_ASSIGN_OR_RETURN(const auto mac, parse_mac(text));
        if (std::find(spec.park.begin(), spec.park.end(), mac) != spec.park.end()) {
            return Err(Error::with_errno(EINVAL, "park: " + text + " given twice"));
        }
        spec.park.push_back(mac);
    }
    if (req.resolv_conf().size() > kMaxConfigFile || req.hosts().size() > kMaxConfigFile) {
        return Err(Error::with_errno(E2BIG, "ConfigureNetwork: resolv.conf or hosts over 64 KiB"));
    }
    for (const auto& i : req.interfaces()) {
        InterfaceSpec s;
        RUNVM_TRY(check_name(i.name()));
        s.name = i.name();
        RUNVM_ASSIGN_OR_RETURN(s.mac, parse_mac(i.mac()));
        if (!i.guest_mac().empty()) {
            RUNVM_ASSIGN_OR_RETURN(s.guest_mac, parse_mac(i.guest_mac()));
            if (std::find(spec.park.begin(), spec.park.end(), *s.guest_mac) != spec.park.end()) {
                return Err(Error::with_errno(EINVAL, "interface " + s.name + ": guest_mac " +
                                                         i.guest_mac() + " is also parked"));
            }
        }
        if (i.mtu() != 0 && (i.mtu() < 68 || i.mtu() > 65535)) {
            return Err(Error::with_errno(EINVAL, "interface " + s.name + ": MTU " +
                                                     std::to_string(i.mtu())));
        }
        s.mtu = i.mtu();
        if (static_cast<size_t>(i.addresses_size()) > kMaxAddresses) {
            return Err(Error::with_errno(E2BIG, "interface " + s.name + ": too many addresses"));
        }
        for (const auto& a : i.addresses()) {
            AddressSpec as;
            RUNVM_ASSIGN_OR_RETURN(as.address, parse_ip(a.address()));
            RUNVM_TRY(check_prefix(as.address, a.prefix_len(), "address " + a.address()));
            as.prefix_len = a.prefix_len();
            s.addresses.push_back(as);
        }
        for (const auto& other : spec.interfaces) {
            if (other.name == s.name || other.mac == s.mac ||
                (s.guest_mac && other.guest_mac == s.guest_mac)) {
                return Err(Error::with_errno(EINVAL, "interface " + s.name + " given twice"));
            }
        }
        spec.interfaces.push_back(std::move(s));
    }
    for (const auto& r : req.routes()) {
        RouteSpec s;
        const std::string what = "route " + (r.destination().empty() ? "default" : r.destination());
        if (r.destination().empty()) {
            if (r.prefix_len() != 0) {
                return Err(Error::with_errno(EINVAL, what + ": prefix length without destination"));
            }
            s.destination.family = r.ipv6() ? AF_INET6 : AF_INET;
        } else {
            RUNVM_ASSIGN_OR_RETURN(s.destination, parse_ip(r.destination()));
        }
        RUNVM_TRY(check_prefix(s.destination, r.prefix_len(), what));
        s.prefix_len = r.prefix_len();
        if (!r.gateway().empty()) {
            RUNVM_ASSIGN_OR_RETURN(auto gw, parse_ip(r.gateway()));
            if (gw.family != s.destination.family) {
                return Err(Error::with_errno(EINVAL, what + ": gateway " + r.gateway() +
                                                         " of another family"));
            }
            s.gateway = gw;
        }
        const bool known =
            std::any_of(spec.interfaces.begin(), spec.interfaces.end(),
                        [&](const InterfaceSpec& i) { return i.name == r.device(); });
        if (!known) {
            return Err(Error::with_errno(EINVAL, what + ": device '" + r.device() +
                                                     "' is not one of the interfaces"));
        }
        s.device = r.device();
        s.metric = r.metric();
        spec.routes.push_back(std::move(s));
    }
    std::stable_partition(spec.routes.begin(), spec.routes.end(),
                          [](const RouteSpec& r) { return !r.gateway; });
    spec.resolv_conf = req.resolv_conf();
    spec.hosts = req.hosts();
    return spec;
}

} // namespace runvm::agent::net
