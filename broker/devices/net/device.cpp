// NetDevice: tap setup, the event loop registrations, the negotiated features, and what
// the queues ask of the tap after each pass.
#include "broker/devices/net/device.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "base/unix_socket.hpp"

namespace runvm::broker::net {

Result<std::unique_ptr<NetDevice>> NetDevice::open(const NetOptions& options) {
    if (options.tap_socket_fd >= 0) {
        UniqueFd socket(options.tap_socket_fd);
        int type = 0;
        socklen_t len = sizeof type;
        if (::getsockopt(socket.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
            type != SOCK_SEQPACKET) {
            return Err(Error::with_errno(
                ENOTSOCK, "net: tap_socket=" + std::to_string(options.tap_socket_fd) +
                              ": not a SOCK_SEQPACKET socket"));
        }
        const TapOffloads assumed = options.offloads ? TapOffloads{true, true} : TapOffloads{};
        spdlog::info("net: waiting for a tap on fd {}", options.tap_socket_fd);
        return std::unique_ptr<NetDevice>(
            new NetDevice(options, awaited_tap(assumed), std::move(socket)));
    }
    Tap tap;
    if (options.tap_fd >= 0) {
        RUNVM_ASSIGN_OR_RETURN(tap, adopt_tap(UniqueFd(options.tap_fd), options.offloads));
    } else {
        RUNVM_ASSIGN_OR_RETURN(tap, open_tap(options.tap_name, options.offloads));
    }
    spdlog::info("net: tap {} (guest csum offload {}, guest tso {})", tap.name, tap.offloads.csum,
                 tap.offloads.tso);
    return std::unique_ptr<NetDevice>(new NetDevice(options, std::move(tap)));
}

std::unique_ptr<NetDevice> NetDevice::over_fd(const NetOptions& options, UniqueFd fd) {
    return std::unique_ptr<NetDevice>(
        new NetDevice(options, Tap{std::move(fd), "fd", TapOffloads{}}));
}

NetDevice::~NetDevice() {
    if (loop_ != nullptr) {
        loop_->remove(tap_token_);
        loop_->remove(resume_token_);
        loop_->remove(tap_socket_token_);
    }
}

Result<void> NetDevice::attach(DeviceContext* context, EventLoop* loop) {
    context_ = context;
    loop_ = loop;
    RUNVM_ASSIGN_OR_RETURN(resume_, EventFd::create());
    RUNVM_ASSIGN_OR_RETURN(resume_token_,
                           loop_->add(resume_.get(), EPOLLIN, [this](uint32_t) { on_resume(); }));
    if (tap_socket_) {
        RUNVM_ASSIGN_OR_RETURN(tap_socket_token_, loop_->add(tap_socket_.get(), EPOLLIN,
                                                             [this](uint32_t) { on_tap_offer(); }));
    }
    return tap_.fd ? watch_new_tap() : Ok();
}

Result<void> NetDevice::watch_new_tap() {
    // Registered with no events: the tap is watched only while the guest has rx buffers.
    RUNVM_ASSIGN_OR_RETURN(tap_token_,
                           loop_->add(tap_.fd.get(), 0, [this](uint32_t) { pump_rx(); }));
    return Ok();
}

// The tap socket's protocol: the shim sends one message with one tap fd attached; the
// answer is "ok", or "error: <why>" and the device goes on waiting. Once a tap is taken,
// every further offer is refused. The shim's end closing only ends the watch.
void NetDevice::on_tap_offer() {
    char buf[16];
    auto got = recv_with_fds(tap_socket_.get(), buf, sizeof buf, 1, "net tap socket");
    if (!got || got->bytes == 0) {
        loop_->remove(tap_socket_token_);
        tap_socket_token_ = 0;
        tap_socket_.reset();
        return;
    }
    const bool truncated = got->fds_truncated;
    auto taken = truncated ? Err(Error::with_errno(EINVAL, "more than one fd offered"))
                           : take_offered_tap(std::move(got->fds));
    const std::string reply = taken ? "ok" : "error: " + taken.error().str();
    if (!taken) {
        spdlog::warn("net: tap offer refused: {}", taken.error().str());
    }
    if (auto sent =
            send_with_fds(tap_socket_.get(), reply.data(), reply.size(), {}, "net tap socket");
        !sent) {
        spdlog::warn("net: {}", sent.error().str());
    }
}

Result<void> NetDevice::take_offered_tap(std::vector<UniqueFd> fds) {
    if (tap_.fd) {
        return Err(Error::with_errno(EEXIST, "tap " + tap_.name + " is attached already"));
    }
    if (fds.size() != 1) {
        return Err(Error::with_errno(EINVAL, "want one tap fd, got " + std::to_string(fds.size())));
    }
    RUNVM_ASSIGN_OR_RETURN(Tap tap, adopt_tap(std::move(fds.front()), options_.offloads));
    tap.offloads = offered_; // what the guest was offered; pump_rx drops what it did not ack
    tap_ = std::move(tap);
    if (auto watched = watch_new_tap(); !watched) {
        tap_ = awaited_tap(offered_);
        return watched;
    }
    spdlog::info("net: tap {} attached", tap_.name);
    applied_features_ = ~0ULL;
    if (context_->acked_features() != 0) {
        apply_features();
    }
    pump_rx();
    return Ok();
}

void NetDevice::watch_tap(bool on) {
    if (on == tap_watched_ || tap_failed_ || !tap_.fd) {
        return;
    }
    if (auto r = loop_->modify(tap_token_, on ? uint32_t{EPOLLIN} : 0U); !r) {
        spdlog::warn("net: tap {}: {}", tap_.name, r.error().str());
        return;
    }
    tap_watched_ = on;
}

void NetDevice::forget_tap() {
    loop_->remove(tap_token_);
    tap_failed_ = true;
    tap_watched_ = false;
}

void NetDevice::apply_features() {
    const uint64_t acked = context_->acked_features();
    if (acked == applied_features_) {
        return;
    }
    applied_features_ = acked;
    if (!options_.offloads) {
        return;
    }
    // Under the broker's seccomp filter ioctl is refused: the tap then keeps the offloads
    // probed at open, and frames the guest did not ask for are dropped in pump_rx.
    if (auto r = set_tap_offloads(tap_.fd.get(), acked); !r) {
        spdlog::debug("net: tap {}: {}", tap_.name, r.error().str());
    }
}

void NetDevice::on_kick(uint16_t queue) {
    apply_features();
    if (queue == TXQ) {
        process_tx();
    } else if (queue == RXQ) {
        pump_rx();
    }
}

void NetDevice::process_tx() {
    if (!tap_.fd) {
        // No tap yet: what the guest sends goes nowhere, as on a cable not plugged in.
        drain_queue(*context_, TXQ, [this](const DescriptorChain&) {
            ++stats_.tx_errors;
            return uint32_t{0};
        });
        return;
    }
    if (tx_.process(*context_)) {
        (void)resume_.signal();
    }
}

void NetDevice::pump_rx() {
    if (tap_failed_ || !tap_.fd) {
        return;
    }
    switch (rx_.pump(*context_)) {
    case RxQueue::TapWatch::keep:
        break;
    case RxQueue::TapWatch::on:
        watch_tap(true);
        break;
    case RxQueue::TapWatch::off:
        watch_tap(false);
        break;
    case RxQueue::TapWatch::broken:
        forget_tap();
        break;
    }
}

void NetDevice::on_resume() {
    resume_.drain();
    process_tx();
}

void NetDevice::reset() {
    // Once per frontend (disconnect or stop), not in the destructor: a device destroyed at
    // exit must not log after spdlog's registry is gone.
    const NetStats& s = stats_;
    spdlog::info("net: tap {}: tx {} frames {} bytes (dropped: {} short, {} long, {} bad header, "
                 "{} tap errors), rx {} frames {} bytes ({} dropped, {} waits for buffers)",
                 tap_.name, s.tx_frames, s.tx_bytes, s.tx_too_short, s.tx_too_long, s.tx_bad_header,
                 s.tx_errors, s.rx_frames, s.rx_bytes, s.rx_dropped, s.rx_out_of_buffers);
    if (loop_ != nullptr) {
        watch_tap(false);
        resume_.drain();
    }
    applied_features_ = ~0ULL;
}

} // namespace runvm::broker::net
