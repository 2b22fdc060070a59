// The virtio-fs shares the host's containers bind-mount from: each mounted once per VM,
// by the first CreateContainer that names it, and kept until the VM ends.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "agent.pb.h"
#include "base/result.hpp"

namespace runvm::agent {

class SharedFsMounts {
public:
    // Mounts `fs.tag` (virtiofs) at `fs.mount_point` unless done already; a second tag at
    // the same mount point is an error. `fs` passed check_shared_fs.
    Result<void> ensure(const runvm::agent::v1::SharedFs& fs);

private:
    std::mutex mu_;
    std::map<std::string, std::string> mounted_; // mount point -> tag
};

} // namespace runvm::agent
