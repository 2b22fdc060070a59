// Run directories (state root, container and VM directories): owned by the effective uid,
// writable by nobody else, never reached through a symlink planted at their own name.
#pragma once

#include <string>

#include <sys/types.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm {

enum class MissingParents { fail, create };

// Opens the existing directory `path` (O_DIRECTORY | O_NOFOLLOW) and checks it: owned by the
// euid, no group or other write bit. Read and traverse bits are left to the caller (a jail
// user may need to reach a directory below). Errors name the path and the rule broken;
// ENOENT when it is missing.
Result<UniqueFd> open_owned_dir(const std::string& path);

// The same, first making the directory with exactly `create_mode` (umask aside) when it is
// missing. Missing parents are made with the same mode when asked; they are not checked
// (/run and /run/user/<uid> belong to root).
Result<UniqueFd> open_owned_dir(const std::string& path, mode_t create_mode,
                                MissingParents parents = MissingParents::fail);

// Makes a new directory with exactly `mode` and opens it; EEXIST when the name is taken.
Result<UniqueFd> create_owned_dir(const std::string& path, mode_t mode);

} // namespace runvm
