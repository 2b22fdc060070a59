// What a container's monitor and a pod member's stand-in share with `runvm create`: the
// ready line on the pipe it waits on, the status that means create failed, and bundle paths.
#pragma once

#include <string>

namespace runvm::shim {

// The exit status of a monitor or member whose create failed (runc's "created never").
inline constexpr int kCreateFailed = 255;

// Writes `line` to the ready pipe (fd < 0: none) and closes it; `runvm create` waits on it.
void report_ready(int fd, const std::string& line);

// A failed create's error, printed once: on the ready pipe for `runvm create` (which prints
// it), else into *out (`runvm run` prints it), else to the log.
void report_create_failure(int ready_fd, const std::string& id, const std::string& error,
                           std::string* out);

// `path` as the spec gives it, made absolute against the bundle directory `base`.
std::string absolute(const std::string& base, const std::string& path);

} // namespace runvm::shim
