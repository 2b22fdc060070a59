// Fuzzes the kernel loaders with hostile images: format detection, the ELF64 program
// headers, the bzImage setup header, and boot_params/initrd placement after a load.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "vmm/arch/x86_64/boot_params.hpp"
#include "vmm/arch/x86_64/bzimage_loader.hpp"
#include "vmm/arch/x86_64/elf_loader.hpp"

using namespace runvm::vmm;
using namespace runvm::vmm::x86_64;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static GuestMemory* mem = [] {
        auto m = GuestMemory::create(32ull << 20);
        if (!m.ok()) {
            std::abort();
        }
        return new GuestMemory(std::move(m).value());
    }();
    std::span<const uint8_t> image(data, size);
    auto format = detect_kernel_format(image);
    if (!format.ok()) {
        return 0;
    }
    auto k = *format == KernelFormat::elf ? load_elf(*mem, image) : load_bzimage(*mem, image);
    if (!k.ok()) {
        return 0;
    }
    if (k->end > mem->ram_bytes() || k->entry < k->load_addr) {
        std::abort(); // a loader may only report what lies inside guest RAM
    }
    std::vector<uint8_t> initrd(size % 8192, 0x5a);
    (void)write_boot_data(*mem, *k, "console=ttyS0", initrd);
    return 0;
}
