// The jail's mounts, in the order they are made: a parent directory before what is inside it.
#include "jail/mount_plan.hpp"

namespace runvm::jail {

namespace {

using Kind = MountStep::Kind;

bool under(const std::string& path, const std::string& dir) {
    return path.starts_with(dir + "/");
}

} // namespace

std::vector<MountStep> mount_plan(const JailSpec& spec) {
    // Debian 12 merges /usr: the loader and libraries are found through these links.
    std::vector<MountStep> plan = {
        {Kind::symlink, "usr/bin", "/bin", true, false},
        {Kind::symlink, "usr/sbin", "/sbin", true, false},
        {Kind::symlink, "usr/lib", "/lib", true, false},
        {Kind::symlink, "usr/lib64", "/lib64", true, false},
        {Kind::bind, "/usr", "/usr", true, false},
        {Kind::bind, "/etc/ld.so.cache", "/etc/ld.so.cache", true, false},
    };
    const std::string& program = spec.program.empty() ? std::string() : spec.program[0];
    bool program_visible = program.empty() || under(program, "/usr");
    for (const BindSpec& bind : spec.binds) {
        plan.push_back({Kind::bind, bind.path, bind.path, bind.readonly, false});
        program_visible = program_visible || program == bind.path || under(program, bind.path);
    }
    for (const std::string& path : spec.idmap_binds) {
        plan.push_back({Kind::idmap_bind, path, path, false, false});
        program_visible = program_visible || program == path || under(program, path);
    }
    if (!program_visible) {
        plan.push_back({Kind::bind, program, program, true, false});
    }
    for (const std::string& dev : spec.devices) {
        plan.push_back({Kind::bind, "/dev/" + dev, "/dev/" + dev, false, true});
    }
    if (spec.proc) {
        plan.push_back({Kind::proc, "proc", "/proc", false, false});
    }
    return plan;
}

} // namespace runvm::jail
