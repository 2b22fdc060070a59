// TxQueue (guest frames written to the tap: the checked header copy, then the payload from
// guest memory) and RxQueue (tap frames read
// into guest buffers, spread over several with MRG_RXBUF), FRAMES_PER_WAKE frames per
// direction per wake-up.
#include "broker/devices/net/queue.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "broker/devices/net/vnet_header.hpp"
#include "broker/virtio/virtio_spec.hpp"

namespace runvm::broker::net {

namespace {

constexpr size_t MAX_IOV = 1024; // UIO_MAXIOV

// The first `len` bytes of a chain's writable part (the header the tap wrote there).
void read_writable(const DescriptorChain& c, uint8_t* out, size_t len) {
    for (const Segment& s : c.writable) {
        const size_t n = std::min<size_t>(len, s.len);
        std::memcpy(out, s.host, n);
        out += n;
        len -= n;
        if (len == 0) {
            return;
        }
    }
}

// virtio 1.2 5.1.6.1: the header has num_buffers (12 bytes, the tap's setting) with
// VERSION_1 or, for legacy drivers (QEMU's virtio-mmio defaults to legacy), MRG_RXBUF.
bool twelve_byte_header(uint64_t acked) {
    return (acked & (virtio::F_VERSION_1 | F_MRG_RXBUF)) != 0;
}

// Whether the driver accepts what the tap's header asks of it.
bool rx_offloads_acked(const VnetHeader& h, uint64_t acked) {
    if ((h.flags & HDR_F_NEEDS_CSUM) != 0 && (acked & F_GUEST_CSUM) == 0) {
        return false;
    }
    switch (h.gso_type) { // ECN and UDP were never offered
    case GSO_NONE:
        return true;
    case GSO_TCPV4:
        return (acked & F_GUEST_TSO4) != 0;
    case GSO_TCPV6:
        return (acked & F_GUEST_TSO6) != 0;
    default:
        return false;
    }
}

} // namespace

bool TxQueue::process(DeviceContext& ctx) {
    Virtqueue* q = ctx.queue(TXQ);
    if (q == nullptr) {
        return false;
    }
    const uint64_t malformed_before = q->stats().malformed_chains;
    bool added = false;
    bool cut = false;
    for (unsigned frames = 0;; ++frames) {
        if (frames == FRAMES_PER_WAKE) {
            // Come back after whatever else is ready: the kick eventfd was drained already
            // and, with EVENT_IDX, the driver will not kick again for these chains.
            ++stats_.yields;
            cut = true;
            break;
        }
        auto got = q->pop(chain_);
        if (!got) {
            spdlog::error("net: tx queue: {}", got.error().str());
            break;
        }
        if (!*got) {
            if (q->enable_kicks()) {
                continue;
            }
            break;
        }
        send_frame(ctx, chain_);
        q->add_used(chain_.head, 0);
        added = true;
        if (q->event_idx()) {
            ctx.notify(TXQ);
        }
    }
    if (added || q->stats().malformed_chains != malformed_before) {
        ctx.notify(TXQ);
    }
    return cut;
}

TxCheck prepare_tx_frame(const DescriptorChain& chain, uint64_t acked_features, TxFrame& frame) {
    frame.iov.clear();
    if (chain.read(0, frame.header, sizeof(frame.header)) != sizeof(frame.header)) {
        return TxCheck::too_short;
    }
    const TxCheck check =
        check_tx_frame(decode_vnet_header(frame.header), chain.readable_bytes, acked_features);
    if (check != TxCheck::ok) {
        return check;
    }
    if (!twelve_byte_header(acked_features)) {
        return TxCheck::bad_header; // a 10-byte legacy header
    }
    // check_tx_frame bounds readable_bytes to one frame, so the payload length fits.
    chain.readable_iov(VNET_HDR_BYTES, chain.readable_bytes - VNET_HDR_BYTES, frame.iov);
    if (frame.iov.size() + 1 > MAX_IOV) {
        frame.iov.clear();
        return TxCheck::bad_header; // more pieces than writev takes
    }
    frame.iov.insert(frame.iov.begin(), iovec{frame.header, sizeof(frame.header)});
    return TxCheck::ok;
}

ssize_t write_tx_frame(int fd, const TxFrame& frame) {
    ssize_t n;
    do {
        n = ::writev(fd, frame.iov.data(), static_cast<int>(frame.iov.size()));
    } while (n < 0 && errno == EINTR);
    return n;
}

bool TxQueue::send_frame(DeviceContext& ctx, const DescriptorChain& chain) {
    switch (prepare_tx_frame(chain, ctx.acked_features(), frame_)) {
    case TxCheck::ok:
        break;
    case TxCheck::too_short:
        ++stats_.tx_too_short;
        return false;
    case TxCheck::too_long:
        ++stats_.tx_too_long;
        return false;
    case TxCheck::bad_header:
        ++stats_.tx_bad_header;
        return false;
    }
    if (write_tx_frame(tap_.fd.get(), frame_) < 0) {
        if (stats_.tx_errors++ == 0) {
            spdlog::warn("net: writev tap {}: {}", tap_.name, std::strerror(errno));
        }
        return false;
    }
    ++stats_.tx_frames;
    stats_.tx_bytes += chain.readable_bytes - VNET_HDR_BYTES;
    return true;
}

uint32_t RxQueue::frame_limit(const DeviceContext& ctx) const {
    const uint64_t acked = ctx.acked_features();
    if ((acked & (F_GUEST_TSO4 | F_GUEST_TSO6)) != 0) {
        return VNET_HDR_BYTES + MAX_FRAME_BYTES;
    }
    const uint32_t mtu = options_.mtu != 0 ? options_.mtu : 1500;
    return VNET_HDR_BYTES + ETH_HEADER_BYTES + 4 + mtu;
}

bool RxQueue::gather_buffers(DeviceContext& ctx, Virtqueue& q, size_t* popped) {
    const bool merge = (ctx.acked_features() & F_MRG_RXBUF) != 0;
    const uint64_t need = frame_limit(ctx);
    uint64_t room = 0;
    *popped = 0;
    iov_.clear();
    while (room < need) {
        if (*popped == chains_.size()) {
            chains_.emplace_back();
        }
        DescriptorChain& c = chains_[*popped];
        auto got = q.pop(c);
        if (!got || !*got) {
            if (!got) {
                spdlog::error("net: rx queue: {}", got.error().str());
            }
            break;
        }
        if (*popped == 0 && c.writable_bytes < VNET_HDR_BYTES) {
            // No room for even the header: returned unused, the frame waits for the next.
            q.add_used(c.head, 0);
            ++stats_.rx_dropped;
            continue;
        }
        if (c.writable_bytes == 0 || iov_.size() + c.writable.size() > MAX_IOV) {
            q.unpop(); // becomes the first chain of the next frame
            break;
        }
        ++*popped;
        for (const Segment& s : c.writable) {
            iov_.push_back(iovec{s.host, s.len});
        }
        room += c.writable_bytes;
        if (!merge) {
            break;
        }
    }
    if (*popped == 0) {
        return false;
    }
    // Wait for the guest to post more rather than truncate a large frame, unless the
    // whole ring is already here.
    if (room < need && merge && *popped < q.size() && !q.broken()) {
        for (size_t i = 0; i < *popped; ++i) {
            q.unpop();
        }
        *popped = 0;
        return false;
    }
    return true;
}

RxQueue::TapWatch RxQueue::pump(DeviceContext& ctx) {
    Virtqueue* q = ctx.queue(RXQ);
    const uint64_t acked = ctx.acked_features();
    if (q == nullptr || !twelve_byte_header(acked)) {
        return TapWatch::off;
    }
    const bool merge = (acked & F_MRG_RXBUF) != 0;
    bool added = false;
    TapWatch watch = TapWatch::keep;
    unsigned frames = 0;
    for (; frames < FRAMES_PER_WAKE; ++frames) {
        size_t popped = 0;
        if (!gather_buffers(ctx, *q, &popped)) {
            if (!q->broken() && q->enable_kicks()) {
                continue; // buffers arrived meanwhile
            }
            // The rx kick brings the tap back.
            ++stats_.rx_out_of_buffers;
            watch = TapWatch::off;
            break;
        }
        const ssize_t n = ::readv(tap_.fd.get(), iov_.data(), static_cast<int>(iov_.size()));
        const int err = errno;
        uint64_t room = 0;
        for (size_t i = 0; i < popped; ++i) {
            room += chains_[i].writable_bytes;
        }
        auto put_back = [&](size_t count) {
            for (size_t i = 0; i < count; ++i) {
                q->unpop();
            }
        };
        if (n < 0) {
            put_back(popped);
            if (err == EINTR) {
                continue;
            }
            if (err != EAGAIN) {
                // The tap went away (deleted under us: EBADFD) or broke: epoll would report
                // EPOLLERR for it forever, so it leaves the loop for good.
                spdlog::error("net: readv tap {}: {}; rx stopped", tap_.name, std::strerror(err));
                watch = TapWatch::broken;
                break;
            }
            watch = TapWatch::on; // empty: wait for the tap
            break;
        }
        // tun cuts a frame that does not fit and returns what it copied (the rest is lost):
        // buffers filled to the last byte that could not hold the largest frame mean a cut.
        const auto len = static_cast<uint64_t>(n);
        const bool cut = len >= room && room < frame_limit(ctx);
        if (cut || len < VNET_HDR_BYTES + ETH_HEADER_BYTES) {
            put_back(popped);
            ++stats_.rx_dropped;
            continue;
        }
        DescriptorChain& first = chains_[0];
        uint8_t raw[VNET_HDR_BYTES];
        read_writable(first, raw, sizeof(raw));
        VnetHeader h = decode_vnet_header(raw);
        if (!rx_offloads_acked(h, acked)) {
            // The tap kept offloads probed at open (seccomp refuses TUNSETOFFLOAD later) and
            // this driver did not take them.
            put_back(popped);
            ++stats_.rx_dropped;
            continue;
        }
        size_t used = 0;
        for (uint64_t left = len; left > 0; ++used) {
            left -= std::min<uint64_t>(left, chains_[used].writable_bytes);
        }
        put_back(popped - used);
        // tun skips the last two header bytes: num_buffers is the device's to fill.
        h.num_buffers = static_cast<uint16_t>(merge ? used : 1);
        encode_vnet_header(h, raw);
        first.write(0, raw, sizeof(raw));
        uint64_t left = len;
        for (size_t i = 0; i < used; ++i) {
            const uint64_t take = std::min<uint64_t>(left, chains_[i].writable_bytes);
            q->add_used(chains_[i].head, static_cast<uint32_t>(take));
            left -= take;
        }
        added = true;
        ++stats_.rx_frames;
        stats_.rx_bytes += len - VNET_HDR_BYTES;
        if (q->event_idx()) {
            ctx.notify(RXQ);
        }
    }
    if (frames == FRAMES_PER_WAKE) {
        ++stats_.yields; // the tap stays readable and watched: epoll brings us back
    }
    if (added) {
        ctx.notify(RXQ);
    }
    return watch;
}

} // namespace runvm::broker::net
