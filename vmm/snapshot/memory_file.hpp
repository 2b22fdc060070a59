// Guest RAM in a snapshot: its own file beside the state, as large as the memfd, with a hole
// wherever a 4 KiB page is all zeros (most of a small guest's RAM), so it costs only the
// pages the guest wrote. A restore copies the data extents (SEEK_DATA/SEEK_HOLE) into the new
// VM's memfd, which keeps its seals; the holes are already zero there.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::snapshot {

// Writes `path` (mode 0600) through a temporary file renamed over it once synced. Every vCPU
// must be stopped. Returns the bytes of data written (the holes not counted).
Result<uint64_t> write_memory_file(const GuestMemory& memory, const std::string& path);

// The file must be a regular file exactly as large as `memory`.
Result<void> read_memory_file(const std::string& path, GuestMemory& memory);
// The same from an open fd (not taken; read with pread); `name` is for errors.
Result<void> read_memory_file(int fd, const std::string& name, GuestMemory& memory);

// A whole file through a temporary one, synced and renamed over `path`, mode 0600.
Result<void> write_private_file_atomic(const std::string& path, std::span<const uint8_t> bytes);

} // namespace runvm::vmm::snapshot
