// The snapshot file's bytes (docs/vmm.md, "Snapshots"): a VM's in-kernel state and each
// vCPU's, versioned and checksummed. A template file is root's and 0600, but it is read back
// as untrusted input all the same: every count and size is checked, and an error names the
// field and its offset (tests/fuzz/vmm_snapshot_fuzz.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "vmm/snapshot/device_state.hpp"
#include "vmm/snapshot/vcpu_state.hpp"
#include "vmm/snapshot/vm_state.hpp"

namespace runvm::vmm::snapshot {

struct Snapshot {
    uint64_t memory_bytes = 0; // guest RAM, which lies in its own file (memory_file)
    VmState vm;
    std::vector<VcpuState> vcpus;
    DevicesState devices;
};

// Version 3: "RUNVMSNP", u32 version, u32 vCPU count, u64 RAM bytes, the VmState structs,
// per vCPU its CPUID (u32 count, entries), the fixed structs, its MSRs (u32 count, entries)
// and events; then the devices field by field (no struct padding in the file): the 8250,
// the i8042, the boot timer, u32 transport count and per transport its registers and
// queues (u32 count), each with its vhost-user ring position; then a u64 FNV-1a of everything
// before it. KVM's structs are host-endian: a snapshot is restored on the machine kind it was made
// on (the template key names the runvm version). Version 1 had no RAM size and no devices, version
// 2 no ring positions (its VMs had no vhost-user device activated); neither is read.
inline constexpr uint32_t kSnapshotVersion = 3;
inline constexpr uint64_t kMaxSnapshotMemoryBytes = uint64_t{1} << 40;
inline constexpr uint32_t kMaxSnapshotVcpus = 256;
inline constexpr uint32_t kMaxCpuidEntries = 4096;
inline constexpr uint32_t kMaxMsrEntries = 4096;

std::vector<uint8_t> encode_snapshot(const Snapshot& snapshot);
Result<Snapshot> decode_snapshot(std::span<const uint8_t> bytes);

// FNV-1a over `bytes`: the trailer encode_snapshot writes over all that precedes it.
uint64_t snapshot_checksum(std::span<const uint8_t> bytes);

} // namespace runvm::vmm::snapshot
