// linux.namespaces: which to create (clone flags) and which to join (setns by path), and the
// user namespace's id maps.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

struct NamespacePlan {
    int new_flags = 0; // CLONE_NEW* to unshare
    struct Join {
        int flag;
        std::string path;
    };
    std::vector<Join> joins; // setns, user namespace first
    bool has(int flag) const;
};

// Errors name the entry: "linux.namespaces[2].type: unknown namespace \"foo\"".
Result<NamespacePlan> plan_namespaces(const oci::Spec& spec);

// Joins every namespace of `plan.joins` whose flag is in `mask` (open + setns).
Result<void> join_namespaces(const NamespacePlan& plan, int mask);

// Writes /proc/<pid>/{uid_map,setgroups,gid_map} from the spec (runs in the launcher).
Result<void> write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                           const std::vector<oci::IdMapping>& gids);

} // namespace runvm::agent
