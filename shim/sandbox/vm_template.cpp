// The template cache on disk and the VMM's snapshot request.
#include "shim/sandbox/vm_template.hpp"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <set>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "base/secure_dir.hpp"
#include "base/unix_socket.hpp"

namespace runvm::shim {

namespace {

constexpr std::string_view kBuildPrefix = ".build-";
const std::set<std::string> kTemplateFiles = {"state", "memory"};

// A template file as a restore may trust it: root's regular file, 0600.
Result<UniqueFd> open_template_file(int dir_fd, const std::string& dir, const char* name) {
    const std::string path = dir + "/" + name;
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return Err(Error::from_errno("open template file " + path));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Err(Error::from_errno("fstat " + path));
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 07777) != 0600) {
        return Err(
            Error::with_errno(EPERM, path + ": not a regular file of root's with mode 0600"));
    }
    return fd;
}

void remove_dir(const std::string& path) {
    std::error_code ec; // best effort: a removal that fails leaves a directory no key names
    std::filesystem::remove_all(path, ec);
}

} // namespace

Result<std::optional<VmTemplateFiles>> open_vm_template(const std::string& root,
                                                        const std::string& key) {
    const std::string dir = root + "/" + key;
    auto dir_fd = open_owned_dir(dir);
    if (!dir_fd && dir_fd.error().code() == ENOENT) {
        return std::optional<VmTemplateFiles>();
    }
    if (!dir_fd) {
        return Err(std::move(dir_fd).error());
    }
    struct stat st {};
    if (::fstat(dir_fd->get(), &st) != 0 || (st.st_mode & 0077) != 0) {
        return Err(Error::with_errno(EPERM, dir + ": not a root-only directory"));
    }
    VmTemplateFiles files;
    files.dir = dir;
    RUNVM_ASSIGN_OR_RETURN(files.state, open_template_file(dir_fd->get(), dir, "state"));
    RUNVM_ASSIGN_OR_RETURN(files.memory, open_template_file(dir_fd->get(), dir, "memory"));
    return std::optional<VmTemplateFiles>(std::move(files));
}

bool vm_template_saved(const std::string& root, const std::string& key) {
    struct stat st {};
    return !key.empty() && ::lstat((root + "/" + key).c_str(), &st) == 0;
}

std::vector<VmTemplateInfo> list_vm_templates(const std::string& root) {
    std::vector<VmTemplateInfo> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename();
        if (name.starts_with(kBuildPrefix) || !entry.is_directory(ec)) {
            continue;
        }
        VmTemplateInfo info;
        info.key = name;
        for (const std::string& file : kTemplateFiles) {
            struct stat st {};
            if (::lstat((entry.path() / file).c_str(), &st) == 0) {
                info.disk_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
                if (file == "memory") {
                    info.memory_bytes = static_cast<uint64_t>(st.st_size);
                }
            }
        }
        out.push_back(std::move(info));
    }
    return out;
}

size_t remove_vm_templates(const std::string& root, const std::string& key) {
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename();
        if (!key.empty() && name != key) {
            continue;
        }
        remove_dir(entry.path());
        removed += name.starts_with(kBuildPrefix) ? 0 : 1;
    }
    return removed;
}

Result<VmTemplateBuild> VmTemplateBuild::begin(const std::string& root, const std::string& key,
                                               uid_t owner, gid_t group) {
    RUNVM_TRY(open_owned_dir(root, 0700, MissingParents::create));
    std::string dir = root + "/" + std::string(kBuildPrefix) + key + "-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
        return Err(Error::from_errno("mkdtemp " + dir));
    }
    VmTemplateBuild build(root, key, dir);
    if (::chown(dir.c_str(), owner, group) != 0) {
        return Err(Error::from_errno("chown " + dir));
    }
    return build;
}

VmTemplateBuild::VmTemplateBuild(VmTemplateBuild&& other) noexcept
    : root_(std::move(other.root_)), key_(std::move(other.key_)),
      dir_(std::exchange(other.dir_, {})) {}

VmTemplateBuild& VmTemplateBuild::operator=(VmTemplateBuild&& other) noexcept {
    if (this != &other) {
        if (!dir_.empty()) {
            remove_dir(dir_);
        }
        root_ = std::move(other.root_);
        key_ = std::move(other.key_);
        dir_ = std::exchange(other.dir_, {});
    }
    return *this;
}

VmTemplateBuild::~VmTemplateBuild() {
    if (!dir_.empty()) {
        remove_dir(dir_);
    }
}

Result<void> VmTemplateBuild::commit() {
    // The directory is the VMM's until here: only its two files are taken, through fds that
    // cannot follow a link it planted, and then nothing of its is left writable.
    UniqueFd dir_fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd) {
        return Err(Error::from_errno("open " + dir_));
    }
    if (::fchown(dir_fd.get(), 0, 0) != 0 || ::fchmod(dir_fd.get(), 0700) != 0) {
        return Err(Error::from_errno("chown/chmod " + dir_));
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
        if (kTemplateFiles.count(entry.path().filename()) == 0) {
            return Err(Error::msg(dir_ + ": unexpected entry " + entry.path().filename().string()));
        }
    }
    for (const std::string& name : kTemplateFiles) {
        UniqueFd fd(::openat(dir_fd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            return Err(Error::with_errno(errno ? errno : EINVAL,
                                         dir_ + "/" + name + ": not a regular file"));
        }
        if (::fchown(fd.get(), 0, 0) != 0 || ::fchmod(fd.get(), 0600) != 0 ||
            ::fsync(fd.get()) != 0) {
            return Err(Error::from_errno("chown/chmod/fsync " + dir_ + "/" + name));
        }
    }
    const std::string final_dir = root_ + "/" + key_;
    if (::rename(dir_.c_str(), final_dir.c_str()) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            return Ok(); // another build of this key won; this one goes with the destructor
        }
        return Err(Error::from_errno("rename " + dir_ + " to " + final_dir));
    }
    dir_.clear();
    return Ok();
}

Result<uint64_t> request_vmm_snapshot(const std::string& control_socket, const std::string& dir,
                                      int timeout_ms) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd fd, connect_unix(control_socket, false));
    const std::string request = "snapshot " + dir + "\n";
    RUNVM_TRY(write_all(fd.get(), request.data(), request.size(), "runvm-vmm control socket"));
    pollfd p{fd.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready <= 0) {
        return Err(Error::with_errno(ready == 0 ? ETIMEDOUT : errno,
                                     "runvm-vmm snapshot: no answer on " + control_socket));
    }
    char buf[512] = {};
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) {
        return Err(Error::from_errno("read runvm-vmm control socket " + control_socket));
    }
    std::string reply(buf, static_cast<size_t>(n));
    while (!reply.empty() && reply.back() == '\n') {
        reply.pop_back();
    }
    if (!reply.starts_with("ok ")) {
        return Err(Error::msg("runvm-vmm snapshot: " + reply));
    }
    uint64_t bytes = 0;
    const char* digits = reply.data() + 3;
    if (std::from_chars(digits, reply.data() + reply.size(), bytes).ec != std::errc()) {
        return Err(Error::msg("runvm-vmm snapshot: unexpected answer '" + reply + "'"));
    }
    return bytes;
}

} // namespace runvm::shim
