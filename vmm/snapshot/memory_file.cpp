// Sparse writes by page, reads by data extent.
#include "vmm/snapshot/memory_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::vmm::snapshot {

namespace {

constexpr uint64_t kPage = 4096;
constexpr off_t kCopyChunk = 1 << 20; // a restore's bounce buffer

bool all_zero(const uint8_t* page) {
    static const std::array<uint8_t, kPage> zeros{};
    return std::memcmp(page, zeros.data(), kPage) == 0;
}

Result<void> pwrite_all(int fd, const uint8_t* data, uint64_t len, uint64_t offset,
                        const std::string& path) {
    while (len > 0) {
        const ssize_t n =
            ::pwrite(fd, data, std::min<uint64_t>(len, 1 << 30), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return Err(Error::from_errno("write " + path + " at " + std::to_string(offset)));
        }
        data += n;
        len -= static_cast<uint64_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return Ok();
}

// The temporary file: removed unless commit() renamed it over the target.
class TempFile {
public:
    explicit TempFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
    ~TempFile() {
        if (!committed_) {
            ::unlink(tmp_.c_str());
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    Result<int> open() {
        // O_NOFOLLOW: a link planted at the temporary name does not redirect the write.
        fd_.reset(
            ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd_) {
            return Err(Error::from_errno("open " + tmp_));
        }
        return fd_.get();
    }
    Result<void> commit() {
        if (::fsync(fd_.get()) != 0) {
            return Err(Error::from_errno("fsync " + tmp_));
        }
        fd_.reset();
        if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
            return Err(Error::from_errno("rename " + tmp_ + " to " + path_));
        }
        committed_ = true;
        return Ok();
    }
    const std::string& tmp() const { return tmp_; }

private:
    std::string path_;
    std::string tmp_;
    UniqueFd fd_;
    bool committed_ = false;
};

// The next data extent of the memfd at or after `at` inside region `r`, page-aligned and as
// offsets into the region; nullopt when only holes are left.
Result<std::optional<std::pair<uint64_t, uint64_t>>> next_data(int memfd, const MappedRegion& r,
                                                               uint64_t at) {
    const auto region_end = static_cast<off_t>(r.file_offset + r.size);
    const off_t data = ::lseek(memfd, static_cast<off_t>(r.file_offset + at), SEEK_DATA);
    if ((data < 0 && errno == ENXIO) || data >= region_end) {
        return std::optional<std::pair<uint64_t, uint64_t>>();
    }
    if (data < 0) {
        return Err(Error::from_errno("lseek SEEK_DATA guest RAM memfd"));
    }
    const off_t hole = ::lseek(memfd, data, SEEK_HOLE);
    if (hole < 0) {
        return Err(Error::from_errno("lseek SEEK_HOLE guest RAM memfd"));
    }
    const uint64_t first = (static_cast<uint64_t>(data) - r.file_offset) & ~(kPage - 1);
    const uint64_t last =
        std::min<uint64_t>(
            static_cast<uint64_t>(std::min(hole, region_end)) - r.file_offset + kPage - 1, r.size) &
        ~(kPage - 1);
    return std::optional(std::pair(first, std::max(last, first + kPage)));
}

} // namespace

Result<uint64_t> write_memory_file(const GuestMemory& memory, const std::string& path) {
    TempFile file(path);
    RUNVM_ASSIGN_OR_RETURN(const int fd, file.open());
    uint64_t written = 0;
    for (const MappedRegion& r : memory.regions()) {
        // Only the memfd's data extents are read: touching its holes through the mapping
        // would allocate them (shmem has no shared zero page), growing the VM by its whole
        // RAM on every snapshot.
        for (uint64_t at = 0; at < r.size;) {
            RUNVM_ASSIGN_OR_RETURN(const auto extent, next_data(memory.fd(), r, at));
            if (!extent) {
                break;
            }
            // Runs of non-zero pages inside the extent, one write each; zero pages stay holes.
            for (uint64_t page = extent->first; page < extent->second;) {
                if (all_zero(r.host + page)) {
                    page += kPage;
                    continue;
                }
                uint64_t end = page + kPage;
                while (end < extent->second && !all_zero(r.host + end)) {
                    end += kPage;
                }
                RUNVM_TRY(
                    pwrite_all(fd, r.host + page, end - page, r.file_offset + page, file.tmp()));
                written += end - page;
                page = end;
            }
            at = extent->second;
        }
    }
    // A trailing hole: the size says how much RAM there was.
    if (::ftruncate(fd, static_cast<off_t>(memory.ram_bytes())) != 0) {
        return Err(Error::from_errno("ftruncate " + file.tmp()));
    }
    RUNVM_TRY(file.commit());
    return written;
}

Result<void> write_private_file_atomic(const std::string& path, std::span<const uint8_t> bytes) {
    TempFile file(path);
    RUNVM_ASSIGN_OR_RETURN(const int fd, file.open());
    RUNVM_TRY(pwrite_all(fd, bytes.data(), bytes.size(), 0, file.tmp()));
    return file.commit();
}

Result<void> read_memory_file(const std::string& path, GuestMemory& memory) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    return read_memory_file(fd.get(), path, memory);
}

Result<void> read_memory_file(int fd, const std::string& path, GuestMemory& memory) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return Err(Error::from_errno("fstat " + path));
    }
    if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != memory.ram_bytes()) {
        return Err(Error::with_errno(EINVAL, path + ": " + std::to_string(st.st_size) +
                                                 " bytes, not a regular file of the " +
                                                 std::to_string(memory.ram_bytes()) +
                                                 " bytes of guest RAM the state names"));
    }
    const auto size = static_cast<off_t>(memory.ram_bytes());
    std::vector<uint8_t> bounce(static_cast<size_t>(kCopyChunk));
    for (off_t at = 0; at < size;) {
        const off_t data = ::lseek(fd, at, SEEK_DATA);
        if (data < 0 && errno == ENXIO) {
            break; // only holes from here on
        }
        if (data < 0) {
            return Err(Error::from_errno("lseek SEEK_DATA " + path));
        }
        off_t hole = ::lseek(fd, data, SEEK_HOLE);
        if (hole < 0) {
            return Err(Error::from_errno("lseek SEEK_HOLE " + path));
        }
        hole = std::min(hole, size);
        // File offsets are the memfd's: written through its fd, not the mapping, so that this
        // process faults in no page of guest RAM (under TCG each fault costs ~100 us: 3.5 s
        // against 2.3 s for a booted Linux's 100 MiB in the nested test; sendfile was slower).
        for (off_t off = data; off < hole;) {
            const size_t want = static_cast<size_t>(std::min<off_t>(hole - off, kCopyChunk));
            const ssize_t n = ::pread(fd, bounce.data(), want, off);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return Err(Error::from_errno("read " + path + " at " + std::to_string(off)));
            }
            RUNVM_TRY(pwrite_all(memory.fd(), bounce.data(), static_cast<uint64_t>(n),
                                 static_cast<uint64_t>(off), "guest RAM memfd"));
            off += n;
        }
        at = hole;
    }
    return Ok();
}

} // namespace runvm::vmm::snapshot
