// runvm-vmm templates (docs/design/fast-start.md, "runvm-vmm templates"): a pooled VM saved at
// "agent ready", before any container ran in it, as <template_dir>/<key>/{state,memory} (the
// VMM's snapshot format, docs/vmm.md "Snapshots"); the next pooled VM of that key is restored
// from it instead of booting. Root's: the directory 0700, the files 0600.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::shim {

// A saved template, opened for a restore: the VMM reads the fds (a jailed VMM cannot open
// root's files).
struct VmTemplateFiles {
    std::string dir;
    UniqueFd state;
    UniqueFd memory;
};

// nullopt when none is saved for `key`. An error when <root>/<key> is not a root-only
// directory holding root's regular 0600 `state` and `memory`: the caller removes it.
Result<std::optional<VmTemplateFiles>> open_vm_template(const std::string& root,
                                                        const std::string& key);

// Whether <root>/<key> exists (a restore from it was tried, whatever its state).
bool vm_template_saved(const std::string& root, const std::string& key);

struct VmTemplateInfo {
    std::string key;
    uint64_t disk_bytes = 0;   // what its files take on disk (the memory file is sparse)
    uint64_t memory_bytes = 0; // the guest RAM it describes
};
std::vector<VmTemplateInfo> list_vm_templates(const std::string& root);

// Removes <root>/<key> (or every template, and any build left half done, with an empty key);
// returns how many templates went.
size_t remove_vm_templates(const std::string& root, const std::string& key = "");

// Where a VMM writes a template: <root>/.build-<key>-XXXXXX, owned by the VMM's uid (the jail
// binds it in writable). commit() makes what it wrote root's and moves it to <root>/<key>;
// anything else (a failed save, a drop) removes it.
class VmTemplateBuild {
public:
    static Result<VmTemplateBuild> begin(const std::string& root, const std::string& key,
                                         uid_t owner, gid_t group);
    VmTemplateBuild(VmTemplateBuild&& other) noexcept;
    VmTemplateBuild& operator=(VmTemplateBuild&& other) noexcept;
    VmTemplateBuild(const VmTemplateBuild&) = delete;
    VmTemplateBuild& operator=(const VmTemplateBuild&) = delete;
    ~VmTemplateBuild();

    const std::string& dir() const { return dir_; }
    // Exactly `state` and `memory`, regular files: root's, 0600, in a root-only directory
    // renamed to <root>/<key>. Another build of the key that got there first wins (Ok).
    Result<void> commit();

private:
    VmTemplateBuild(std::string root, std::string key, std::string dir)
        : root_(std::move(root)), key_(std::move(key)), dir_(std::move(dir)) {}
    std::string root_;
    std::string key_;
    std::string dir_; // empty once committed or moved from
};

// Asks runvm-vmm's control socket for `snapshot DIR` (the VM runs on); its "ok <bytes>" gives
// the bytes written. Waits `timeout` at most.
Result<uint64_t> request_vmm_snapshot(const std::string& control_socket, const std::string& dir,
                                      int timeout_ms);

} // namespace runvm::shim
