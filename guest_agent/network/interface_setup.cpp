// Guest interface setup: find by MAC (SIOCGIFHWADDR), then link, address and route requests.
#include "guest_agent/network/interface_setup.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "guest_agent/network/rtnl_socket.hpp"
#include "guest_agent/network/spare_links.hpp"

namespace runvm::agent::net {

namespace {

std::string mac_text(const std::array<uint8_t, 6>& mac) {
    char s[18];
    std::snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return s;
}

} // namespace

Result<int> find_link_by_mac(const std::array<uint8_t, 6>& mac) {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) {
        return Err(Error::from_errno("socket AF_INET for SIOCGIFHWADDR"));
    }
    std::unique_ptr<struct if_nameindex, decltype(&::if_freenameindex)> all(::if_nameindex(),
                                                                            &::if_freenameindex);
    if (!all) {
        return Err(Error::from_errno("if_nameindex"));
    }
    for (const struct if_nameindex* i = all.get(); i->if_index != 0; ++i) {
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
        if (::ioctl(s.get(), SIOCGIFHWADDR, &ifr) == 0 &&
            std::memcmp(ifr.ifr_hwaddr.sa_data, mac.data(), mac.size()) == 0) {
            return static_cast<int>(i->if_index);
        }
    }
    return Err(Error::with_errno(ENODEV, "no guest interface with MAC " + mac_text(mac) +
                                             " (virtio_net loaded? device added?)"));
}

Result<void> apply_network(const NetworkSpec& spec, const std::string& etc_dir) {
    RUNVM_TRY(park_links(spec.park));
    RUNVM_ASSIGN_OR_RETURN(RtnlSocket nl, RtnlSocket::open());
    std::map<std::string, int> index_of;
    for (const InterfaceSpec& i : spec.interfaces) {
        if (i.guest_mac) {
            RUNVM_TRY(unpark_link(*i.guest_mac));
        }
        RUNVM_ASSIGN_OR_RETURN(const int index, find_link_by_mac(i.guest_mac.value_or(i.mac)));
        char current[IF_NAMESIZE] = {};
        if (::if_indextoname(static_cast<unsigned>(index), current) == nullptr) {
            return Err(Error::from_errno("if_indextoname " + std::to_string(index)));
        }
        // A rename needs the link down; a fresh virtio-net link is down until set up here.
        const std::string rename = i.name == current ? "" : i.name;
        RUNVM_TRY(nl.request(link_request(nl.next_seq(), index, rename, i.mtu, false,
                                          i.guest_mac ? &i.mac : nullptr),
                             "rename " + std::string(current) + " to " + i.name + ", MTU " +
                                 std::to_string(i.mtu)));
        for (const AddressSpec& a : i.addresses) {
            RUNVM_TRY(nl.request(address_request(nl.next_seq(), index, a.address, a.prefix_len),
                                 "add address to " + i.name));
        }
        RUNVM_TRY(
            nl.request(link_request(nl.next_seq(), index, "", 0, true), "set " + i.name + " up"));
        index_of[i.name] = index;
    }
    for (const RouteSpec& r : spec.routes) {
        const auto it = index_of.find(r.device);
        if (it == index_of.end()) {
            return Err(Error::with_errno(EINVAL, "route via unknown device " + r.device));
        }
        RUNVM_TRY(nl.request(
            route_request(nl.next_seq(), it->second, r.destination, r.prefix_len,
                          r.gateway ? &*r.gateway : nullptr, r.metric),
            "add route " +
                (r.prefix_len == 0 ? std::string("default") : "/" + std::to_string(r.prefix_len)) +
                " via " + r.device));
    }
    if (!spec.resolv_conf.empty()) {
        RUNVM_TRY(write_file_atomic(etc_dir + "/resolv.conf", spec.resolv_conf, 0644));
    }
    if (!spec.hosts.empty()) {
        RUNVM_TRY(write_file_atomic(etc_dir + "/hosts", spec.hosts, 0644));
    }
    return Ok();
}

} // namespace runvm::agent::net
