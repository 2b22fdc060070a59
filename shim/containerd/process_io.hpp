// ProcessIo: a task process's stdio as containerd names it (FIFO paths, file:// URIs, or
// nothing) turned into fds for the process, plus the copies the shim itself runs: stdin
// through a pipe (so CloseIO can end it) and, with a terminal, between the pty master and
// containerd's FIFOs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/event_fd.hpp"
#include "base/owned_thread.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::containerd {

struct IoPaths {
    std::string stdin_path;
    std::string stdout_path;
    std::string stderr_path;
    bool terminal = false;
};

class ProcessIo {
public:
    // Opens containerd's ends. binary:// loggers are refused (not supported yet).
    static Result<std::unique_ptr<ProcessIo>> open(const IoPaths& paths);
    ~ProcessIo(); // stops the copies
    ProcessIo(const ProcessIo&) = delete;
    ProcessIo& operator=(const ProcessIo&) = delete;

    // The process's stdio (valid until release_process_side()): without a terminal, stdin
    // is the read end of the shim's pipe and stdout/stderr containerd's FIFOs or files;
    // with one, /dev/null (the pty carries the streams).
    int process_stdin() const { return proc_in_.get(); }
    int process_stdout() const { return proc_out_.get(); }
    int process_stderr() const { return proc_err_.get(); }
    // Drops the shim's copies once the process holds them, so containerd sees EOF when
    // the process ends.
    void release_process_side();

    // Terminal: copies stdin -> master and master -> stdout from now on.
    Result<void> attach_console(UniqueFd master);
    Result<void> resize(uint32_t width, uint32_t height);
    // CloseIO: the process sees EOF on stdin.
    void close_stdin();
    // Waits (bounded) until the terminal's output reached containerd (the master reports
    // EIO once the last slave holder exits).
    void wait_output(std::chrono::milliseconds timeout);

    const IoPaths& paths() const { return paths_; }

private:
    ProcessIo() = default;
    void start_stdin_copy(UniqueFd sink);
    void start_output_copy();

    IoPaths paths_;
    UniqueFd fifo_in_;  // containerd's stdin FIFO (read side)
    UniqueFd fifo_out_; // terminal: containerd's stdout FIFO
    UniqueFd proc_in_, proc_out_, proc_err_;
    UniqueFd master_;
    EventFd stop_;
    EventFd close_stdin_; // CloseIO without a terminal: the stdin copy closes its pipe
    std::mutex mu_;
    bool output_done_ = true;
    std::condition_variable output_cv_;
    std::vector<OwnedThread> threads_;
};

// Opens a FIFO or file:// path for the process to write: O_RDWR on a FIFO (never blocks, no
// ENXIO while containerd has yet to open its end), append on a file, /dev/null when empty.
Result<UniqueFd> open_output(const std::string& path);

} // namespace runvm::containerd
