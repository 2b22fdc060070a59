// Container state <-> JSON.
#include "oci/state.hpp"

#include <array>

#include "oci/json_reader.hpp"

namespace runvm::oci {
namespace {

constexpr std::array<std::string_view, 5> kStatusNames = {"creating", "created", "running",
                                                          "stopped", "paused"};

} // namespace

std::string_view status_name(Status status) {
    return kStatusNames[static_cast<size_t>(status)];
}

std::optional<Status> parse_status(std::string_view name) {
    for (size_t i = 0; i < kStatusNames.size(); ++i) {
        if (kStatusNames[i] == name) {
            return static_cast<Status>(i);
        }
    }
    return std::nullopt;
}

nlohmann::json state_to_json(const State& state) {
    Json out = object_with_extra(state.extra);
    out["ociVersion"] = state.oci_version;
    out["id"] = state.id;
    out["pid"] = state.pid;
    out["status"] = status_name(state.status);
    out["bundle"] = state.bundle;
    out["rootfs"] = state.rootfs;
    out["created"] = format_rfc3339_nano(state.created);
    out["owner"] = state.owner;
    if (!state.annotations.empty()) {
        out["annotations"] = state.annotations;
    } else {
        out.erase("annotations");
    }
    return out;
}

std::string serialize_state(const State& state) {
    return dump_json(state_to_json(state), 2) + "\n";
}

Result<State> state_from_json(const nlohmann::json& j) {
    RUNVM_ASSIGN_OR_RETURN(auto reader, ObjectReader::open(j, ""));
    State state;
    std::string status;
    std::string created;
    std::optional<std::string> owner;
    std::optional<std::string> rootfs;
    std::optional<std::map<std::string, std::string>> annotations;
    RUNVM_TRY(reader.required("ociVersion", state.oci_version));
    RUNVM_TRY(reader.required("id", state.id));
    RUNVM_TRY(reader.required("pid", state.pid));
    RUNVM_TRY(reader.required("status", status));
    RUNVM_TRY(reader.required("bundle", state.bundle));
    RUNVM_TRY(reader.optional("rootfs", rootfs));
    RUNVM_TRY(reader.required("created", created));
    RUNVM_TRY(reader.optional("owner", owner));
    RUNVM_TRY(reader.optional("annotations", annotations));
    const auto parsed_status = parse_status(status);
    if (!parsed_status) {
        return Err(Error::msg("status: unknown status \"" + status + "\""));
    }
    state.status = *parsed_status;
    if (state.pid < 0) {
        return Err(Error::msg("pid: must not be negative"));
    }
    auto created_time = parse_rfc3339(created);
    if (!created_time) {
        return Err(std::move(created_time).error().context("created"));
    }
    state.created = *created_time;
    state.rootfs = rootfs.value_or("");
    state.owner = owner.value_or("");
    state.annotations = annotations.value_or(std::map<std::string, std::string>{});
    state.extra = reader.extra();
    return state;
}

Result<State> parse_state(std::string_view json_text) {
    RUNVM_ASSIGN_OR_RETURN(auto j, parse_json_text(json_text));
    return state_from_json(j);
}

} // namespace runvm::oci
