// ProcessBackend: the start/wait/stop half shared by backends that run one host program.
#pragma once

#include <string>
#include <vector>

#include "base/child_process.hpp"
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

    std::vector<std::string> argv_;
    std::string log_path_;    // the program's stdout and stderr
    std::string output_path_; // what start() opens for them: log_path_ or a pipe that fills it
    std::vector<std::string> work_files_;
    bool stdin_null_ = true;

private:
    ChildProcess child_;
};

} // namespace runvm::shim
