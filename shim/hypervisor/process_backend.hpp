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
    std::vector<std::string> argv_;
    std::string log_path_; // the program's stdout and stderr
    std::vector<std::string> work_files_;
    bool stdin_null_ = true;

private:
    ChildProcess child_;
};

} // namespace runvm::shim
