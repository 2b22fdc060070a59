// virtio-vsock packet header (struct virtio_vsock_hdr) and the checks every packet from
// the guest passes before the device acts on it.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "broker/virtio/descriptor_chain.hpp"

namespace runvm::broker::vsock {

inline constexpr uint64_t HOST_CID = 2;
inline constexpr uint32_t HEADER_BYTES = 44;
inline constexpr uint16_t TYPE_STREAM = 1;
// Linux never sends more than VIRTIO_VSOCK_MAX_PKT_BUF_SIZE (64 KiB) in one packet.
inline constexpr uint32_t MAX_PAYLOAD = 64 * 1024;

enum Op : uint16_t {
    OP_INVALID = 0,
    OP_REQUEST = 1,
    OP_RESPONSE = 2,
    OP_RST = 3,
    OP_SHUTDOWN = 4,
    OP_RW = 5,
    OP_CREDIT_UPDATE = 6,
    OP_CREDIT_REQUEST = 7,
};

inline constexpr uint32_t SHUTDOWN_RCV = 1;  // the sender will receive no more
inline constexpr uint32_t SHUTDOWN_SEND = 2; // the sender will send no more

struct PacketHeader {
    uint64_t src_cid = 0;
    uint64_t dst_cid = 0;
    uint32_t src_port = 0;
    uint32_t dst_port = 0;
    uint32_t len = 0;
    uint16_t type = 0;
    uint16_t op = 0;
    uint32_t flags = 0;
    uint32_t buf_alloc = 0;
    uint32_t fwd_cnt = 0;
};

void encode_header(const PacketHeader& h, uint8_t out[HEADER_BYTES]);
PacketHeader decode_header(const uint8_t in[HEADER_BYTES]);

// A packet from the guest's tx queue: the header is read once; len fits the chain and
// MAX_PAYLOAD; the cids, type and op are ones the host answers to.
struct TxPacket {
    PacketHeader header;
    bool answer_with_rst = false; // invalid but addressed to us: the peer gets a reset
};
Result<TxPacket> parse_tx_packet(const DescriptorChain& chain, uint64_t guest_cid);

const char* op_name(uint16_t op);

} // namespace runvm::broker::vsock
