// VnetHeader: the 12-byte virtio_net_hdr_v1 in front of every frame, and the checks a frame
// from the guest must pass before it reaches the tap.
#pragma once

#include <cstdint>

namespace runvm::broker::net {

struct VnetHeader {
    uint8_t flags = 0;
    uint8_t gso_type = 0;
    uint16_t hdr_len = 0;
    uint16_t gso_size = 0;
    uint16_t csum_start = 0;
    uint16_t csum_offset = 0;
    uint16_t num_buffers = 0;
};

VnetHeader decode_vnet_header(const uint8_t* raw);
void encode_vnet_header(const VnetHeader& h, uint8_t* raw);

enum class TxCheck { ok, too_short, too_long, bad_header };

// Checks a guest frame of `frame_bytes` (header included) against the negotiated
// features: sizes, known flags, GSO types that were acked with a non-zero gso_size and a
// hdr_len inside the frame, checksum offsets inside the frame.
TxCheck check_tx_frame(const VnetHeader& h, uint64_t frame_bytes, uint64_t acked_features);

} // namespace runvm::broker::net
