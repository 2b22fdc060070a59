// Module manifest parsing and finit_module(2).
#include "guest_agent/pid1/modules.hpp"

#include <cerrno>
#include <sstream>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.hpp"

namespace runvm::agent {

Result<std::vector<ModuleEntry>> parse_module_manifest(const std::string& text) {
    std::vector<ModuleEntry> out;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (const auto hash = line.find('#'); hash != std::string::npos) {
            line.resize(hash);
        }
        std::istringstream words(line);
        ModuleEntry e;
        if (!(words >> e.path)) {
            continue;
        }
        if (e.path[0] != '/' || e.path.size() < 4 ||
            e.path.compare(e.path.size() - 3, 3, ".ko") != 0) {
            return Err(Error::with_errno(EINVAL, "module manifest line " + std::to_string(number) +
                                                     ": \"" + e.path +
                                                     "\" is not an absolute .ko path"));
        }
        std::string p;
        while (words >> p) {
            e.params += (e.params.empty() ? "" : " ") + p;
        }
        out.push_back(std::move(e));
    }
    return out;
}

Result<void> load_modules(const std::vector<ModuleEntry>& modules) {
    for (const auto& m : modules) {
        UniqueFd fd(::open(m.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            return Err(Error::from_errno("open module " + m.path));
        }
        if (::syscall(SYS_finit_module, fd.get(), m.params.c_str(), 0) < 0 && errno != EEXIST) {
            return Err(Error::from_errno("finit_module " + m.path));
        }
    }
    return Ok();
}

} // namespace runvm::agent
