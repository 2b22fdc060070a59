// Plumbing a container's network namespace for its VM: each Ethernet interface there (a
// veth from Docker or CNI) gets a tap, and tc mirrors every frame between the two (ingress
// qdisc + u32 match-all + mirred egress redirect, each way, as Kata's tc-filter model). The
// interface keeps its MAC, addresses, routes and MTU; the description says what the guest
// must apply. Teardown and a crash cleanup undo all of it.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "shim/network/inventory.hpp"

namespace runvm::network {

struct PlumbOptions {
    std::string tap_prefix = "rvtap"; // taps are <prefix>0, <prefix>1, ...
    bool persist_taps = false;        // true: taps outlive their fds (opened by name later)
};

struct NetInterface {
    std::string name;
    int index = 0;
    std::array<uint8_t, 6> mac{};
    uint32_t mtu = 0;
    std::vector<Address> addresses;
    std::vector<Route> routes; // those through this interface
    std::string tap_name;      // set once plumbed
    int tap_index = 0;
};

struct Plumbing {
    std::vector<NetInterface> interfaces;
    std::vector<UniqueFd> tap_fds; // one per interface (invalid for persistent taps)
};

struct CleanupReport {
    int taps_removed = 0;
    int qdiscs_removed = 0;
};

// The namespace's Ethernet interfaces (loopback and our own taps left out), unchanged.
Result<std::vector<NetInterface>> describe(int netns_fd, const std::string& tap_prefix = "rvtap");
// Creates and wires a tap per interface; on failure everything made so far is undone.
Result<Plumbing> plumb(int netns_fd, const PlumbOptions& options = {});
// Removes what plumb made for `interfaces` (taps, qdiscs and the filters under them).
Result<void> teardown(int netns_fd, const std::vector<NetInterface>& interfaces);
// Removes every tap named <prefix>N and every ingress qdisc holding one of our filters:
// what a crashed sandbox left behind. Idempotent.
Result<CleanupReport> cleanup(int netns_fd, const std::string& tap_prefix = "rvtap");

nlohmann::json to_json(const std::vector<NetInterface>& interfaces);

} // namespace runvm::network
