// The ELF and bzImage loaders on Debian's real cloud kernel (scripts/guest-kernel.sh's
// cache; the binary exits 77 when it is absent), plus hostile-header checks.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <boost/test/unit_test.hpp>
#include <elf.h>

#include "vmm/arch/x86_64/boot_params.hpp"
#include "vmm/arch/x86_64/bzimage_loader.hpp"
#include "vmm/arch/x86_64/elf_loader.hpp"
#include "vmm/arch/x86_64/packed_field.hpp"

using namespace runvm::vmm;
using namespace runvm::vmm::x86_64;

namespace {

std::string kernel_cache() {
    const char* env = std::getenv("RUNVM_KERNEL_CACHE");
    return env != nullptr ? env : "/var/cache/runvm/kernel";
}

std::vector<uint8_t> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CloudKernel {
    std::vector<uint8_t> vmlinux = slurp(kernel_cache() + "/vmlinux");
    std::vector<uint8_t> vmlinuz = slurp(kernel_cache() + "/vmlinuz");
    CloudKernel() {
        if (vmlinux.empty() || vmlinuz.empty()) {
            BOOST_TEST_MESSAGE("no kernel in " << kernel_cache()
                                               << " (run scripts/guest-kernel.sh): skipped");
            std::exit(77);
        }
    }
};

GuestMemory make_memory(uint64_t bytes) {
    auto mem = GuestMemory::create(bytes);
    BOOST_REQUIRE_MESSAGE(mem.ok(), (mem.ok() ? std::string() : mem.error().str()));
    return std::move(mem).value();
}

} // namespace

BOOST_AUTO_TEST_CASE(elf_loader_on_cloud_vmlinux) {
    CloudKernel kernel;
    auto mem = make_memory(256ull << 20);
    auto k = load_elf(mem, kernel.vmlinux);
    BOOST_REQUIRE_MESSAGE(k.ok(), (k.ok() ? std::string() : k.error().str()));
    BOOST_TEST(k->entry == 0x1000000u);
    BOOST_TEST(k->load_addr == 0x1000000u);
    BOOST_TEST((k->mode == EntryMode::long64));
    BOOST_TEST(!k->setup_header.has_value());
    // Every PT_LOAD segment's bytes sit at its p_paddr, and the bss tail is zero.
    Elf64_Ehdr eh;
    std::memcpy(&eh, kernel.vmlinux.data(), sizeof eh);
    int loads = 0;
    for (int i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, kernel.vmlinux.data() + eh.e_phoff + uint64_t(i) * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD) {
            continue;
        }
        ++loads;
        const uint8_t* at = mem.host_range(ph.p_paddr, ph.p_memsz);
        BOOST_REQUIRE(at != nullptr);
        BOOST_TEST(std::memcmp(at, kernel.vmlinux.data() + ph.p_offset, ph.p_filesz) == 0);
        BOOST_TEST(k->end >= ph.p_paddr + ph.p_memsz);
        if (ph.p_memsz > ph.p_filesz) {
            BOOST_TEST(at[ph.p_memsz - 1] == 0);
        }
    }
    BOOST_TEST(loads >= 2);
    // Too little RAM for the kernel: refused with the segment named.
    auto small = make_memory(16ull << 20);
    auto refused = load_elf(small, kernel.vmlinux);
    BOOST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().str().find("PT_LOAD") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bzimage_loader_on_cloud_vmlinuz) {
    CloudKernel kernel;
    auto mem = make_memory(256ull << 20);
    auto k = load_bzimage(mem, kernel.vmlinuz);
    BOOST_REQUIRE_MESSAGE(k.ok(), (k.ok() ? std::string() : k.error().str()));
    BOOST_TEST(k->load_addr == 0x100000u);
    BOOST_TEST(k->entry == 0x100200u);
    BOOST_REQUIRE(k->setup_header.has_value());
    const uint64_t setup_sects = kernel.vmlinuz[0x1f1] == 0 ? 4 : kernel.vmlinuz[0x1f1];
    const uint64_t off = (setup_sects + 1) * 512;
    const uint64_t len = kernel.vmlinuz.size() - off;
    BOOST_TEST(std::memcmp(mem.host_range(0x100000, len), kernel.vmlinuz.data() + off, len) == 0);
    uint32_t init_size;
    std::memcpy(&init_size, kernel.vmlinuz.data() + 0x260, 4);
    BOOST_TEST(k->end >= 0x1000000u + init_size);

    std::vector<uint8_t> initrd(1 << 20, 0x5a);
    BOOST_REQUIRE(write_boot_data(mem, *k, "console=ttyS0", initrd).ok());
    auto bp = *mem.read_obj<boot_params>(layout::kBootParamsAddr);
    uint16_t version;
    std::memcpy(&version, kernel.vmlinuz.data() + 0x206, 2);
    BOOST_TEST(F(bp.hdr.version) == version);
    BOOST_TEST(F(bp.hdr.setup_sects) == kernel.vmlinuz[0x1f1]);
    BOOST_TEST(F(bp.hdr.header) == kHdrSMagic);
    BOOST_TEST((F(bp.hdr.xloadflags) & kXlfKernel64) != 0);
    BOOST_TEST(F(bp.hdr.init_size) == init_size);
    BOOST_TEST(F(bp.hdr.type_of_loader) == 0xff);
    BOOST_TEST((F(bp.hdr.loadflags) & 1) != 0);
    BOOST_TEST(F(bp.hdr.ramdisk_size) == initrd.size());
    BOOST_TEST(F(bp.hdr.ramdisk_image) + initrd.size() <= F(bp.hdr.initrd_addr_max) + 1ull);
    BOOST_TEST(F(bp.hdr.ramdisk_image) >= k->end);
    BOOST_TEST(F(bp.hdr.cmd_line_ptr) == layout::kCmdlineAddr);
    BOOST_TEST((detect_kernel_format(kernel.vmlinuz).value() == KernelFormat::bzimage));
    BOOST_TEST((detect_kernel_format(kernel.vmlinux).value() == KernelFormat::elf));
}

BOOST_AUTO_TEST_CASE(hostile_headers_are_refused) {
    CloudKernel kernel;
    auto mem = make_memory(256ull << 20);
    // ELF: program header table pointing past the file.
    auto elf = kernel.vmlinux;
    elf.resize(4096);
    Elf64_Ehdr eh;
    std::memcpy(&eh, elf.data(), sizeof eh);
    eh.e_phoff = 0xffffffffffffff00ull;
    std::memcpy(elf.data(), &eh, sizeof eh);
    BOOST_TEST(!load_elf(mem, elf).ok());
    // ELF truncated inside a segment.
    BOOST_TEST(!load_elf(mem, std::span(kernel.vmlinux).first(1 << 20)).ok());
    // bzImage: old protocol, no 64-bit entry, setup_sects past the end.
    auto bz = std::vector<uint8_t>(kernel.vmlinuz.begin(), kernel.vmlinuz.begin() + 0x1000);
    auto old = bz;
    old[0x206] = 0x0b;
    old[0x207] = 0x02;
    BOOST_TEST(!load_bzimage(mem, old).ok());
    auto no64 = bz;
    no64[0x236] = 0;
    BOOST_TEST(!load_bzimage(mem, no64).ok());
    auto sects = bz;
    sects[0x1f1] = 0xff;
    BOOST_TEST(!load_bzimage(mem, sects).ok());
    BOOST_TEST(!detect_kernel_format(std::vector<uint8_t>(100, 0)).ok());
}
