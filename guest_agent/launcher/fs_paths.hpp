// Path helpers for setting up a rootfs the image controls: joins that cannot escape the
// root through symlinks or "..", and mkdir -p / touch at the result.
#pragma once

#include <string>

#include <sys/types.h>

#include "base/result.hpp"

namespace runvm::agent {

// `root` + `unsafe`, with every symlink in `unsafe` resolved as if `root` were "/" (like
// filepath-securejoin, which runc uses). The last component need not exist.
Result<std::string> secure_join(const std::string& root, const std::string& unsafe);

Result<void> mkdir_all(const std::string& path, mode_t mode);
// Creates an empty file (and its parent directories) when nothing exists at `path`.
Result<void> touch_file(const std::string& path);
// Normalizes "a//b/./c/../d" to "/a/b/d" (lexically).
std::string clean_path(const std::string& path);

} // namespace runvm::agent
