// TestGuestMemory: memfd_create, ftruncate, mmap.
#include "broker/testing/test_guest_memory.hpp"

#include <cerrno>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

namespace runvm::broker::testing {

Result<TestGuestMemory> TestGuestMemory::create(uint64_t size, uint64_t base) {
    UniqueFd fd(::memfd_create("runvm-test-guest-ram", MFD_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("memfd_create test guest RAM"));
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) < 0) {
        return Err(Error::from_errno("ftruncate test guest RAM"));
    }
    RUNVM_ASSIGN_OR_RETURN(Mapping m, Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED,
                                                   fd.get(), 0, "test guest RAM"));
    return TestGuestMemory(std::move(fd), std::move(m), base);
}

uint64_t TestGuestMemory::alloc(uint64_t len, uint64_t align) {
    const uint64_t at = (next_ + align - 1) & ~(align - 1);
    if (at + len > base_ + size()) {
        // A test that outgrows its RAM is a bug in the test itself.
        throw std::length_error("TestGuestMemory: out of guest RAM");
    }
    next_ = at + len;
    return at;
}

} // namespace runvm::broker::testing
