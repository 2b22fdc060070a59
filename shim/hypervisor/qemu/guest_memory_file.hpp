// Guest RAM that is both shareable (vhost-user backends map it) and backed by huge pages.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

// An unnamed file of `bytes` on a private tmpfs mounted with huge=within_size, the mount
// already detached: nothing of it shows in any mount table, and it is gone with its last fd
// or mapping. QEMU's memfd backend gets 4 KiB pages unless the host's global
// shmem_enabled says otherwise; huge pages here save a host page fault per 4 KiB of guest
// memory touched (under TCG, about 80 ms of a 1.7 s `runvm run`). `scratch` is an empty
// directory path to mount on for a moment; it is removed again.
Result<UniqueFd> open_huge_guest_memory(const std::string& scratch, uint64_t bytes);

// The path another process (the hypervisor) opens to reach `fd` of this process.
std::string fd_path_for_peer(int fd);

} // namespace runvm::shim
