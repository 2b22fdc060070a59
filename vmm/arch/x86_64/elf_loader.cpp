// ELF64 loader: every header field is checked against the file and guest RAM first.
#include "vmm/arch/x86_64/elf_loader.hpp"

#include <algorithm>
#include <cstring>

#include <elf.h>

namespace runvm::vmm::x86_64 {

namespace {

template <typename T>
Result<T> read_at(std::span<const uint8_t> image, uint64_t off, const char* what) {
    if (off > image.size() || sizeof(T) > image.size() - off) {
        return Err(
            Error::msg(std::string("ELF ") + what + " at " + hex(off) + ": beyond end of file"));
    }
    T v;
    std::memcpy(&v, image.data() + off, sizeof(T));
    return v;
}

} // namespace

Result<LoadedKernel> load_elf(GuestMemory& mem, std::span<const uint8_t> image) {
    RUNVM_ASSIGN_OR_RETURN(const auto eh, read_at<Elf64_Ehdr>(image, 0, "header"));
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        return Err(Error::msg("ELF header: bad magic"));
    }
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_X86_64) {
        return Err(Error::msg("ELF header: not a little-endian x86_64 ELF64"));
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0) {
        return Err(Error::msg("ELF header: e_phentsize " + std::to_string(eh.e_phentsize) +
                              " / e_phnum " + std::to_string(eh.e_phnum) + " unusable"));
    }
    LoadedKernel k;
    k.load_addr = UINT64_MAX;
    bool any = false;
    for (uint16_t i = 0; i < eh.e_phnum; ++i) {
        RUNVM_ASSIGN_OR_RETURN(
            const auto ph, read_at<Elf64_Phdr>(image, eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr),
                                               "program header"));
        if (ph.p_type != PT_LOAD) {
            continue;
        }
        const std::string seg = "ELF PT_LOAD " + std::to_string(i);
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > image.size() ||
            ph.p_filesz > image.size() - ph.p_offset) {
            return Err(Error::msg(seg + ": file range [" + hex(ph.p_offset) + ", +" +
                                  hex(ph.p_filesz) + ") beyond end of file"));
        }
        if (!mem.contains(ph.p_paddr, ph.p_memsz) || ph.p_paddr < layout::kHighMemStart) {
            return Err(Error::msg(seg + ": paddr [" + hex(ph.p_paddr) + ", +" + hex(ph.p_memsz) +
                                  ") outside guest RAM above 1 MiB"));
        }
        RUNVM_TRY(mem.write(ph.p_paddr, image.subspan(ph.p_offset, ph.p_filesz)));
        RUNVM_TRY(mem.fill(ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz));
        k.load_addr = std::min(k.load_addr, ph.p_paddr);
        k.end = std::max(k.end, ph.p_paddr + ph.p_memsz);
        any = true;
    }
    if (!any) {
        return Err(Error::msg("ELF: no PT_LOAD segment"));
    }
    if (eh.e_entry < k.load_addr || eh.e_entry >= k.end) {
        return Err(Error::msg("ELF e_entry " + hex(eh.e_entry) + ": outside the loaded segments"));
    }
    k.entry = eh.e_entry;
    k.mode = EntryMode::long64;
    return k;
}

} // namespace runvm::vmm::x86_64
