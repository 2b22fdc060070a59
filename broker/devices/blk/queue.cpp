// BlkRequestQueue: request parsing and the preadv/pwritev/fdatasync/fallocate behind it.
#include "broker/devices/blk/queue.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <linux/falloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "broker/devices/le_bytes.hpp"

namespace runvm::broker::blk {

namespace {

constexpr size_t IOV_BATCH = 1024; // IOV_MAX on Linux

// Moves all of `iov` at `offset`, in IOV_MAX batches and across short transfers (which
// advance `iov` in place).
bool transfer(int fd, std::vector<iovec>& iov, uint64_t offset, bool to_file) {
    size_t first = 0;
    while (first < iov.size()) {
        const int count = static_cast<int>(std::min(IOV_BATCH, iov.size() - first));
        const ssize_t n = to_file ? ::pwritev(fd, &iov[first], count, static_cast<off_t>(offset))
                                  : ::preadv(fd, &iov[first], count, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            spdlog::warn("blk: {} at offset {}: {}", to_file ? "pwritev" : "preadv", offset,
                         std::strerror(errno));
            return false;
        }
        if (n == 0) {
            spdlog::warn("blk: {} at offset {}: unexpected end of image",
                         to_file ? "pwritev" : "preadv", offset);
            return false;
        }
        offset += static_cast<uint64_t>(n);
        auto left = static_cast<size_t>(n);
        while (left > 0 && first < iov.size()) {
            if (left >= iov[first].iov_len) {
                left -= iov[first].iov_len;
                ++first;
            } else {
                iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
                iov[first].iov_len -= left;
                left = 0;
            }
        }
    }
    return true;
}

} // namespace

bool BlkRequestQueue::in_range(uint64_t sector, uint64_t len) const {
    if (sector > size_bytes_ / SECTOR_SIZE) {
        return false;
    }
    return len <= size_bytes_ - sector * SECTOR_SIZE;
}

uint32_t BlkRequestQueue::handle(const DescriptorChain& chain) {
    ++stats_.requests;
    uint8_t header[REQUEST_HEADER_BYTES];
    if (chain.writable_bytes < 1 || chain.read(0, header, sizeof(header)) != sizeof(header)) {
        // No room for a status byte or no header: nothing sensible can be reported.
        ++stats_.malformed;
        spdlog::warn("blk: request without header or status byte, dropped");
        return 0;
    }
    const auto type = get_le<uint32_t>(header);
    const auto sector = get_le<uint64_t>(header + 8);
    const uint64_t data_out = chain.readable_bytes - REQUEST_HEADER_BYTES;
    const uint64_t data_in = chain.writable_bytes - 1;
    uint32_t written = 0;
    uint8_t status;
    switch (type) {
    case T_IN:
        status = read(chain, sector, data_in, &written);
        break;
    case T_OUT:
        status = write(chain, sector, data_out);
        break;
    case T_FLUSH:
        status = flush();
        break;
    case T_GET_ID: {
        const size_t n = std::min<uint64_t>({ID_BYTES, data_in, id_.size()});
        written = static_cast<uint32_t>(chain.write(0, id_.data(), n));
        if (n < ID_BYTES && data_in > n) {
            const uint8_t zero = 0; // NUL-terminate a short id when there is room
            written += static_cast<uint32_t>(chain.write(n, &zero, 1));
        }
        status = S_OK;
        break;
    }
    case T_DISCARD:
    case T_WRITE_ZEROES:
        status = discard_or_zero(chain, type);
        break;
    default:
        ++stats_.unsupported;
        status = S_UNSUPP;
        break;
    }
    if (status == S_IOERR) {
        ++stats_.io_errors;
    }
    chain.write(data_in, &status, 1);
    return written + 1;
}

uint8_t BlkRequestQueue::read(const DescriptorChain& chain, uint64_t sector, uint64_t len,
                              uint32_t* done) {
    if (len % SECTOR_SIZE != 0 || !in_range(sector, len)) {
        spdlog::warn("blk: read of {} bytes at sector {} outside the image or unaligned", len,
                     sector);
        return S_IOERR;
    }
    // Straight from the page cache into guest memory: the iovecs are the chain's segments.
    chain.writable_iov(0, len, iov_);
    if (!transfer(fd_, iov_, sector * SECTOR_SIZE, false)) {
        return S_IOERR;
    }
    *done = static_cast<uint32_t>(len);
    return S_OK;
}

uint8_t BlkRequestQueue::write(const DescriptorChain& chain, uint64_t sector, uint64_t len) {
    if (options_.read_only) {
        return S_IOERR;
    }
    if (len % SECTOR_SIZE != 0 || !in_range(sector, len)) {
        spdlog::warn("blk: write of {} bytes at sector {} outside the image or unaligned", len,
                     sector);
        return S_IOERR;
    }
    chain.readable_iov(REQUEST_HEADER_BYTES, len, iov_);
    return transfer(fd_, iov_, sector * SECTOR_SIZE, true) ? S_OK : S_IOERR;
}

uint8_t BlkRequestQueue::flush() {
    if (options_.read_only) {
        return S_OK;
    }
    if (::fdatasync(fd_) < 0) {
        spdlog::warn("blk: fdatasync {}: {}", options_.path, std::strerror(errno));
        return S_IOERR;
    }
    return S_OK;
}

uint8_t BlkRequestQueue::discard_or_zero(const DescriptorChain& chain, uint32_t type) {
    if (options_.read_only || !options_.discard) {
        ++stats_.unsupported;
        return S_UNSUPP;
    }
    uint8_t seg[DISCARD_SEGMENT_BYTES];
    if (chain.readable_bytes != REQUEST_HEADER_BYTES + DISCARD_SEGMENT_BYTES ||
        chain.read(REQUEST_HEADER_BYTES, seg, sizeof(seg)) != sizeof(seg)) {
        return S_IOERR; // max_discard_seg and max_write_zeroes_seg are 1
    }
    const auto sector = get_le<uint64_t>(seg);
    const uint64_t len = uint64_t{get_le<uint32_t>(seg + 8)} * SECTOR_SIZE;
    const auto flags = get_le<uint32_t>(seg + 12);
    if ((flags & ~WRITE_ZEROES_FLAG_UNMAP) != 0 || !in_range(sector, len)) {
        return S_IOERR;
    }
    if (len == 0) {
        return S_OK;
    }
    const auto offset = static_cast<off_t>(sector * SECTOR_SIZE);
    const auto length = static_cast<off_t>(len);
    int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    if (type == T_WRITE_ZEROES && (flags & WRITE_ZEROES_FLAG_UNMAP) == 0) {
        mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    }
    if (::fallocate(fd_, mode, offset, length) == 0) {
        return S_OK;
    }
    if (type == T_DISCARD) {
        return S_OK; // discard is a hint; a file system without hole punching keeps the data
    }
    // Zeroes must land: write them when the file system cannot allocate them.
    std::vector<uint8_t> zeros(std::min<uint64_t>(len, 1 << 20), 0);
    for (uint64_t at = 0; at < len;) {
        const uint64_t n = std::min<uint64_t>(zeros.size(), len - at);
        const ssize_t w = ::pwrite(fd_, zeros.data(), n, offset + static_cast<off_t>(at));
        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            return S_IOERR;
        }
        at += static_cast<uint64_t>(w);
    }
    return S_OK;
}

} // namespace runvm::broker::blk
