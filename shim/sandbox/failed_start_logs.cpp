// Tails of a VM's logs, copied to one directory that is replaced as a whole.
#include "shim/sandbox/failed_start_logs.hpp"

#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <ftw.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/capped_log.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"
#include "oci/timestamp.hpp"
#include "shim/sandbox/vm_dirs.hpp"

namespace runvm::shim {

namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
    return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

} // namespace

std::string failed_start_log_dir(bool pooled) {
    return vm_base_dir() + (pooled ? "/last-failed-pool-start" : "/last-failed-start");
}

std::string keep_failed_start_logs(const std::string& run_dir, const std::string& id,
                                   const std::string& reason, const std::vector<std::string>& files,
                                   bool pooled) {
    const std::string dir = failed_start_log_dir(pooled);
    const std::string tmp = dir + "." + std::to_string(::getpid());
    std::vector<std::pair<std::string, std::string>> logs;
    for (const std::string& path : files) {
        const std::string name = path.substr(path.rfind('/') + 1);
        if (name.empty() || path.rfind(run_dir + "/", 0) != 0) {
            continue; // only the VM's own files, each under its own name
        }
        // The console log is the guest's to fill: never read whole. A capped log's older half
        // (<file>.1) comes first.
        if (std::string tail = read_log_tail(path, kFailedStartLogTail); !tail.empty()) {
            logs.emplace_back(name, std::move(tail));
        }
    }
    if (logs.empty()) {
        return "";
    }
    logs.emplace_back("reason", "container " + id + " at " +
                                    oci::format_rfc3339_nano(
                                        std::chrono::time_point_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now())) +
                                    ": " + reason + "\n");
    (void)::nftw(tmp.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (::mkdir(tmp.c_str(), 0700) != 0) {
        spdlog::warn("keep failed start logs: mkdir {}: {}", tmp, std::strerror(errno));
        return "";
    }
    for (const auto& [name, text] : logs) {
        if (auto r = write_file_atomic(tmp + "/" + name, text, 0600); !r) {
            spdlog::warn("keep failed start logs: {}", r.error().str());
            (void)::nftw(tmp.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
            return "";
        }
    }
    (void)::nftw(dir.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
        spdlog::warn("keep failed start logs: rename {}: {}", tmp, std::strerror(errno));
        (void)::nftw(tmp.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        return "";
    }
    return dir;
}

std::string with_kept_logs(const std::string& error, const std::string& kept_dir) {
    return kept_dir.empty() ? error : error + "; logs: " + kept_dir;
}

} // namespace runvm::shim
