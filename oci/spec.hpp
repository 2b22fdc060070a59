// Typed model of an OCI runtime-spec 1.2 config.json; fields we do not model live in `extra`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// GNU modes (-std=gnu++20) predefine the macro `linux`, which would break Spec::linux.
#if defined(linux)
#error "oci/spec.hpp needs -std=c++20, not gnu++20"
#endif

namespace runvm::oci {

// Every object keeps the members it does not model here, so serialize(parse(x)) loses nothing.
using Extra = nlohmann::json;

struct IdMapping {
    uint32_t container_id = 0; // "containerID"
    uint32_t host_id = 0;      // "hostID"
    uint32_t size = 0;
    Extra extra;
    bool operator==(const IdMapping&) const = default;
};

struct ConsoleSize {
    uint32_t height = 0;
    uint32_t width = 0;
    Extra extra;
    bool operator==(const ConsoleSize&) const = default;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::optional<std::vector<uint32_t>> additional_gids; // "additionalGids"
    std::optional<std::string> username;
    Extra extra;
    bool operator==(const User&) const = default;
};

struct Capabilities {
    std::optional<std::vector<std::string>> bounding;
    std::optional<std::vector<std::string>> effective;
    std::optional<std::vector<std::string>> inheritable;
    std::optional<std::vector<std::string>> permitted;
    std::optional<std::vector<std::string>> ambient;
    Extra extra;
    bool operator==(const Capabilities&) const = default;
};

struct Rlimit {
    std::string type; // "RLIMIT_NOFILE"
    uint64_t hard = 0;
    uint64_t soft = 0;
    Extra extra;
    bool operator==(const Rlimit&) const = default;
};

struct Process {
    std::optional<bool> terminal;
    std::optional<ConsoleSize> console_size; // "consoleSize"
    User user;
    std::optional<std::vector<std::string>> args;
    std::optional<std::vector<std::string>> env;
    std::string cwd;
    std::optional<Capabilities> capabilities;
    std::optional<std::vector<Rlimit>> rlimits;
    std::optional<bool> no_new_privileges;       // "noNewPrivileges"
    std::optional<std::string> apparmor_profile; // "apparmorProfile"
    std::optional<int32_t> oom_score_adj;        // "oomScoreAdj"
    std::optional<std::string> selinux_label;    // "selinuxLabel"
    Extra extra;
    bool operator==(const Process&) const = default;
};

struct Root {
    std::string path;
    std::optional<bool> readonly;
    Extra extra;
    bool operator==(const Root&) const = default;
};

struct Mount {
    std::string destination;
    std::optional<std::string> type;
    std::optional<std::string> source;
    std::optional<std::vector<std::string>> options;
    std::optional<std::vector<IdMapping>> uid_mappings; // "uidMappings"
    std::optional<std::vector<IdMapping>> gid_mappings; // "gidMappings"
    Extra extra;
    bool operator==(const Mount&) const = default;
};

struct Hook {
    std::string path;
    std::optional<std::vector<std::string>> args;
    std::optional<std::vector<std::string>> env;
    std::optional<int64_t> timeout; // seconds
    Extra extra;
    bool operator==(const Hook&) const = default;
};

struct Hooks {
    std::optional<std::vector<Hook>> prestart;         // deprecated in the spec, still run by runc
    std::optional<std::vector<Hook>> create_runtime;   // "createRuntime"
    std::optional<std::vector<Hook>> create_container; // "createContainer"
    std::optional<std::vector<Hook>> start_container;  // "startContainer"
    std::optional<std::vector<Hook>> poststart;
    std::optional<std::vector<Hook>> poststop;
    Extra extra;
    bool operator==(const Hooks&) const = default;
};

struct Namespace {
    std::string type; // pid, network, mount, ipc, uts, user, cgroup, time
    std::optional<std::string> path;
    Extra extra;
    bool operator==(const Namespace&) const = default;
};

struct Device {
    std::string type; // c, b, u, p
    std::string path;
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    std::optional<uint32_t> file_mode; // "fileMode"
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
    Extra extra;
    bool operator==(const Device&) const = default;
};

// A device cgroup rule (linux.resources.devices[]).
struct DeviceCgroupRule {
    bool allow = false;
    std::optional<std::string> type; // a, c, b
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    std::optional<std::string> access; // subset of "rwm"
    Extra extra;
    bool operator==(const DeviceCgroupRule&) const = default;
};

struct MemoryResources {
    std::optional<int64_t> limit;
    std::optional<int64_t> reservation;
    std::optional<int64_t> swap;
    std::optional<int64_t> kernel;
    std::optional<int64_t> kernel_tcp; // "kernelTCP"
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer; // "disableOOMKiller"
    std::optional<bool> use_hierarchy;      // "useHierarchy"
    Extra extra;
    bool operator==(const MemoryResources&) const = default;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> period;
    std::optional<int64_t> realtime_runtime; // "realtimeRuntime"
    std::optional<uint64_t> realtime_period; // "realtimePeriod"
    std::optional<std::string> cpus;         // cpuset list, "0-3,5"
    std::optional<std::string> mems;
    std::optional<int64_t> idle;
    Extra extra;
    bool operator==(const CpuResources&) const = default;
};

struct PidsResources {
    int64_t limit = 0;
    Extra extra;
    bool operator==(const PidsResources&) const = default;
};

struct WeightDevice {
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight; // "leafWeight"
    Extra extra;
    bool operator==(const WeightDevice&) const = default;
};

struct ThrottleDevice {
    int64_t major = 0;
    int64_t minor = 0;
    uint64_t rate = 0;
    Extra extra;
    bool operator==(const ThrottleDevice&) const = default;
};

struct BlockIoResources {
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leaf_weight;                                 // "leafWeight"
    std::optional<std::vector<WeightDevice>> weight_device;              // "weightDevice"
    std::optional<std::vector<ThrottleDevice>> throttle_read_bps_device; // "throttleReadBpsDevice"
    std::optional<std::vector<ThrottleDevice>>
        throttle_write_bps_device; // "throttleWriteBpsDevice"
    std::optional<std::vector<ThrottleDevice>>
        throttle_read_iops_device; // "throttleReadIOPSDevice"
    std::optional<std::vector<ThrottleDevice>>
        throttle_write_iops_device; // "throttleWriteIOPSDevice"
    Extra extra;
    bool operator==(const BlockIoResources&) const = default;
};

struct HugepageLimit {
    std::string page_size; // "pageSize", e.g. "2MB"
    uint64_t limit = 0;
    Extra extra;
    bool operator==(const HugepageLimit&) const = default;
};

struct InterfacePriority {
    std::string name;
    uint32_t priority = 0;
    Extra extra;
    bool operator==(const InterfacePriority&) const = default;
};

struct NetworkResources {
    std::optional<uint32_t> class_id; // "classID"
    std::optional<std::vector<InterfacePriority>> priorities;
    Extra extra;
    bool operator==(const NetworkResources&) const = default;
};

struct RdmaLimit {
    std::optional<uint32_t> hca_handles; // "hcaHandles"
    std::optional<uint32_t> hca_objects; // "hcaObjects"
    Extra extra;
    bool operator==(const RdmaLimit&) const = default;
};

struct Resources {
    std::optional<std::vector<DeviceCgroupRule>> devices;
    std::optional<MemoryResources> memory;
    std::optional<CpuResources> cpu;
    std::optional<PidsResources> pids;
    std::optional<BlockIoResources> block_io;                  // "blockIO"
    std::optional<std::vector<HugepageLimit>> hugepage_limits; // "hugepageLimits"
    std::optional<NetworkResources> network;
    std::optional<std::map<std::string, RdmaLimit>> rdma;
    std::optional<std::map<std::string, std::string>> unified; // cgroup v2 files
    Extra extra;
    bool operator==(const Resources&) const = default;
};

struct SeccompArg {
    uint32_t index = 0;
    uint64_t value = 0;
    std::optional<uint64_t> value_two; // "valueTwo"
    std::string op;                    // SCMP_CMP_*
    Extra extra;
    bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;                // SCMP_ACT_*
    std::optional<uint32_t> errno_ret; // "errnoRet"
    std::optional<std::vector<SeccompArg>> args;
    Extra extra;
    bool operator==(const SeccompSyscall&) const = default;
};

struct Seccomp {
    std::string default_action;                            // "defaultAction"
    std::optional<uint32_t> default_errno_ret;             // "defaultErrnoRet"
    std::optional<std::vector<std::string>> architectures; // SCMP_ARCH_*
    std::optional<std::vector<std::string>> flags;         // SECCOMP_FILTER_FLAG_*
    std::optional<std::string> listener_path;              // "listenerPath"
    std::optional<std::string> listener_metadata;          // "listenerMetadata"
    std::optional<std::vector<SeccompSyscall>> syscalls;
    Extra extra;
    bool operator==(const Seccomp&) const = default;
};

struct IntelRdt {
    std::optional<std::string> clos_id;         // "closID"
    std::optional<std::string> l3_cache_schema; // "l3CacheSchema"
    std::optional<std::string> mem_bw_schema;   // "memBwSchema"
    std::optional<bool> enable_cmt;             // "enableCMT"
    std::optional<bool> enable_mbm;             // "enableMBM"
    Extra extra;
    bool operator==(const IntelRdt&) const = default;
};

struct Personality {
    std::string domain; // LINUX or LINUX32
    std::optional<std::vector<std::string>> flags;
    Extra extra;
    bool operator==(const Personality&) const = default;
};

struct Linux {
    std::optional<std::vector<Namespace>> namespaces;
    std::optional<std::vector<IdMapping>> uid_mappings; // "uidMappings"
    std::optional<std::vector<IdMapping>> gid_mappings; // "gidMappings"
    std::optional<std::vector<Device>> devices;
    std::optional<Resources> resources;
    std::optional<std::string> cgroups_path; // "cgroupsPath"
    std::optional<std::map<std::string, std::string>> sysctl;
    std::optional<Seccomp> seccomp;
    std::optional<std::string> rootfs_propagation;          // "rootfsPropagation"
    std::optional<std::vector<std::string>> masked_paths;   // "maskedPaths"
    std::optional<std::vector<std::string>> readonly_paths; // "readonlyPaths"
    std::optional<std::string> mount_label;                 // "mountLabel"
    std::optional<IntelRdt> intel_rdt;                      // "intelRdt"
    std::optional<Personality> personality;
    Extra extra;
    bool operator==(const Linux&) const = default;
};

// The whole config.json. Optional members are std::nullopt when the key is absent (or null).
struct Spec {
    std::string oci_version; // "ociVersion"
    std::optional<Process> process;
    std::optional<Root> root;
    std::optional<std::string> hostname;
    std::optional<std::string> domainname;
    std::optional<std::vector<Mount>> mounts;
    std::optional<Hooks> hooks;
    std::optional<std::map<std::string, std::string>> annotations;
    std::optional<Linux> linux;
    Extra extra; // e.g. "vm", "windows", "solaris", "zos"
    bool operator==(const Spec&) const = default;
};

} // namespace runvm::oci
