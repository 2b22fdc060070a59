// Module manifest parsing and finit_module(2).
#include "guest_agent/pid1/modules.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/text.hpp"
#include "base/unique_fd.hpp"

namespace runvm::agent {

Result<std::vector<ModuleEntry>> parse_module_manifest(const std::string& text) {
    std::vector<ModuleEntry> out;
    int number = 0;
    for (auto line : split(text, '\n')) {
        ++number;
        if (const auto hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        const auto fields = words(line);
        if (fields.empty()) {
            continue;
        }
        ModuleEntry e;
        e.path = std::string(fields[0]);
        if (e.path[0] != '/' || e.path.size() < 4 || !e.path.ends_with(".ko")) {
            return Err(Error::with_errno(EINVAL, "module manifest line " + std::to_string(number) +
                                                     ": \"" + e.path +
                                                     "\" is not an absolute .ko path"));
        }
        for (size_t i = 1; i < fields.size(); ++i) {
            e.params += (e.params.empty() ? "" : " ") + std::string(fields[i]);
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
