// mke2fs -d: copies a directory tree into a fresh ext4 image without mounting anything.
#include "shim/sandbox/rootfs_image.hpp"

#include <set>
#include <utility>

#include <fcntl.h>
#include <ftw.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

namespace {

// nftw has no user pointer; one walk at a time is guarded by the caller's thread.
thread_local uint64_t walk_bytes = 0;
thread_local std::set<std::pair<dev_t, ino_t>>* walk_seen = nullptr;

int count_entry(const char*, const struct stat* st, int, struct FTW*) {
    if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
        if (!walk_seen->insert({st->st_dev, st->st_ino}).second) {
            return 0;
        }
    }
    walk_bytes += static_cast<uint64_t>(st->st_blocks) * 512 + 256;
    return 0;
}

} // namespace

Result<uint64_t> content_bytes(const std::string& dir) {
    std::set<std::pair<dev_t, ino_t>> seen;
    walk_seen = &seen;
    walk_bytes = 0;
    const int rc = ::nftw(dir.c_str(), count_entry, 64, FTW_PHYS);
    walk_seen = nullptr;
    if (rc != 0) {
        return Err(Error::from_errno("nftw " + dir));
    }
    return walk_bytes;
}

uint64_t image_size_for(uint64_t content, const RootfsImageOptions& options) {
    constexpr uint64_t mib = 1024 * 1024;
    const uint64_t headroom =
        std::max(options.headroom_mib * mib, content / 100 * options.headroom_percent);
    // ext4 metadata (inode tables, journal) on a small filesystem is about 10%.
    const uint64_t total = content + content / 10 + headroom;
    return (total + mib - 1) / mib * mib;
}

Result<void> build_rootfs_image(const std::string& rootfs_dir, const std::string& image,
                                const RootfsImageOptions& options) {
    struct stat st {};
    if (::stat(rootfs_dir.c_str(), &st) != 0) {
        return Err(Error::from_errno("stat rootfs " + rootfs_dir));
    }
    if (!S_ISDIR(st.st_mode)) {
        return Err(Error::with_errno(ENOTDIR, "rootfs " + rootfs_dir));
    }
    RUNVM_ASSIGN_OR_RETURN(const uint64_t content, content_bytes(rootfs_dir));
    const uint64_t size = image_size_for(content, options);
    {
        UniqueFd fd(::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd) {
            return Err(Error::from_errno("create rootfs image " + image));
        }
        if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
            const Error e = Error::from_errno("ftruncate rootfs image " + image);
            ::unlink(image.c_str());
            return Err(e);
        }
    }
    // -E root_owner: the image's / is root's even when an unprivileged user builds it;
    // no lazy init so the guest never spends time zeroing tables on first write.
    std::vector<std::string> argv = {options.mke2fs,
                                     "-q",
                                     "-F",
                                     "-t",
                                     "ext4",
                                     "-b",
                                     "4096",
                                     "-O",
                                     "^has_journal",
                                     "-E",
                                     "root_owner=0:0,lazy_itable_init=0",
                                     "-d",
                                     rootfs_dir,
                                     image};
    SpawnOptions spawn;
    spawn.stdin_null = true;
    spawn.stdout_path = image + ".mke2fs.log";
    spawn.stderr_path = spawn.stdout_path;
    auto child = ChildProcess::spawn(argv, spawn);
    if (!child) {
        ::unlink(image.c_str());
        return Err(std::move(child).error().context("mke2fs"));
    }
    auto status = child->wait_for(120'000);
    std::string log;
    if (auto text = read_file(spawn.stdout_path)) {
        log = *text;
        while (!log.empty() && log.back() == '\n') {
            log.pop_back();
        }
    }
    ::unlink(spawn.stdout_path.c_str());
    if (!status || !status->has_value() || !WIFEXITED(**status) || WEXITSTATUS(**status) != 0) {
        ::unlink(image.c_str());
        return Err(Error::msg("mke2fs -d " + rootfs_dir + " " + image + " failed" +
                              (log.empty() ? std::string() : ": " + log)));
    }
    spdlog::debug("rootfs image {}: {} MiB for {} KiB of content", image, size >> 20,
                  content >> 10);
    return Ok();
}

} // namespace runvm::shim
