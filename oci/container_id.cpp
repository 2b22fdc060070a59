// Container id validation.
#include "oci/container_id.hpp"

#include <string>

#include "oci/json_reader.hpp"

namespace runvm::oci {
namespace {

bool is_id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (c >= '+' && c <= '.');
}

std::string shown(std::string_view id) {
    return dump_json(Json(std::string(id)));
}

} // namespace

Result<void> validate_container_id(std::string_view id) {
    if (id.empty()) {
        return Err(Error::with_errno(EINVAL, "invalid container id: must not be empty"));
    }
    if (id.size() > kMaxContainerIdLength) {
        return Err(Error::with_errno(EINVAL, "invalid container id: longer than " +
                                                 std::to_string(kMaxContainerIdLength) + " bytes"));
    }
    if (id == "." || id == "..") {
        return Err(Error::with_errno(EINVAL, "invalid container id " + shown(id)));
    }
    for (const char c : id) {
        if (!is_id_char(c)) {
            return Err(
                Error::with_errno(EINVAL, "invalid container id " + shown(id) +
                                              ": only letters, digits and _ + , - . are allowed"));
        }
    }
    return Ok();
}

} // namespace runvm::oci
