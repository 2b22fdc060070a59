// TxQueue and RxQueue: virtio-net's two queues over the tap: guest tx frames written to the
// tap from a checked copy of their header and the payload in guest memory, tap frames read straight
// into guest rx buffers (merged across several with MRG_RXBUF). Each call serves at most
// FRAMES_PER_WAKE frames.
#pragma once

#include <cstdint>
#include <vector>

#include <sys/uio.h>

#include "broker/devices/device.hpp"
#include "broker/devices/net/config.hpp"
#include "broker/devices/net/tap.hpp"
#include "broker/devices/net/vnet_header.hpp"

namespace runvm::broker::net {

// One guest tx frame ready for the tap. The header is a copy taken out of guest memory once
// and checked; iov[0] points at that copy, never at guest memory, so a guest that rewrites
// the header after the check (it owns that memory) cannot slip an unchecked one to the tap.
// The payload iovecs stay on guest memory: tun only copies those bytes.
struct TxFrame {
    uint8_t header[VNET_HDR_BYTES] = {};
    std::vector<iovec> iov;
};

// Copies and checks the chain's header and builds frame.iov (header copy, then the payload
// after the header's bytes). Anything but ok leaves nothing to send.
TxCheck prepare_tx_frame(const DescriptorChain& chain, uint64_t acked_features, TxFrame& frame);
// One writev of a prepared frame (EINTR retried); -1 with errno set on failure.
ssize_t write_tx_frame(int fd, const TxFrame& frame);

struct NetStats {
    uint64_t tx_frames = 0;
    uint64_t tx_bytes = 0;
    uint64_t tx_too_short = 0;
    uint64_t tx_too_long = 0;
    uint64_t tx_bad_header = 0;
    uint64_t tx_errors = 0; // the tap refused a frame (link down, out of memory)
    uint64_t rx_frames = 0;
    uint64_t rx_bytes = 0;
    uint64_t rx_dropped = 0;        // did not fit the guest's buffers, or bad buffers
    uint64_t rx_out_of_buffers = 0; // times the tap waited for guest buffers
    uint64_t yields = 0;            // batches cut at FRAMES_PER_WAKE
};

// Frames per direction per wake-up: a flooding guest or host cannot keep the device
// thread from its other fds (the vhost-user socket, the other direction).
inline constexpr unsigned FRAMES_PER_WAKE = 64;

class TxQueue {
public:
    TxQueue(const Tap& tap, NetStats& stats) : tap_(tap), stats_(stats) {}

    // Writes the guest's frames to the tap. True when the batch was cut at FRAMES_PER_WAKE:
    // the caller comes back after whatever else is ready.
    bool process(DeviceContext& ctx);

private:
    bool send_frame(DeviceContext& ctx, const DescriptorChain& chain);

    const Tap& tap_;
    NetStats& stats_;
    // Reused by every frame: the data path allocates nothing per frame.
    DescriptorChain chain_;
    TxFrame frame_;
};

class RxQueue {
public:
    // What the tap's registration should become after a pass.
    enum class TapWatch {
        keep,   // as it is (the batch was cut, or frames remain: epoll brings us back)
        on,     // the tap is empty: wait for it
        off,    // the guest has no buffers (or no queue): its rx kick brings the tap back
        broken, // the tap failed for good: it leaves the loop
    };

    RxQueue(const Tap& tap, const NetOptions& options, NetStats& stats)
        : tap_(tap), options_(options), stats_(stats) {}

    // Reads tap frames into the guest's buffers.
    TapWatch pump(DeviceContext& ctx);

private:
    // Pops chains until they can hold the largest frame the guest accepts; false when the
    // ring has too few buffers (all put back).
    bool gather_buffers(DeviceContext& ctx, Virtqueue& q, size_t* popped);
    uint32_t frame_limit(const DeviceContext& ctx) const;

    const Tap& tap_;
    const NetOptions& options_;
    NetStats& stats_;
    // Reused by every frame: the data path allocates nothing per frame.
    std::vector<DescriptorChain> chains_;
    std::vector<iovec> iov_;
};

} // namespace runvm::broker::net
