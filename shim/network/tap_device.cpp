// create_tap: /dev/net/tun, TUNSETIFF, TUNSETPERSIST.
#include "shim/network/tap_device.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

namespace runvm::network {

Result<UniqueFd> create_tap(const std::string& name, bool persist) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return Err(Error::with_errno(EINVAL, "tap name '" + name + "'"));
    }
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /dev/net/tun (needs the tun module)"));
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
        return Err(Error::from_errno("TUNSETIFF tap " + name));
    }
    if (persist && ::ioctl(fd.get(), TUNSETPERSIST, 1) < 0) {
        return Err(Error::from_errno("TUNSETPERSIST tap " + name));
    }
    return fd;
}

} // namespace runvm::network
