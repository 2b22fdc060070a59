// Subordinate id ranges (subuid(5)) and a user namespace made by a helper child.
#include "jail/user_namespace.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "base/text.hpp"

namespace runvm::jail {

namespace {

struct Range {
    uint32_t start = 0;
    uint32_t count = 0;
};

Result<uint32_t> parse_id(std::string_view text, const std::string& where, const char* field) {
    const auto v = parse_u64(text);
    if (!v || *v > UINT32_MAX) {
        return Err(Error::with_errno(EINVAL, where + ": " + field + " '" + std::string(text) +
                                                 "' is not a 32-bit number"));
    }
    return static_cast<uint32_t>(*v);
}

// The first range of `user` (by name or by its uid, as shadow-utils accepts both).
Result<Range> find_range(std::string_view user, uint32_t primary, const std::string& file) {
    RUNVM_ASSIGN_OR_RETURN(const std::string text, read_file(file));
    size_t line_no = 0;
    for (std::string_view line : split(text, '\n')) {
        ++line_no;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::string where = file + ":" + std::to_string(line_no);
        const auto fields = split(line, ':');
        if (fields.size() != 3 || fields[0].empty()) {
            return Err(Error::with_errno(EINVAL, where + ": want name:start:count, have '" +
                                                     std::string(line) + "'"));
        }
        RUNVM_ASSIGN_OR_RETURN(const uint32_t start, parse_id(fields[1], where, "start"));
        RUNVM_ASSIGN_OR_RETURN(const uint32_t count, parse_id(fields[2], where, "count"));
        if (fields[0] != user && parse_u64(fields[0]) != primary) {
            continue;
        }
        if (count < kSubordinateIds || uint64_t{start} + count > uint64_t{UINT32_MAX}) {
            return Err(Error::with_errno(
                ERANGE, where + ": range " + std::to_string(start) + "+" + std::to_string(count) +
                            " of " + std::string(user) + " is not " +
                            std::to_string(kSubordinateIds) + " ids below 2^32-1"));
        }
        if (primary >= start && primary - start < kSubordinateIds) {
            return Err(Error::with_errno(EINVAL, where + ": range of " + std::string(user) +
                                                     " holds its own id " +
                                                     std::to_string(primary)));
        }
        return Range{start, count};
    }
    return Err(Error::with_errno(ENOENT, file + ": no subordinate id range for user " +
                                             std::string(user) + " (scripts/setup.sh adds one)"));
}

Result<void> write_map(pid_t pid, const char* which, std::span<const IdMap> map) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + which;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    // The kernel takes a map in one write only (user_namespaces(7)).
    const std::string text = format_id_map(map);
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size())) {
        return Err(Error::from_errno("write " + path + " '" + text + "'"));
    }
    return Ok();
}

} // namespace

Result<std::vector<IdMap>> jail_id_map(std::string_view user, uint32_t primary,
                                       const std::string& subid_file) {
    RUNVM_ASSIGN_OR_RETURN(const Range range, find_range(user, primary, subid_file));
    return std::vector<IdMap>{{0, primary, 1}, {1, range.start, kSubordinateIds}};
}

std::string format_id_map(std::span<const IdMap> map) {
    std::string out;
    for (const IdMap& m : map) {
        out += std::to_string(m.inside) + " " + std::to_string(m.outside) + " " +
               std::to_string(m.count) + "\n";
    }
    return out;
}

Result<UniqueFd> create_user_namespace(std::span<const IdMap> uids, std::span<const IdMap> gids) {
    int ready_fds[2];
    int hold_fds[2];
    if (::pipe2(ready_fds, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe2 for the user namespace helper"));
    }
    UniqueFd ready_r(ready_fds[0]);
    UniqueFd ready_w(ready_fds[1]);
    if (::pipe2(hold_fds, O_CLOEXEC) != 0) {
        return Err(Error::from_errno("pipe2 for the user namespace helper"));
    }
    UniqueFd hold_r(hold_fds[0]);
    UniqueFd hold_w(hold_fds[1]);
    // The namespace lives as long as a process or an fd holds it: the helper unshares, waits
    // for its maps and the open of its ns file, and ends when hold_w closes.
    RUNVM_ASSIGN_OR_RETURN(
        ChildProcess helper, ChildProcess::fork_child("user namespace helper", [&]() -> int {
            hold_w.reset();
            const int err = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
            if (::write(ready_w.get(), &err, sizeof err) != sizeof err || err != 0) {
                return 1;
            }
            char byte;
            while (::read(hold_r.get(), &byte, 1) < 0 && errno == EINTR) {
            }
            return 0;
        }));
    ready_w.reset();
    hold_r.reset();
    int child_errno = 0;
    RUNVM_ASSIGN_OR_RETURN(const bool got, read_exact(ready_r.get(), &child_errno,
                                                      sizeof child_errno, "user namespace helper"));
    if (!got) {
        return Err(Error::with_errno(EPIPE, "user namespace helper ended before unshare"));
    }
    if (child_errno != 0) {
        return Err(Error::with_errno(child_errno, "unshare CLONE_NEWUSER"));
    }
    RUNVM_TRY(write_map(helper.pid(), "uid_map", uids));
    RUNVM_TRY(write_map(helper.pid(), "gid_map", gids));
    const std::string ns_path = "/proc/" + std::to_string(helper.pid()) + "/ns/user";
    UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
        return Err(Error::from_errno("open " + ns_path));
    }
    hold_w.reset();
    RUNVM_ASSIGN_OR_RETURN(const int status, helper.wait());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Err(Error::msg("user namespace helper ended with status " + std::to_string(status)));
    }
    return ns;
}

} // namespace runvm::jail
