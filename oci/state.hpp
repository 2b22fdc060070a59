// A container's state: the runtime-spec state plus runc's extras, in `runc state`'s JSON shape.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "oci/timestamp.hpp"

namespace runvm::oci {

enum class Status { creating, created, running, stopped, paused };

std::string_view status_name(Status status); // "creating", ...
std::optional<Status> parse_status(std::string_view name);

struct State {
    std::string oci_version; // "ociVersion": the spec version this runtime implements
    std::string id;
    Status status = Status::creating;
    int pid = 0; // the container's init process; 0 once stopped
    std::string bundle;
    std::string rootfs;
    Timestamp created{};
    std::string owner; // empty unless rootless
    std::map<std::string, std::string> annotations;
    nlohmann::json extra; // runtime-private members (e.g. the sandbox's), kept across load/save
    bool operator==(const State&) const = default;
};

// {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner",
//  "annotations" (omitted when empty), ...extra}: what `runc state <id>` prints.
nlohmann::json state_to_json(const State& state);
std::string serialize_state(const State& state);

Result<State> state_from_json(const nlohmann::json& j);
Result<State> parse_state(std::string_view json_text);

} // namespace runvm::oci
