// config.json text <-> oci::Spec. parse_spec(serialize_spec(s)) == s for every parsed s.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::oci {

// Type errors name the JSON path: "process.user.uid: expected an unsigned 32-bit integer,
// got string". Parsing checks shape only; oci/validate.hpp checks meaning.
Result<Spec> parse_spec(std::string_view json_text);
Result<Spec> spec_from_json(const nlohmann::json& j);

// Reads and parses <bundle>/config.json or any path; errors are prefixed with the path.
Result<Spec> load_spec(const std::string& path);

nlohmann::json spec_to_json(const Spec& spec);
std::string serialize_spec(const Spec& spec); // indented like `runc spec`

} // namespace runvm::oci
