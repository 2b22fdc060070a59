// virtio-vsock header encoding and tx packet validation.
#include "broker/devices/vsock/packet.hpp"

#include <cerrno>
#include <cstring>

namespace runvm::broker::vsock {

namespace {

template <typename T>
void put(uint8_t* out, size_t at, T v) {
    std::memcpy(out + at, &v, sizeof(v));
}
template <typename T>
T get(const uint8_t* in, size_t at) {
    T v;
    std::memcpy(&v, in + at, sizeof(v));
    return v;
}

} // namespace

void encode_header(const PacketHeader& h, uint8_t out[HEADER_BYTES]) {
    put(out, 0, h.src_cid);
    put(out, 8, h.dst_cid);
    put(out, 16, h.src_port);
    put(out, 20, h.dst_port);
    put(out, 24, h.len);
    put(out, 28, h.type);
    put(out, 30, h.op);
    put(out, 32, h.flags);
    put(out, 36, h.buf_alloc);
    put(out, 40, h.fwd_cnt);
}

PacketHeader decode_header(const uint8_t in[HEADER_BYTES]) {
    PacketHeader h;
    h.src_cid = get<uint64_t>(in, 0);
    h.dst_cid = get<uint64_t>(in, 8);
    h.src_port = get<uint32_t>(in, 16);
    h.dst_port = get<uint32_t>(in, 20);
    h.len = get<uint32_t>(in, 24);
    h.type = get<uint16_t>(in, 28);
    h.op = get<uint16_t>(in, 30);
    h.flags = get<uint32_t>(in, 32);
    h.buf_alloc = get<uint32_t>(in, 36);
    h.fwd_cnt = get<uint32_t>(in, 40);
    return h;
}

const char* op_name(uint16_t op) {
    switch (op) {
    case OP_REQUEST:
        return "REQUEST";
    case OP_RESPONSE:
        return "RESPONSE";
    case OP_RST:
        return "RST";
    case OP_SHUTDOWN:
        return "SHUTDOWN";
    case OP_RW:
        return "RW";
    case OP_CREDIT_UPDATE:
        return "CREDIT_UPDATE";
    case OP_CREDIT_REQUEST:
        return "CREDIT_REQUEST";
    default:
        return "unknown op";
    }
}

Result<TxPacket> parse_tx_packet(const DescriptorChain& chain, uint64_t guest_cid) {
    uint8_t raw[HEADER_BYTES];
    if (chain.read(0, raw, sizeof(raw)) != sizeof(raw)) {
        return Err(Error::with_errno(EINVAL, "vsock tx: packet of " +
                                                 std::to_string(chain.readable_bytes) +
                                                 " bytes has no header"));
    }
    TxPacket p;
    p.header = decode_header(raw);
    const PacketHeader& h = p.header;
    if (h.src_cid != guest_cid || h.dst_cid != HOST_CID) {
        return Err(Error::with_errno(EINVAL, "vsock tx: cid " + std::to_string(h.src_cid) + " -> " +
                                                 std::to_string(h.dst_cid) +
                                                 " is not guest -> host"));
    }
    // From here on the packet names a connection of ours: refusals answer with RST.
    p.answer_with_rst = h.op != OP_RST;
    if (h.len > MAX_PAYLOAD || h.len > chain.readable_bytes - HEADER_BYTES) {
        return Err(Error::with_errno(
            EMSGSIZE, "vsock tx: len " + std::to_string(h.len) + " with " +
                          std::to_string(chain.readable_bytes - HEADER_BYTES) + " payload bytes"));
    }
    if (h.type != TYPE_STREAM) {
        return Err(
            Error::with_errno(EPROTONOSUPPORT, "vsock tx: socket type " + std::to_string(h.type)));
    }
    if (h.op < OP_REQUEST || h.op > OP_CREDIT_REQUEST) {
        return Err(Error::with_errno(EOPNOTSUPP, "vsock tx: op " + std::to_string(h.op)));
    }
    if (h.op != OP_RW && h.len != 0) {
        return Err(Error::with_errno(EINVAL, std::string("vsock tx: ") + op_name(h.op) +
                                                 " with a payload of " + std::to_string(h.len)));
    }
    p.answer_with_rst = false;
    return p;
}

} // namespace runvm::broker::vsock
