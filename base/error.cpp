// Error formatting.
#include "base/error.hpp"

#include <cstring>

namespace runvm {

std::string Error::str() const {
    if (errno_ == 0) {
        return message_;
    }
    return message_ + ": " + std::strerror(errno_);
}

Error Error::context(const std::string& what) const& {
    return Error(errno_, what + ": " + message_);
}

Error Error::context(const std::string& what) && {
    message_.insert(0, what + ": ");
    return std::move(*this);
}

} // namespace runvm
