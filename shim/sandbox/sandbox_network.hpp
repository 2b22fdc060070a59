// SandboxNetwork: the container's host network namespace (the spec's path: Docker's or a CNI
// plugin's) plumbed for its VM: a tap per interface mirrored by tc, handed to the broker,
// and the description the guest agent applies (ConfigureNetwork). Undone when dropped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent.pb.h"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "oci/spec.hpp"
#include "shim/network/plumbing.hpp"

namespace runvm::shim {

inline constexpr const char* kSandboxTapPrefix = "rvtap";

// A spec whose linux.namespaces has no network entry shares the runtime's network, the
// host's (docker --network host, a hostNetwork pod): a VM cannot share it without taking over
// the host's interfaces, so it is refused (ENOTSUP), as Kata does. guest_spec() checks it,
// before anything boots.
Result<void> require_network_namespace(const oci::Spec& spec);

// The path of the spec's network namespace, when it names one to join (a pre-made,
// configured namespace); nullopt for a new one (runc's: loopback only) or none.
std::optional<std::string> network_namespace_path(const oci::Spec& spec);

// What the guest's /etc/resolv.conf and /etc/hosts get: the host files the spec bind-mounts
// there (Docker's, containerd's CRI), read now; empty when not mounted or unreadable.
struct GuestNameFiles {
    std::string resolv_conf;
    std::string hosts;
};
GuestNameFiles guest_name_files(const oci::Spec& spec);

// "02:42:ac:11:00:02"
std::string mac_string(const std::array<uint8_t, 6>& mac);

// The MAC of a pooled VM's spare link `index` until it takes a container's interface:
// locally administered, "rv" (02:72:76:00:00:01 for the first).
std::string spare_link_mac(size_t index);

// Hands `tap_fd` to a broker's net device that waits for its tap (--net ...,tap_socket=) over
// `socket`, and waits (5 s) for its answer: "ok", or the error that names what it refused.
Result<void> offer_tap(int socket, int tap_fd, const std::string& what);

// ConfigureNetwork for these interfaces: name, MAC, MTU, addresses; every route through them
// except those the kernel makes from an address (protocol kernel), which the guest's kernel
// makes again.
agent::v1::ConfigureNetworkRequest
network_request(const std::vector<network::NetInterface>& interfaces, const GuestNameFiles& files);

class SandboxNetwork {
public:
    // Removes what a crashed sandbox left in the namespace, then plumbs every interface.
    // The host's own namespace (pid 1's, or the monitor's) is refused (EPERM).
    static Result<SandboxNetwork> plumb(const std::string& netns_path);
    SandboxNetwork(SandboxNetwork&&) = default;
    SandboxNetwork& operator=(SandboxNetwork&&) = delete;
    ~SandboxNetwork(); // teardown()

    const std::vector<network::NetInterface>& interfaces() const { return p_.interfaces; }
    // The taps' fds, one per interface: the broker inherits them; close them once it runs
    // (the taps then go with the broker).
    std::vector<UniqueFd>& tap_fds() { return p_.tap_fds; }
    // Removes taps, qdiscs and filters. Idempotent.
    void teardown();

private:
    SandboxNetwork() = default;
    std::string path_;
    UniqueFd netns_;
    network::Plumbing p_;
};

// What `delete --force` does after a monitor died: the namespace's leftovers removed.
Result<void> cleanup_network_namespace(const std::string& netns_path);

} // namespace runvm::shim
