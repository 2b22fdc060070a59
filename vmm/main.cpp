// runvm-vmm: one VM per process, configured by a JSON document and/or flags
// (cli/command_line.hpp).
#include <csignal>

#include <spdlog/spdlog.h>

#include "base/log.hpp"
#include "vmm/cli/command_line.hpp"
#include "vmm/machine/exit_status.hpp"
#include "vmm/machine/machine.hpp"

using namespace runvm;
using namespace runvm::vmm;

int main(int argc, char** argv) {
    const auto start = Machine::Clock::now();
    auto parsed = parse_command_line(argc, argv);
    if (const int* status = std::get_if<int>(&parsed)) {
        return *status;
    }
    const MachineConfig& config = std::get<MachineConfig>(parsed);
    LogOptions log;
    log.level = config.log_level;
    log.name = "runvm-vmm";
    if (auto r = init_logging(log); !r.ok()) {
        std::fprintf(stderr, "runvm-vmm: %s\n", r.error().str().c_str());
        return kExitUsage;
    }
    // Blocked here so every thread inherits the mask; the main loop reads them by signalfd.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto machine = Machine::create(config, start);
    if (!machine.ok()) {
        spdlog::error("{}", machine.error().str());
        return kExitVmmError;
    }
    auto status = (*machine)->run();
    if (!status.ok()) {
        spdlog::error("{}", status.error().str());
        return kExitVmmError;
    }
    return *status;
}
