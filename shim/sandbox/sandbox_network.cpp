// The sandbox's network: namespace path from the spec, plumbing, and the guest's request.
#include "shim/sandbox/sandbox_network.hpp"

#include <cerrno>
#include <cstdio>

#include <linux/rtnetlink.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "base/io.hpp"
#include "base/unix_socket.hpp"
#include "shim/network/netns.hpp"

namespace runvm::shim {

namespace {

constexpr size_t kMaxNameFile = 64 * 1024; // the agent's limit

} // namespace

std::string mac_string(const std::array<uint8_t, 6>& m) {
    char s[18];
    std::snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    return s;
}

Result<void> require_network_namespace(const oci::Spec& spec) {
    if (spec.linux && spec.linux->namespaces) {
        for (const auto& ns : *spec.linux->namespaces) {
            if (ns.type == "network") {
                return Ok();
            }
        }
    }
    return Err(Error::with_errno(
        ENOTSUP, "linux.namespaces has no network namespace: the container would share the "
                 "host's network (docker --network host, a hostNetwork pod), which a VM cannot "
                 "do without taking over the host's interfaces; runvm refuses it"));
}

std::optional<std::string> network_namespace_path(const oci::Spec& spec) {
    if (!spec.linux || !spec.linux->namespaces) {
        return std::nullopt;
    }
    for (const auto& ns : *spec.linux->namespaces) {
        if (ns.type == "network" && ns.path && !ns.path->empty()) {
            return *ns.path;
        }
    }
    return std::nullopt;
}

GuestNameFiles guest_name_files(const oci::Spec& spec) {
    GuestNameFiles files;
    for (const auto& m : spec.mounts.value_or(std::vector<oci::Mount>{})) {
        std::string* into = m.destination == "/etc/resolv.conf" ? &files.resolv_conf
                            : m.destination == "/etc/hosts"     ? &files.hosts
                                                                : nullptr;
        if (!into || !m.source || m.source->empty() || (*m.source)[0] != '/') {
            continue;
        }
        auto text = read_file(*m.source);
        if (!text) {
            spdlog::warn("{} for the guest: {}", m.destination, text.error().str());
        } else if (text->size() > kMaxNameFile) {
            spdlog::warn("{} for the guest: {} is over 64 KiB, left out", m.destination, *m.source);
        } else {
            *into = std::move(*text);
        }
    }
    return files;
}

agent::v1::ConfigureNetworkRequest
network_request(const std::vector<network::NetInterface>& interfaces, const GuestNameFiles& files) {
    agent::v1::ConfigureNetworkRequest req;
    for (const auto& i : interfaces) {
        auto* out = req.add_interfaces();
        out->set_name(i.name);
        out->set_mac(mac_string(i.mac));
        out->set_mtu(i.mtu);
        for (const auto& a : i.addresses) {
            auto* addr = out->add_addresses();
            addr->set_address(a.address);
            addr->set_prefix_len(a.prefix_len);
        }
        for (const auto& r : i.routes) {
            if (r.protocol == RTPROT_KERNEL) {
                continue; // the guest's kernel makes it from the address
            }
            auto* route = req.add_routes();
            route->set_destination(r.destination);
            route->set_prefix_len(r.prefix_len);
            route->set_gateway(r.gateway);
            route->set_device(i.name);
            route->set_metric(r.metric);
            route->set_ipv6(r.family == AF_INET6);
        }
    }
    req.set_resolv_conf(files.resolv_conf);
    req.set_hosts(files.hosts);
    return req;
}

std::string spare_link_mac(size_t index) {
    return mac_string({0x02, 0x72, 0x76, 0x00, 0x00, static_cast<uint8_t>(index + 1)});
}

Result<void> offer_tap(int socket, int tap_fd, const std::string& what) {
    RUNVM_TRY(send_with_fds(socket, "tap", 3, {tap_fd}, what.c_str()));
    pollfd p{socket, POLLIN, 0};
    int rc = 0;
    do {
        rc = ::poll(&p, 1, 5000);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        return Err(Error::with_errno(rc == 0 ? ETIMEDOUT : errno,
                                     what + ": the broker did not answer the tap offer in 5 s"));
    }
    char reply[512];
    const ssize_t n = ::recv(socket, reply, sizeof reply, MSG_DONTWAIT);
    if (n < 0) {
        return Err(Error::from_errno("recv " + what));
    }
    const std::string answer(reply, static_cast<size_t>(n));
    if (answer != "ok") {
        return Err(Error::with_errno(EIO, what + ": the broker refused the tap: " +
                                              (answer.empty() ? "it hung up" : answer)));
    }
    return Ok();
}

Result<SandboxNetwork> SandboxNetwork::plumb(const std::string& netns_path) {
    SandboxNetwork n;
    n.path_ = netns_path;
    RUNVM_ASSIGN_OR_RETURN(n.netns_, network::open_netns(netns_path));
    const std::string what = "network namespace " + netns_path;
    // Checked on the open fd, so the file cannot change between the check and the plumbing.
    if (auto host = network::refuse_host_netns(n.netns_.get()); !host) {
        n.netns_.reset(); // nothing plumbed: nothing for the destructor to undo
        return Err(host.error().context(what));
    }
    auto left = network::cleanup(n.netns_.get(), kSandboxTapPrefix);
    if (!left) {
        return Err(left.error().context(what));
    }
    if (left->taps_removed || left->qdiscs_removed) {
        spdlog::info("{}: removed {} tap(s) and {} qdisc(s) of an earlier sandbox", what,
                     left->taps_removed, left->qdiscs_removed);
    }
    network::PlumbOptions options;
    options.tap_prefix = kSandboxTapPrefix;
    auto p = network::plumb(n.netns_.get(), options);
    if (!p) {
        return Err(p.error().context(what));
    }
    n.p_ = std::move(*p);
    return n;
}

void SandboxNetwork::teardown() {
    if (!netns_) {
        return;
    }
    if (auto r = network::teardown(netns_.get(), p_.interfaces); !r) {
        spdlog::warn("network namespace {}: teardown: {}", path_, r.error().str());
    }
    p_.tap_fds.clear();
    p_.interfaces.clear();
    netns_.reset();
}

SandboxNetwork::~SandboxNetwork() {
    teardown();
}

Result<void> cleanup_network_namespace(const std::string& netns_path) {
    auto fd = network::open_netns(netns_path);
    if (!fd) {
        // The namespace went with its holder (CNI deleted it): nothing is left in it.
        if (fd.error().code() == ENOENT) {
            return Ok();
        }
        return Err(fd.error());
    }
    RUNVM_TRY(network::cleanup(fd->get(), kSandboxTapPrefix));
    return Ok();
}

} // namespace runvm::shim
