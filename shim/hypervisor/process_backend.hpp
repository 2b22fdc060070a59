// ProcessBackend: the start/wait/stop half shared by backends that run one host program.
#pragma once

#include <string>
#include <vector>

#include "base/child_process.hpp"
#include "base/unique_fd.hpp"
#include "jail/credentials.hpp"
#include "shim/hypervisor/backend.hpp"

namespace runvm::shim {

class ProcessBackend : public HypervisorBackend {
public:
    const std::vector<std::string>& command() const override { return argv_; }
    const std::string& log_path() const override { return log_path_; }
    const std::vector<std::string>& work_files() const override { return work_files_; }
    Result<void> start() override;
    Result<std::optional<int>> wait(std::chrono::milliseconds timeout) override;
    void stop(std::chrono::milliseconds grace) override;
    pid_t pid() const override { return child_.pid(); }

protected:
    // log_path_ = `log`, and where the program's output is opened: config.log_writer's pipe.
    Result<void> set_log(const VmConfig& config, std::string log);

    // Jailed (config.settings.jail): the jail user's ids, looked up here so a missing user
    // fails prepare() with the jailer's message; `groups` are the --group-add ones.
    Result<void> resolve_jail_user(const VmConfig& config, const std::vector<std::string>& groups);
    // Hands `fd` to the jailed program: owned by the jail user from now on, inherited across
    // the exec at the same number, reached there as /proc/self/fd/N (the path returned). A
    // path of ours (/proc/<shim>/fd/N) is out of a jailed program's reach: another uid's /proc.
    Result<std::string> hand_over(UniqueFd fd, const std::string& what);
    // The same for a file or pipe this process opens by `path`.
    Result<std::string> hand_over(const std::string& path, int flags, const std::string& what);
    // An fd the program inherits at the same number and reads as it is (not reopened, owner
    // unchanged: a file it must not own); a dup of `fd`. Returns the number.
    Result<int> inherit(int fd, const std::string& what);
    // Their numbers (hand_over's and inherit's): the jailer's --keep-fd list.
    std::vector<int> handed_fds() const;

    std::vector<std::string> argv_;
    std::string log_path_;    // the program's stdout and stderr
    std::string output_path_; // what start() opens for them: log_path_ or a pipe that fills it
    std::vector<std::string> work_files_;
    bool stdin_null_ = true;
    jail::Credentials jail_user_;

private:
    std::vector<UniqueFd> handed_; // closed here once the program holds them
    ChildProcess child_;
};

} // namespace runvm::shim
