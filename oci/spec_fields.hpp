// The JSON member list of every spec type, in runtime-spec order (see oci/json_struct.hpp).
#pragma once

#include "oci/json_struct.hpp"
#include "oci/spec.hpp"

namespace runvm::oci {

template <typename V, Self<IdMapping> S>
void fields(V& v, S& s) {
    v("containerID", s.container_id);
    v("hostID", s.host_id);
    v("size", s.size);
}

template <typename V, Self<ConsoleSize> S>
void fields(V& v, S& s) {
    v("height", s.height);
    v("width", s.width);
}

template <typename V, Self<User> S>
void fields(V& v, S& s) {
    v("uid", s.uid);
    v("gid", s.gid);
    v("umask", s.umask);
    v("additionalGids", s.additional_gids);
    v("username", s.username);
}

template <typename V, Self<Capabilities> S>
void fields(V& v, S& s) {
    v("bounding", s.bounding);
    v("effective", s.effective);
    v("inheritable", s.inheritable);
    v("permitted", s.permitted);
    v("ambient", s.ambient);
}

template <typename V, Self<Rlimit> S>
void fields(V& v, S& s) {
    v("type", s.type);
    v("hard", s.hard);
    v("soft", s.soft);
}

template <typename V, Self<Process> S>
void fields(V& v, S& s) {
    v("terminal", s.terminal);
    v("consoleSize", s.console_size);
    v("user", s.user);
    v("args", s.args);
    v("env", s.env);
    v("cwd", s.cwd);
    v("capabilities", s.capabilities);
    v("rlimits", s.rlimits);
    v("noNewPrivileges", s.no_new_privileges);
    v("apparmorProfile", s.apparmor_profile);
    v("oomScoreAdj", s.oom_score_adj);
    v("selinuxLabel", s.selinux_label);
}

template <typename V, Self<Root> S>
void fields(V& v, S& s) {
    v("path", s.path);
    v("readonly", s.readonly);
}

template <typename V, Self<Mount> S>
void fields(V& v, S& s) {
    v("destination", s.destination);
    v("type", s.type);
    v("source", s.source);
    v("options", s.options);
    v("uidMappings", s.uid_mappings);
    v("gidMappings", s.gid_mappings);
}

template <typename V, Self<Hook> S>
void fields(V& v, S& s) {
    v("path", s.path);
    v("args", s.args);
    v("env", s.env);
    v("timeout", s.timeout);
}

template <typename V, Self<Hooks> S>
void fields(V& v, S& s) {
    v("prestart", s.prestart);
    v("createRuntime", s.create_runtime);
    v("createContainer", s.create_container);
    v("startContainer", s.start_container);
    v("poststart", s.poststart);
    v("poststop", s.poststop);
}

template <typename V, Self<Namespace> S>
void fields(V& v, S& s) {
    v("type", s.type);
    v("path", s.path);
}

template <typename V, Self<Device> S>
void fields(V& v, S& s) {
    v("type", s.type);
    v("path", s.path);
    v("major", s.major);
    v("minor", s.minor);
    v("fileMode", s.file_mode);
    v("uid", s.uid);
    v("gid", s.gid);
}

template <typename V, Self<DeviceCgroupRule> S>
void fields(V& v, S& s) {
    v("allow", s.allow);
    v("type", s.type);
    v("major", s.major);
    v("minor", s.minor);
    v("access", s.access);
}

template <typename V, Self<MemoryResources> S>
void fields(V& v, S& s) {
    v("limit", s.limit);
    v("reservation", s.reservation);
    v("swap", s.swap);
    v("kernel", s.kernel);
    v("kernelTCP", s.kernel_tcp);
    v("swappiness", s.swappiness);
    v("disableOOMKiller", s.disable_oom_killer);
    v("useHierarchy", s.use_hierarchy);
}

template <typename V, Self<CpuResources> S>
void fields(V& v, S& s) {
    v("shares", s.shares);
    v("quota", s.quota);
    v("period", s.period);
    v("realtimeRuntime", s.realtime_runtime);
    v("realtimePeriod", s.realtime_period);
    v("cpus", s.cpus);
    v("mems", s.mems);
    v("idle", s.idle);
}

template <typename V, Self<PidsResources> S>
void fields(V& v, S& s) {
    v("limit", s.limit);
}

template <typename V, Self<WeightDevice> S>
void fields(V& v, S& s) {
    v("major", s.major);
    v("minor", s.minor);
    v("weight", s.weight);
    v("leafWeight", s.leaf_weight);
}

template <typename V, Self<ThrottleDevice> S>
void fields(V& v, S& s) {
    v("major", s.major);
    v("minor", s.minor);
    v("rate", s.rate);
}

template <typename V, Self<BlockIoResources> S>
void fields(V& v, S& s) {
    v("weight", s.weight);
    v("leafWeight", s.leaf_weight);
    v("weightDevice", s.weight_device);
    v("throttleReadBpsDevice", s.throttle_read_bps_device);
    v("throttleWriteBpsDevice", s.throttle_write_bps_device);
    v("throttleReadIOPSDevice", s.throttle_read_iops_device);
    v("throttleWriteIOPSDevice", s.throttle_write_iops_device);
}

template <typename V, Self<HugepageLimit> S>
void fields(V& v, S& s) {
    v("pageSize", s.page_size);
    v("limit", s.limit);
}

template <typename V, Self<InterfacePriority> S>
void fields(V& v, S& s) {
    v("name", s.name);
    v("priority", s.priority);
}

template <typename V, Self<NetworkResources> S>
void fields(V& v, S& s) {
    v("classID", s.class_id);
    v("priorities", s.priorities);
}

template <typename V, Self<RdmaLimit> S>
void fields(V& v, S& s) {
    v("hcaHandles", s.hca_handles);
    v("hcaObjects", s.hca_objects);
}

template <typename V, Self<Resources> S>
void fields(V& v, S& s) {
    v("devices", s.devices);
    v("memory", s.memory);
    v("cpu", s.cpu);
    v("pids", s.pids);
    v("blockIO", s.block_io);
    v("hugepageLimits", s.hugepage_limits);
    v("network", s.network);
    v("rdma", s.rdma);
    v("unified", s.unified);
}

template <typename V, Self<SeccompArg> S>
void fields(V& v, S& s) {
    v("index", s.index);
    v("value", s.value);
    v("valueTwo", s.value_two);
    v("op", s.op);
}

template <typename V, Self<SeccompSyscall> S>
void fields(V& v, S& s) {
    v("names", s.names);
    v("action", s.action);
    v("errnoRet", s.errno_ret);
    v("args", s.args);
}

template <typename V, Self<Seccomp> S>
void fields(V& v, S& s) {
    v("defaultAction", s.default_action);
    v("defaultErrnoRet", s.default_errno_ret);
    v("architectures", s.architectures);
    v("flags", s.flags);
    v("listenerPath", s.listener_path);
    v("listenerMetadata", s.listener_metadata);
    v("syscalls", s.syscalls);
}

template <typename V, Self<IntelRdt> S>
void fields(V& v, S& s) {
    v("closID", s.clos_id);
    v("l3CacheSchema", s.l3_cache_schema);
    v("memBwSchema", s.mem_bw_schema);
    v("enableCMT", s.enable_cmt);
    v("enableMBM", s.enable_mbm);
}

template <typename V, Self<Personality> S>
void fields(V& v, S& s) {
    v("domain", s.domain);
    v("flags", s.flags);
}

template <typename V, Self<Linux> S>
void fields(V& v, S& s) {
    v("namespaces", s.namespaces);
    v("uidMappings", s.uid_mappings);
    v("gidMappings", s.gid_mappings);
    v("devices", s.devices);
    v("resources", s.resources);
    v("cgroupsPath", s.cgroups_path);
    v("sysctl", s.sysctl);
    v("seccomp", s.seccomp);
    v("rootfsPropagation", s.rootfs_propagation);
    v("maskedPaths", s.masked_paths);
    v("readonlyPaths", s.readonly_paths);
    v("mountLabel", s.mount_label);
    v("intelRdt", s.intel_rdt);
    v("personality", s.personality);
}

template <typename V, Self<Spec> S>
void fields(V& v, S& s) {
    v("ociVersion", s.oci_version);
    v("process", s.process);
    v("root", s.root);
    v("hostname", s.hostname);
    v("domainname", s.domainname);
    v("mounts", s.mounts);
    v("hooks", s.hooks);
    v("annotations", s.annotations);
    v("linux", s.linux);
}

} // namespace runvm::oci
