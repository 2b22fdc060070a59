// VnetHeader encoding and the tx frame checks.
#include "broker/devices/net/vnet_header.hpp"

#include <cstring>

#include "broker/devices/le_bytes.hpp"
#include "broker/devices/net/config.hpp"

namespace runvm::broker::net {

VnetHeader decode_vnet_header(const uint8_t* raw) {
    VnetHeader h;
    h.flags = raw[0];
    h.gso_type = raw[1];
    h.hdr_len = get_le<uint16_t>(raw + 2);
    h.gso_size = get_le<uint16_t>(raw + 4);
    h.csum_start = get_le<uint16_t>(raw + 6);
    h.csum_offset = get_le<uint16_t>(raw + 8);
    h.num_buffers = get_le<uint16_t>(raw + 10);
    return h;
}

void encode_vnet_header(const VnetHeader& h, uint8_t* raw) {
    raw[0] = h.flags;
    raw[1] = h.gso_type;
    std::memcpy(raw + 2, &h.hdr_len, 2);
    std::memcpy(raw + 4, &h.gso_size, 2);
    std::memcpy(raw + 6, &h.csum_start, 2);
    std::memcpy(raw + 8, &h.csum_offset, 2);
    std::memcpy(raw + 10, &h.num_buffers, 2);
}

TxCheck check_tx_frame(const VnetHeader& h, uint64_t frame_bytes, uint64_t acked_features) {
    if (frame_bytes < VNET_HDR_BYTES + ETH_HEADER_BYTES) {
        return TxCheck::too_short;
    }
    if (frame_bytes > VNET_HDR_BYTES + MAX_FRAME_BYTES) {
        return TxCheck::too_long;
    }
    const uint64_t payload = frame_bytes - VNET_HDR_BYTES;
    if ((h.flags & ~(HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID)) != 0) {
        return TxCheck::bad_header;
    }
    if ((h.flags & HDR_F_NEEDS_CSUM) != 0) {
        if ((acked_features & F_CSUM) == 0 ||
            uint64_t{h.csum_start} + h.csum_offset + 2 > payload) {
            return TxCheck::bad_header;
        }
    }
    switch (h.gso_type) {
    case GSO_NONE:
        return TxCheck::ok;
    case GSO_TCPV4:
        if ((acked_features & F_HOST_TSO4) == 0) {
            return TxCheck::bad_header;
        }
        break;
    case GSO_TCPV6:
        if ((acked_features & F_HOST_TSO6) == 0) {
            return TxCheck::bad_header;
        }
        break;
    default: // UDP fragmentation, ECN and unknown types are never offered
        return TxCheck::bad_header;
    }
    if (h.gso_size == 0 || h.hdr_len > payload || (h.flags & HDR_F_NEEDS_CSUM) == 0) {
        return TxCheck::bad_header;
    }
    return TxCheck::ok;
}

} // namespace runvm::broker::net
