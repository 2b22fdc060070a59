// PATH search: regular file with an execute bit, like Go's findExecutable.
#include "guest_agent/launcher/exec_lookup.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <sys/stat.h>

namespace runvm::agent {

namespace {
int check_executable(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) {
        return errno;
    }
    if (!S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0) {
        return 0;
    }
    return EACCES;
}
} // namespace

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env) {
        if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
            return e.substr(key.size() + 1);
        }
    }
    return "";
}

Result<std::string> look_path(const std::string& name, const std::string& path_env) {
    // Built with append: GCC 12's -Wrestrict misfires on `"literal" + std::string` at -O2.
    std::string quoted = "exec: \"";
    quoted.append(name).append("\": ");
    if (name.find('/') != std::string::npos) {
        if (const int err = check_executable(name); err != 0) {
            // Go's lower-case wording, as runc prints it.
            std::string reason = std::strerror(err);
            reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
            quoted.append("stat ").append(name).append(": ").append(reason);
            return Err(Error::with_errno(err, quoted));
        }
        return name;
    }
    size_t pos = 0;
    while (pos <= path_env.size()) {
        size_t end = path_env.find(':', pos);
        if (end == std::string::npos) {
            end = path_env.size();
        }
        // An empty PATH entry means the current directory.
        std::string candidate = end > pos ? path_env.substr(pos, end - pos) : std::string(1, '.');
        candidate.push_back('/');
        candidate.append(name);
        if (check_executable(candidate) == 0) {
            return candidate;
        }
        pos = end + 1;
    }
    return Err(Error::with_errno(ENOENT, quoted.append("executable file not found in $PATH")));
}

} // namespace runvm::agent
