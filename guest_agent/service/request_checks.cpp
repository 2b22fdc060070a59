// Request validation: spec JSON goes through oci/ (parse, validate) and the launcher's own
// resolution (namespaces, capabilities, rlimits, seccomp), so a bad request fails here with
// the field named, before anything is forked or mounted.
#include "guest_agent/service/request_checks.hpp"

#include <cerrno>

#include <nlohmann/json.hpp>

#include "guest_agent/launcher/cgroup.hpp"
#include "guest_agent/launcher/launch_plan.hpp"
#include "oci/spec_json.hpp"
#include "oci/validate.hpp"

namespace runvm::agent {

namespace {
Error invalid(const std::string& what) {
    return Error::with_errno(EINVAL, what);
}

// Everything wrong with a request is the caller's mistake: EINVAL, whatever the parser set.
Error as_invalid(Error e, const std::string& context) {
    return Error::with_errno(EINVAL, context + ": " + e.message());
}

// The runtime-spec JSON of one member, parsed through a minimal spec so the same parser
// (and its path-naming errors) applies.
Result<oci::Spec> parse_member(const std::string& text, const char* key, const char* field) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        return Err(invalid(std::string(field) + ": not JSON"));
    }
    nlohmann::json wrapper = {{"ociVersion", "1.0.2"}};
    if (std::string(key) == "resources") {
        wrapper["linux"] = {{"resources", std::move(j)}};
    } else {
        wrapper[key] = std::move(j);
    }
    auto spec = oci::spec_from_json(wrapper);
    if (!spec.ok()) {
        return Err(as_invalid(std::move(spec).error(), field));
    }
    return spec;
}
} // namespace

Result<void> check_id(const std::string& id, const char* field, bool allow_empty) {
    if (id.empty()) {
        return allow_empty ? Ok() : Result<void>(Err(invalid(std::string(field) + ": empty")));
    }
    if (id.size() > 128 || id[0] == '.') {
        return Err(invalid(std::string(field) + ": over 128 bytes or starting with '.'"));
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            return Err(invalid(std::string(field) + ": only [A-Za-z0-9_.-] allowed"));
        }
    }
    return Ok();
}

Result<void> check_shared_fs(const runvm::agent::v1::SharedFs& fs) {
    const std::string& tag = fs.tag();
    if (tag.empty() || tag.size() > 36 || tag.find('\0') != std::string::npos) {
        return Err(invalid("shared_fs.tag: empty, over 36 bytes or with a NUL"));
    }
    const std::string& mp = fs.mount_point();
    if (mp.size() < 2 || mp[0] != '/' || mp.find("..") != std::string::npos ||
        mp.find('\0') != std::string::npos || mp.back() == '/') {
        return Err(invalid("shared_fs.mount_point: must be an absolute path below / without "
                           "\"..\""));
    }
    return Ok();
}

Result<oci::Spec> check_create(const runvm::agent::v1::CreateContainerRequest& req) {
    RUNVM_TRY(check_id(req.container_id(), "container_id", false));
    const auto& rootfs = req.rootfs();
    if (rootfs.source_case() == runvm::agent::v1::Rootfs::SOURCE_NOT_SET) {
        return Err(invalid("rootfs: neither block_device nor directory"));
    }
    const std::string& src = rootfs.has_block_device() ? rootfs.block_device() : rootfs.directory();
    if (src.empty() || src[0] != '/' || src.find("..") != std::string::npos) {
        return Err(invalid("rootfs: must be an absolute path without \"..\""));
    }
    if (req.has_shared_fs()) {
        RUNVM_TRY(check_shared_fs(req.shared_fs()));
    }
    auto spec = oci::parse_spec(req.oci_spec_json());
    if (!spec.ok()) {
        return Err(as_invalid(std::move(spec).error(), "oci_spec_json"));
    }
    if (auto v = oci::validate(*spec); !v.ok()) {
        return Err(as_invalid(std::move(v).error(), "oci_spec_json"));
    }
    if (auto plan = plan_launch(req.container_id(), "/", src, *spec); !plan.ok()) {
        return Err(as_invalid(std::move(plan).error(), "oci_spec_json"));
    }
    if (spec->linux && spec->linux->resources) {
        if (auto s = cgroup_v2_settings(*spec->linux->resources); !s.ok()) {
            return Err(as_invalid(std::move(s).error(), "oci_spec_json"));
        }
    }
    return spec;
}

Result<oci::Process> check_exec(const runvm::agent::v1::ExecProcessRequest& req) {
    RUNVM_TRY(check_id(req.container_id(), "container_id", false));
    RUNVM_TRY(check_id(req.exec_id(), "exec_id", false));
    RUNVM_ASSIGN_OR_RETURN(oci::Spec spec,
                           parse_member(req.process_json(), "process", "process_json"));
    if (!spec.process) {
        return Err(invalid("process_json: null"));
    }
    RUNVM_TRY(plan_process(*spec.process, std::nullopt));
    return std::move(*spec.process);
}

Result<oci::Resources> check_update(const runvm::agent::v1::UpdateContainerRequest& req) {
    RUNVM_TRY(check_id(req.container_id(), "container_id", false));
    RUNVM_ASSIGN_OR_RETURN(oci::Spec spec,
                           parse_member(req.resources_json(), "resources", "resources_json"));
    if (!spec.linux || !spec.linux->resources) {
        return Err(invalid("resources_json: null"));
    }
    RUNVM_TRY(cgroup_v2_settings(*spec.linux->resources));
    return std::move(*spec.linux->resources);
}

Result<void> check_signal(uint32_t signal) {
    if (signal < 1 || signal > 64) {
        return Err(invalid("signal: " + std::to_string(signal) + " not in 1..64"));
    }
    return Ok();
}

} // namespace runvm::agent
