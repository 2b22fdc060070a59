// runvm-vmm's snapshot reader (vmm/snapshot/snapshot_file.cpp) on arbitrary bytes. The
// checksum trailer is recomputed first, so the parser behind it is reached; whatever decodes
// must encode back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vmm/snapshot/snapshot_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace runvm::vmm::snapshot;
    std::vector<uint8_t> bytes(data, data + size);
    if (bytes.size() >= 8) {
        const uint64_t sum = snapshot_checksum(std::span(bytes).first(bytes.size() - 8));
        std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
    }
    auto snapshot = decode_snapshot(bytes);
    if (snapshot.ok() && encode_snapshot(*snapshot) != bytes) {
        std::abort();
    }
    return 0;
}
