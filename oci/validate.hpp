// Meaning checks of a parsed config.json; each problem reads "<json path>: <rule>".
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::oci {

// Every problem, in document order, e.g. `linux.namespaces[2].type: unknown namespace type
// "foo"`. Empty when the spec is valid.
std::vector<std::string> find_problems(const Spec& spec);

// Ok, or an error whose message is the problems joined by "; ".
Result<void> validate(const Spec& spec);

} // namespace runvm::oci
