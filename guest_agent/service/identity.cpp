// Reinit's checks and its syscalls, in the order the guest needs them.
#include "guest_agent/service/identity.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::agent {

namespace {

// rand_pool_info is {int entropy_count; int buf_size; __u32 buf[];}: built in u32 words.
static_assert(offsetof(rand_pool_info, buf) == 2 * sizeof(uint32_t));

std::vector<uint32_t> entropy_block(const std::string& bytes) {
    std::vector<uint32_t> words(2 + (bytes.size() + 3) / 4, 0);
    const int bits = static_cast<int>(bytes.size() * 8);
    const int size = static_cast<int>(bytes.size());
    std::memcpy(&words[0], &bits, sizeof bits);
    std::memcpy(&words[1], &size, sizeof size);
    std::memcpy(&words[2], bytes.data(), bytes.size());
    return words;
}

Error invalid(const std::string& what) {
    return Error(EINVAL, what);
}

} // namespace

IdentitySyscalls IdentitySyscalls::real() {
    IdentitySyscalls s;
    s.open = [](const char* path, int flags) { return ::open(path, flags); };
    s.ioctl = [](int fd, unsigned long request, const void* arg) {
        return ::ioctl(fd, request, arg);
    };
    s.clock_settime = [](clockid_t clock, const timespec& ts) {
        return ::clock_settime(clock, &ts);
    };
    s.sethostname = [](const std::string& name) { return ::sethostname(name.data(), name.size()); };
    return s;
}

Result<void> check_reinit(const v1::ReinitRequest& req) {
    const size_t n = req.host_random().size();
    if (n < kMinHostRandom || n > kMaxHostRandom) {
        return Err(invalid("host_random: " + std::to_string(n) + " bytes, must be " +
                           std::to_string(kMinHostRandom) + ".." + std::to_string(kMaxHostRandom)));
    }
    if (req.realtime_ns() < 0) {
        return Err(
            invalid("realtime_ns: " + std::to_string(req.realtime_ns()) + " is before the epoch"));
    }
    const std::string& name = req.hostname();
    if (name.size() > kMaxHostname) {
        return Err(invalid("hostname: " + std::to_string(name.size()) + " bytes, at most " +
                           std::to_string(kMaxHostname)));
    }
    if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
        return Err(invalid("hostname: must not hold '/' or NUL"));
    }
    return Ok();
}

Result<void> apply_reinit(const v1::ReinitRequest& req, const IdentitySyscalls& sys) {
    const std::string dev = kRandomDevice;
    UniqueFd fd(sys.open(kRandomDevice, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + dev));
    }
    // Credited in full: the host's getrandom(2) output is as good as the guest's own pool,
    // and a restored guest whose pool is a template's copy has nothing better.
    const std::vector<uint32_t> block = entropy_block(req.host_random());
    if (sys.ioctl(fd.get(), RNDADDENTROPY, block.data()) < 0) {
        return Err(Error::from_errno("RNDADDENTROPY " + dev + " (" +
                                     std::to_string(req.host_random().size() * 8) + " bits)"));
    }
    // Adding input alone leaves the CRNG's current key in use until its next reseed
    // (every 60 s once up): force it, so the next read already differs from a sibling's.
    if (sys.ioctl(fd.get(), RNDRESEEDCRNG, nullptr) < 0) {
        return Err(Error::from_errno("RNDRESEEDCRNG " + dev));
    }
    if (const int64_t ns = req.realtime_ns(); ns != 0) {
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        if (sys.clock_settime(CLOCK_REALTIME, ts) < 0) {
            return Err(
                Error::from_errno("clock_settime CLOCK_REALTIME " + std::to_string(ns) + " ns"));
        }
    }
    if (!req.hostname().empty() && sys.sethostname(req.hostname()) < 0) {
        return Err(Error::from_errno("sethostname " + req.hostname()));
    }
    return Ok();
}

} // namespace runvm::agent
