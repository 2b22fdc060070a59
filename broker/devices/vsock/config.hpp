// virtio-vsock (virtio 1.2 section 5.10): options, features and the configuration space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/runtime/device_spec.hpp"

namespace runvm::broker::vsock {

struct VsockOptions {
    // Host clients connect here (hybrid vsock); guest connections to port P go to "<uds>_P".
    std::string uds_path;
    uint64_t guest_cid = 3;
};

// The frontend hands only rx and tx to the backend; the event queue stays with it (as in
// QEMU's vhost-user-vsock), so two queues.
inline constexpr uint16_t RXQ = 0;
inline constexpr uint16_t TXQ = 1;

// The keys of "--vsock <sock>[,uds=<host socket>][,cid=<guest cid>]"; uds defaults to
// "<sock>.host".
inline constexpr std::string_view SPEC_KEYS[] = {"uds", "cid"};
Result<VsockOptions> parse_options(const DeviceSpec& spec);

uint64_t vsock_features();
std::vector<uint8_t> vsock_config_space(uint64_t guest_cid); // le64 guest_cid

} // namespace runvm::broker::vsock
