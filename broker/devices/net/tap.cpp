// Tap setup: TUNSETIFF/TUNGETIFF, the 12-byte vnet header, non-blocking I/O and offloads.
#include "broker/devices/net/tap.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include "base/unix_socket.hpp"

namespace runvm::broker::net {

namespace {

constexpr short TAP_FLAGS = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;

unsigned offload_bits(bool csum, bool tso4, bool tso6) {
    unsigned bits = 0;
    if (csum) {
        bits |= TUN_F_CSUM;
        bits |= tso4 ? TUN_F_TSO4 : 0U;
        bits |= tso6 ? TUN_F_TSO6 : 0U;
    }
    return bits;
}

Result<Tap> finish(UniqueFd fd, std::string name, bool offloads) {
    const std::string what = "tap " + name;
    int hdr = VNET_HDR_BYTES;
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0) {
        return Err(Error::from_errno("TUNSETVNETHDRSZ " + what));
    }
    RUNVM_TRY(set_nonblocking(fd.get(), true, what.c_str()));
    // Probe once, while the broker may still issue ioctls (seccomp comes later): the
    // features offered to the guest follow what the tap accepted here.
    Tap tap{std::move(fd), std::move(name), {}};
    if (offloads) {
        if (::ioctl(tap.fd.get(), TUNSETOFFLOAD, offload_bits(true, true, true)) == 0) {
            tap.offloads = {true, true};
        } else if (::ioctl(tap.fd.get(), TUNSETOFFLOAD, offload_bits(true, false, false)) == 0) {
            tap.offloads = {true, false};
        }
    } else if (::ioctl(tap.fd.get(), TUNSETOFFLOAD, 0U) < 0) {
        return Err(Error::from_errno("TUNSETOFFLOAD 0 " + what));
    }
    return tap;
}

} // namespace

Result<Tap> open_tap(const std::string& name, bool offloads) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return Err(Error::with_errno(EINVAL, "tap name '" + name + "'"));
    }
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /dev/net/tun"));
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = TAP_FLAGS;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
        return Err(Error::from_errno("TUNSETIFF tap " + name));
    }
    return finish(std::move(fd), ifr.ifr_name, offloads);
}

Result<Tap> adopt_tap(UniqueFd fd, bool offloads) {
    ifreq ifr{};
    if (::ioctl(fd.get(), TUNGETIFF, &ifr) < 0) {
        return Err(Error::from_errno("TUNGETIFF fd " + std::to_string(fd.get())));
    }
    const std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
    if ((ifr.ifr_flags & TAP_FLAGS) != TAP_FLAGS || (ifr.ifr_flags & IFF_TUN) != 0) {
        return Err(Error::with_errno(EINVAL, "fd " + std::to_string(fd.get()) + " (" + name +
                                                 "): not a tap with IFF_NO_PI and IFF_VNET_HDR"));
    }
    return finish(std::move(fd), name, offloads);
}

Result<void> set_tap_offloads(int fd, uint64_t acked_features) {
    const unsigned bits =
        offload_bits((acked_features & F_GUEST_CSUM) != 0, (acked_features & F_GUEST_TSO4) != 0,
                     (acked_features & F_GUEST_TSO6) != 0);
    if (::ioctl(fd, TUNSETOFFLOAD, bits) < 0) {
        return Err(Error::from_errno("TUNSETOFFLOAD"));
    }
    return Ok();
}

} // namespace runvm::broker::net
