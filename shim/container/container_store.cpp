// Container directories, their JSON record and lock, under the runtime's --root.
#include "shim/container/container_store.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fnv1a.hpp"
#include "base/io.hpp"
#include "base/secure_dir.hpp"

namespace runvm::shim {

nlohmann::json ContainerRecord::to_json() const {
    nlohmann::json j = {{"id", id},
                        {"bundle", bundle},
                        {"rootfs", rootfs},
                        {"created", created},
                        {"status", status},
                        {"monitor_pid", monitor_pid},
                        {"monitor_start_time", monitor_start_time},
                        {"annotations", annotations},
                        {"run_dir", run_dir},
                        {"hypervisor", hypervisor},
                        {"guest_kernel", guest_kernel},
                        {"timeline", timeline},
                        {"owner_uid", owner_uid}};
    if (exit_status) {
        j["exit_status"] = *exit_status;
    }
    if (!error.empty()) {
        j["error"] = error;
    }
    if (oom_killed) {
        j["oom_killed"] = true;
    }
    if (!pod_sandbox.empty()) {
        j["pod_sandbox"] = pod_sandbox;
    }
    if (!host_cgroups.empty()) {
        j["host_cgroups"] = host_cgroups;
    }
    return j;
}

Result<ContainerRecord> ContainerRecord::from_json(const nlohmann::json& j) {
    try {
        ContainerRecord r;
        r.id = j.at("id").get<std::string>();
        r.bundle = j.at("bundle").get<std::string>();
        r.rootfs = j.value("rootfs", "");
        r.created = j.value("created", "");
        r.status = j.at("status").get<std::string>();
        r.monitor_pid = j.value("monitor_pid", 0);
        r.monitor_start_time = j.value("monitor_start_time", uint64_t{0});
        if (j.contains("exit_status")) {
            r.exit_status = j["exit_status"].get<int>();
        }
        r.error = j.value("error", "");
        r.oom_killed = j.value("oom_killed", false);
        r.annotations = j.value("annotations", std::map<std::string, std::string>{});
        r.run_dir = j.value("run_dir", "");
        r.hypervisor = j.value("hypervisor", "");
        r.guest_kernel = j.value("guest_kernel", "");
        r.timeline = j.value("timeline", nlohmann::json::array());
        r.owner_uid = j.value("owner_uid", 0u);
        r.pod_sandbox = j.value("pod_sandbox", "");
        r.host_cgroups = j.value("host_cgroups", std::vector<std::string>{});
        return r;
    } catch (const nlohmann::json::exception& e) {
        return Err(Error::msg(std::string("container record: ") + e.what()));
    }
}

Result<void> ContainerRecord::set_monitor_to_self() {
    RUNVM_ASSIGN_OR_RETURN(monitor_start_time, ProcessHandle::start_time(::getpid()));
    monitor_pid = ::getpid();
    return Ok();
}

Result<ProcessHandle> ContainerRecord::monitor() const {
    auto h = ProcessHandle::open(monitor_pid, monitor_start_time);
    if (!h) {
        return Err(std::move(h).error().context("monitor of container " + id));
    }
    return h;
}

Result<void> validate_container_id(const std::string& id) {
    if (id.empty() || id == "." || id == ".." || id.size() > 1024) {
        return Err(Error::with_errno(EINVAL, "invalid container id '" + id + "'"));
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.';
        if (!ok) {
            return Err(Error::with_errno(EINVAL, "invalid container id '" + id +
                                                     "' (allowed: A-Z a-z 0-9 _ + - .)"));
        }
    }
    return Ok();
}

std::string ContainerStore::run_dir(const std::string& id) const {
    // Stable, short, distinct per container. The seed is not FNV's offset basis (one digit
    // short), and stays so: it names the run directories of containers already running.
    const uint64_t h = fnv1a64(root_ + "\n" + id, 1469598103934665603ULL);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return vm_base_dir() + "/" + std::string(buf, 12);
}

Result<void> ContainerStore::create_dir(const std::string& id) {
    RUNVM_TRY(validate_container_id(id));
    // --root may not exist yet (runc creates it too). No other uid needs to pass through:
    // the sockets another uid may reach are in run_dir.
    RUNVM_TRY(open_owned_dir(root_, 0700, MissingParents::create));
    auto made = create_owned_dir(dir(id), 0700);
    if (!made && made.error().code() == EEXIST) {
        return Err(Error::with_errno(EEXIST, "container with id " + id + " exists"));
    }
    RUNVM_TRY(std::move(made));
    return Ok();
}

Result<UniqueFd> ContainerStore::open_dir(const std::string& id) const {
    auto root = open_owned_dir(root_);
    auto fd = root ? open_owned_dir(dir(id)) : std::move(root);
    if (!fd && fd.error().code() == ENOENT) {
        return Err(Error::with_errno(ENOENT, "container " + id + " does not exist"));
    }
    return fd;
}

Result<void> ContainerStore::save(const ContainerRecord& record) {
    return write_file_atomic(dir(record.id) + "/state.json", record.to_json().dump(), 0600);
}

Result<ContainerRecord> ContainerStore::load(const std::string& id) const {
    RUNVM_TRY(validate_container_id(id));
    RUNVM_TRY(open_dir(id));
    auto text = read_file(dir(id) + "/state.json");
    if (!text) {
        if (text.error().code() == ENOENT) {
            return Err(Error::with_errno(ENOENT, "container " + id + " does not exist"));
        }
        return Err(std::move(text).error());
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
        return Err(Error::msg(dir(id) + "/state.json: not JSON"));
    }
    return ContainerRecord::from_json(j);
}

Result<std::vector<std::string>> ContainerStore::list() const {
    std::vector<std::string> ids;
    auto root = open_owned_dir(root_);
    if (!root) {
        if (root.error().code() == ENOENT) {
            return ids;
        }
        return Err(std::move(root).error());
    }
    DIR* d = ::fdopendir(root->get());
    if (!d) {
        return Err(Error::from_errno("fdopendir " + root_));
    }
    (void)root->release(); // closedir closes it
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == ".." || !validate_container_id(name).ok()) {
            continue;
        }
        if (::access((dir(name) + "/state.json").c_str(), F_OK) == 0) {
            ids.push_back(name);
        }
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
    return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}
} // namespace

Result<void> ContainerStore::remove(const std::string& id) {
    RUNVM_TRY(validate_container_id(id));
    if (::nftw(dir(id).c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT) {
        return Err(Error::from_errno("remove " + dir(id)));
    }
    return Ok();
}

Result<UniqueFd> ContainerStore::lock(const std::string& id) const {
    const std::string path = dir(id) + "/lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    // Bounded: a wedged holder must not hang the caller.
    for (int i = 0; i < 1000; ++i) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            return fd;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return Err(Error::from_errno("flock " + path));
        }
        ::usleep(10'000);
    }
    return Err(Error::with_errno(ETIMEDOUT, "flock " + path + ": held for over 10 s"));
}

std::string effective_status(const ContainerRecord& record) {
    if (record.status == "stopped") {
        return record.status;
    }
    if (auto monitor = record.monitor(); !monitor && monitor.error().code() == ESRCH) {
        return "stopped";
    }
    return record.status;
}

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
        1'000'000'000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns));
    return buf;
}

} // namespace runvm::shim
