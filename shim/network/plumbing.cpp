// plumb / teardown / cleanup, each run on a thread inside the target namespace.
#include "shim/network/plumbing.hpp"

#include <cerrno>
#include <cstdio>

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include "base/scope_guard.hpp"
#include "shim/network/links.hpp"
#include "shim/network/netns.hpp"
#include "shim/network/tap_device.hpp"
#include "shim/network/tc.hpp"

namespace runvm::network {

namespace {

bool is_our_tap(const Link& l, const std::string& prefix) {
    return l.kind == "tun" && l.name.rfind(prefix, 0) == 0;
}

Result<std::vector<NetInterface>> describe_here(NetlinkSocket& nl, const std::string& prefix) {
    RUNVM_ASSIGN_OR_RETURN(auto links, list_links(nl));
    RUNVM_ASSIGN_OR_RETURN(auto addresses, list_addresses(nl));
    RUNVM_ASSIGN_OR_RETURN(auto routes, list_routes(nl));
    std::vector<NetInterface> out;
    for (const Link& l : links) {
        if (l.type != ARPHRD_ETHER || !l.has_mac || is_our_tap(l, prefix)) {
            continue; // loopback, tunnels without a MAC, our own taps
        }
        NetInterface i;
        i.name = l.name;
        i.index = l.index;
        i.mac = l.mac;
        i.mtu = l.mtu;
        for (const Address& a : addresses) {
            if (a.link_index == l.index) {
                i.addresses.push_back(a);
            }
        }
        for (const Route& r : routes) {
            if (r.link_index == l.index) {
                i.routes.push_back(r);
            }
        }
        out.push_back(std::move(i));
    }
    return out;
}

// The first <prefix>N that no interface uses yet.
std::string free_tap_name(const std::vector<Link>& links, const std::string& prefix, int* next) {
    for (;; ++*next) {
        const std::string name = prefix + std::to_string(*next);
        bool used = false;
        for (const Link& l : links) {
            used = used || l.name == name;
        }
        if (!used) {
            ++*next;
            return name;
        }
    }
}

} // namespace

Result<std::vector<NetInterface>> describe(int netns_fd, const std::string& tap_prefix) {
    return run_in_netns(netns_fd, [&]() -> Result<std::vector<NetInterface>> {
        RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
        return describe_here(nl, tap_prefix);
    });
}

Result<Plumbing> plumb(int netns_fd, const PlumbOptions& options) {
    RUNVM_TRY(refuse_host_netns(netns_fd));
    return run_in_netns(netns_fd, [&]() -> Result<Plumbing> {
        RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
        RUNVM_ASSIGN_OR_RETURN(auto interfaces, describe_here(nl, options.tap_prefix));
        RUNVM_ASSIGN_OR_RETURN(auto links, list_links(nl));
        Plumbing p;
        std::vector<int> taps;   // made here: deleted on failure
        std::vector<int> qdiscs; // veth ingress qdiscs added here
        auto undo = ScopeGuard([&] {
            for (auto it = qdiscs.rbegin(); it != qdiscs.rend(); ++it) {
                (void)delete_ingress_qdisc(nl, *it);
            }
            for (auto it = taps.rbegin(); it != taps.rend(); ++it) {
                (void)delete_link(nl, *it);
            }
        });
        int next = 0;
        for (NetInterface& i : interfaces) {
            const std::string name = free_tap_name(links, options.tap_prefix, &next);
            RUNVM_ASSIGN_OR_RETURN(UniqueFd tap, create_tap(name, options.persist_taps));
            // if_nametoindex asks through a socket of this thread, so of this namespace.
            const int tap_index = static_cast<int>(::if_nametoindex(name.c_str()));
            if (tap_index == 0) {
                return Err(Error::from_errno("if_nametoindex " + name));
            }
            taps.push_back(tap_index);
            RUNVM_TRY(set_link_up(nl, tap_index, i.mtu));
            RUNVM_TRY(add_ingress_qdisc(nl, i.index));
            qdiscs.push_back(i.index);
            RUNVM_TRY(add_ingress_qdisc(nl, tap_index));
            RUNVM_TRY(add_redirect_filter(nl, i.index, tap_index));
            RUNVM_TRY(add_redirect_filter(nl, tap_index, i.index));
            i.tap_name = name;
            i.tap_index = tap_index;
            p.tap_fds.push_back(options.persist_taps ? UniqueFd() : std::move(tap));
        }
        undo.dismiss();
        p.interfaces = std::move(interfaces);
        return p;
    });
}

Result<void> teardown(int netns_fd, const std::vector<NetInterface>& interfaces) {
    return run_in_netns(netns_fd, [&]() -> Result<void> {
        RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
        Result<void> first_error = Ok();
        for (const NetInterface& i : interfaces) {
            auto q = delete_ingress_qdisc(nl, i.index);
            if (!q && first_error.ok()) {
                first_error = std::move(q);
            }
            if (i.tap_index == 0) {
                continue;
            }
            auto d = delete_link(nl, i.tap_index);
            // A tap that went with its last fd is already gone.
            if (!d && d.error().code() != ENODEV && first_error.ok()) {
                first_error = std::move(d);
            }
        }
        return first_error;
    });
}

Result<CleanupReport> cleanup(int netns_fd, const std::string& tap_prefix) {
    RUNVM_TRY(refuse_host_netns(netns_fd));
    return run_in_netns(netns_fd, [&]() -> Result<CleanupReport> {
        RUNVM_ASSIGN_OR_RETURN(NetlinkSocket nl, NetlinkSocket::open());
        RUNVM_ASSIGN_OR_RETURN(auto links, list_links(nl));
        CleanupReport report;
        for (const Link& l : links) {
            if (is_our_tap(l, tap_prefix)) {
                RUNVM_TRY(delete_link(nl, l.index));
                ++report.taps_removed;
                continue;
            }
            RUNVM_ASSIGN_OR_RETURN(bool ingress, has_ingress_qdisc(nl, l.index));
            if (!ingress) {
                continue;
            }
            RUNVM_ASSIGN_OR_RETURN(auto filters, list_ingress_filters(nl, l.index));
            bool ours = false;
            for (const IngressFilter& f : filters) {
                ours = ours || f.prio == REDIRECT_FILTER_PRIO;
            }
            if (ours) {
                RUNVM_TRY(delete_ingress_qdisc(nl, l.index));
                ++report.qdiscs_removed;
            }
        }
        return report;
    });
}

nlohmann::json to_json(const std::vector<NetInterface>& interfaces) {
    auto family = [](int f) { return f == AF_INET ? "inet" : "inet6"; };
    nlohmann::json out = nlohmann::json::array();
    for (const NetInterface& i : interfaces) {
        char mac[18];
        std::snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", i.mac[0], i.mac[1],
                      i.mac[2], i.mac[3], i.mac[4], i.mac[5]);
        nlohmann::json addresses = nlohmann::json::array();
        for (const Address& a : i.addresses) {
            addresses.push_back({{"family", family(a.family)},
                                 {"address", a.address},
                                 {"prefix_len", a.prefix_len}});
        }
        nlohmann::json routes = nlohmann::json::array();
        for (const Route& r : i.routes) {
            routes.push_back({{"family", family(r.family)},
                              {"destination", r.destination},
                              {"prefix_len", r.prefix_len},
                              {"gateway", r.gateway},
                              {"scope", r.scope},
                              {"protocol", r.protocol},
                              {"metric", r.metric}});
        }
        out.push_back({{"name", i.name},
                       {"mac", mac},
                       {"mtu", i.mtu},
                       {"tap", i.tap_name},
                       {"addresses", addresses},
                       {"routes", routes}});
    }
    return out;
}

} // namespace runvm::network
