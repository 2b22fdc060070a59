// Container ids as runc accepts them, so ids are safe as path components under the state root.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/result.hpp"

namespace runvm::oci {

inline constexpr size_t kMaxContainerIdLength = 1024;

// runc's ^[\w+-\.]+$ : letters, digits, '_', and the range '+'..'.' which is "+,-."; not "."
// or "..", at most kMaxContainerIdLength bytes.
Result<void> validate_container_id(std::string_view id);

} // namespace runvm::oci
