// fork+exec with stdio and one extra fd placed by number.
#include "shim/containerd/spawn.hpp"

#include <csignal>

#include <fcntl.h>
#include <unistd.h>

#include "base/child_process.hpp"

namespace runvm::containerd {

Result<ProcessHandle> spawn_process(const SpawnSpec& spec) {
    if (spec.argv.empty()) {
        return Err(Error::with_errno(EINVAL, "spawn: empty argv"));
    }
    std::vector<char*> argv;
    for (const auto& a : spec.argv) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        return Err(Error::from_errno("open /dev/null"));
    }
    auto child = ChildProcess::fork_child(spec.argv[0], [&]() -> int {
        // Move every source above 10 first, so placing one cannot clobber another.
        int src[4];
        for (int i = 0; i < 3; ++i) {
            src[i] =
                ::fcntl(spec.stdio[static_cast<size_t>(i)] >= 0 ? spec.stdio[static_cast<size_t>(i)]
                                                                : devnull,
                        F_DUPFD, 10);
        }
        src[3] = spec.extra_fd >= 0 ? ::fcntl(spec.extra_fd, F_DUPFD, 10) : -1;
        for (int i = 0; i < 4; ++i) {
            if (src[i] >= 0 && ::dup2(src[i], i) < 0) {
                return 126;
            }
        }
        if (spec.extra_fd < 0) {
            ::close(3);
        }
        ::close_range(4, ~0U, 0);
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (spec.new_session) {
            ::setsid();
        }
        if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
            return 126;
        }
        ::execv(argv[0], argv.data());
        return 127;
    });
    ::close(devnull);
    if (!child) {
        return Err(std::move(child).error());
    }
    // The daemon's Reaper reaps every child, this one included.
    return child->release_handle();
}

} // namespace runvm::containerd
