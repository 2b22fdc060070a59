// Capability sets with libcap: bounding via PR_CAPBSET_DROP, e/p/i via cap_set_proc,
// ambient via PR_CAP_AMBIENT_RAISE (what runc's capabilities package does).
#include "guest_agent/launcher/capabilities.hpp"

#include <algorithm>
#include <cerrno>

#include <sys/capability.h>
#include <sys/prctl.h>

namespace runvm::agent {

namespace {
Result<std::vector<int>> resolve(const std::optional<std::vector<std::string>>& names,
                                 const char* set) {
    std::vector<int> out;
    for (const auto& n : names.value_or(std::vector<std::string>{})) {
        auto v = capability_from_name(n);
        if (!v.ok()) {
            return Err(std::move(v).error().context(std::string("process.capabilities.") + set));
        }
        out.push_back(*v);
    }
    return out;
}

bool contains(const std::vector<int>& v, int c) {
    return std::find(v.begin(), v.end(), c) != v.end();
}

// Capabilities this kernel knows: libcap's compiled-in list may be older or newer.
int last_cap() {
    int last = CAP_LAST_CAP;
    while (::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) {
        ++last;
    }
    while (last > 0 && ::prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0) {
        --last;
    }
    return last;
}
} // namespace

Result<int> capability_from_name(const std::string& name) {
    cap_value_t v;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (cap_from_name(lower.c_str(), &v) < 0) {
        return Err(Error::with_errno(EINVAL, "unknown capability \"" + name + "\""));
    }
    return static_cast<int>(v);
}

Result<CapabilitySets> resolve_capabilities(const oci::Capabilities& caps) {
    CapabilitySets s;
    RUNVM_ASSIGN_OR_RETURN(s.bounding, resolve(caps.bounding, "bounding"));
    RUNVM_ASSIGN_OR_RETURN(s.effective, resolve(caps.effective, "effective"));
    RUNVM_ASSIGN_OR_RETURN(s.inheritable, resolve(caps.inheritable, "inheritable"));
    RUNVM_ASSIGN_OR_RETURN(s.permitted, resolve(caps.permitted, "permitted"));
    RUNVM_ASSIGN_OR_RETURN(s.ambient, resolve(caps.ambient, "ambient"));
    return s;
}

Result<void> apply_bounding_set(const CapabilitySets& sets) {
    const int last = last_cap();
    for (int c = 0; c <= last; ++c) {
        if (contains(sets.bounding, c)) {
            continue;
        }
        if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
            return Err(Error::from_errno("prctl PR_CAPBSET_DROP " + std::to_string(c)));
        }
    }
    return Ok();
}

Result<void> apply_capability_sets(const CapabilitySets& sets) {
    cap_t caps = cap_init();
    if (caps == nullptr) {
        return Err(Error::from_errno("cap_init"));
    }
    auto set_flag = [&](cap_flag_t flag, const std::vector<int>& list) {
        static_assert(std::is_same_v<cap_value_t, int>);
        return list.empty() ||
               cap_set_flag(caps, flag, static_cast<int>(list.size()), list.data(), CAP_SET) == 0;
    };
    const bool ok = set_flag(CAP_EFFECTIVE, sets.effective) &&
                    set_flag(CAP_PERMITTED, sets.permitted) &&
                    set_flag(CAP_INHERITABLE, sets.inheritable);
    const int rc = ok ? cap_set_proc(caps) : -1;
    const int saved = errno;
    cap_free(caps);
    if (rc < 0) {
        return Err(Error::with_errno(saved, "capset (effective/permitted/inheritable)"));
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        return Err(Error::from_errno("prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    for (int c : sets.ambient) {
        // runc ignores an ambient capability the other sets do not allow.
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM) {
            return Err(Error::from_errno("prctl PR_CAP_AMBIENT_RAISE " + std::to_string(c)));
        }
    }
    return Ok();
}

Result<void> set_keep_caps(bool on) {
    if (::prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0) < 0) {
        return Err(Error::from_errno("prctl PR_SET_KEEPCAPS"));
    }
    return Ok();
}

} // namespace runvm::agent
