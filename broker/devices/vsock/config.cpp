// virtio-vsock features and configuration space.
#include "broker/devices/vsock/config.hpp"

#include <cerrno>

#include "broker/devices/le_bytes.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::vsock {

Result<VsockOptions> parse_options(const DeviceSpec& spec) {
    VsockOptions o;
    o.uds_path = spec.get("uds", spec.socket + ".host");
    if (spec.has("cid")) {
        // 0-2 are the hypervisor's, the local and the host's; 2^32-1 is VMADDR_CID_ANY.
        RUNVM_ASSIGN_OR_RETURN(o.guest_cid, spec_number(spec, "vsock", "cid", 3, 0xfffffffeULL));
    }
    return o;
}

uint64_t vsock_features() {
    // Stream only: VIRTIO_VSOCK_F_SEQPACKET is not offered.
    return virtio::F_VERSION_1 | virtio::F_RING_INDIRECT_DESC | virtio::F_RING_EVENT_IDX;
}

std::vector<uint8_t> vsock_config_space(uint64_t guest_cid) {
    std::vector<uint8_t> c(8, 0);
    put_le<uint64_t>(c, 0, guest_cid);
    return c;
}

} // namespace runvm::broker::vsock
