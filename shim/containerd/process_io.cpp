// Stdio plumbing between containerd's FIFOs and a task process.
#include "shim/containerd/process_io.hpp"

#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/io.hpp"

namespace runvm::containerd {

namespace {

Result<std::string> local_path(const std::string& path) {
    if (path.rfind("binary://", 0) == 0) {
        return Err(Error::with_errno(ENOTSUP, "stdio " + path +
                                                  ": binary:// loggers are not "
                                                  "supported by runvm yet"));
    }
    if (path.rfind("file://", 0) == 0) {
        return path.substr(7);
    }
    if (path.rfind("fifo://", 0) == 0) {
        return path.substr(7);
    }
    return path;
}

Result<UniqueFd> open_dev_null(int flags) {
    UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open /dev/null"));
    }
    return fd;
}

// Copies until EOF/EIO on `from`, an error on `to`, or either stop fd becomes readable.
// The stop eventfd ends a copy between reads; a write blocked on a reader that stopped
// reading (a FIFO containerd no longer drains) is waited for this long.
constexpr std::chrono::milliseconds kCopyStopTimeout{60'000};

void copy_loop(int from, int to, int stop, int stop2, const char* what) {
    char buf[32 * 1024];
    for (;;) {
        pollfd fds[3] = {{from, POLLIN, 0}, {stop, POLLIN, 0}, {stop2, POLLIN, 0}};
        if (::poll(fds, stop2 >= 0 ? 3 : 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents || (stop2 >= 0 && fds[2].revents)) {
            return;
        }
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            spdlog::debug("{}: end ({})", what, n == 0 ? "EOF" : std::strerror(errno));
            return;
        }
        if (auto w = write_all(to, buf, static_cast<size_t>(n), what); !w) {
            spdlog::debug("{}: {}", what, w.error().str());
            return;
        }
    }
}

} // namespace

Result<UniqueFd> open_output(const std::string& path) {
    if (path.empty()) {
        return open_dev_null(O_WRONLY);
    }
    RUNVM_ASSIGN_OR_RETURN(std::string p, local_path(path));
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
        UniqueFd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
        if (!fd) {
            return Err(Error::from_errno("open fifo " + p));
        }
        return fd;
    }
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd) {
        return Err(Error::from_errno("open " + p));
    }
    return fd;
}

Result<std::unique_ptr<ProcessIo>> ProcessIo::open(const IoPaths& paths) {
    std::unique_ptr<ProcessIo> io(new ProcessIo());
    io->paths_ = paths;
    RUNVM_ASSIGN_OR_RETURN(io->stop_, EventFd::create());
    RUNVM_ASSIGN_OR_RETURN(io->close_stdin_, EventFd::create());
    if (!paths.stdin_path.empty()) {
        RUNVM_ASSIGN_OR_RETURN(std::string p, local_path(paths.stdin_path));
        // Non-blocking open of the read side succeeds before containerd opens its writer;
        // poll reports nothing until a writer came and went (Linux fifo_poll), so the copy
        // does not see a false EOF.
        io->fifo_in_ = UniqueFd(::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (!io->fifo_in_) {
            return Err(Error::from_errno("open stdin " + p));
        }
    }
    if (paths.terminal) {
        RUNVM_ASSIGN_OR_RETURN(io->proc_in_, open_dev_null(O_RDONLY));
        RUNVM_ASSIGN_OR_RETURN(io->proc_out_, open_dev_null(O_WRONLY));
        RUNVM_ASSIGN_OR_RETURN(io->proc_err_, open_dev_null(O_WRONLY));
        RUNVM_ASSIGN_OR_RETURN(io->fifo_out_, open_output(paths.stdout_path));
        return io;
    }
    if (io->fifo_in_) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) {
            return Err(Error::from_errno("pipe for stdin"));
        }
        io->proc_in_ = UniqueFd(p[0]);
        io->start_stdin_copy(UniqueFd(p[1]));
    } else {
        RUNVM_ASSIGN_OR_RETURN(io->proc_in_, open_dev_null(O_RDONLY));
    }
    RUNVM_ASSIGN_OR_RETURN(io->proc_out_, open_output(paths.stdout_path));
    RUNVM_ASSIGN_OR_RETURN(io->proc_err_, open_output(paths.stderr_path));
    return io;
}

ProcessIo::~ProcessIo() {
    if (stop_.valid()) {
        (void)stop_.signal();
    }
    for (auto& t : threads_) {
        t.stop_and_join();
    }
}

void ProcessIo::release_process_side() {
    proc_in_.reset();
    proc_out_.reset();
    proc_err_.reset();
}

void ProcessIo::start_stdin_copy(UniqueFd sink) {
    // The thread owns the sink: when the FIFO ends (containerd closed it) or CloseIO asks,
    // closing the pipe's write end gives the process EOF.
    threads_.emplace_back(
        "stdin copy",
        [this, owned = std::make_shared<UniqueFd>(std::move(sink))] {
            copy_loop(fifo_in_.get(), owned->get(), stop_.get(),
                      paths_.terminal ? -1 : close_stdin_.get(), "stdin copy");
        },
        ThreadOptions{.wake = {}, .stop_timeout = kCopyStopTimeout});
}

void ProcessIo::start_output_copy() {
    {
        std::lock_guard lock(mu_);
        output_done_ = false;
    }
    threads_.emplace_back(
        "console copy",
        [this] {
            copy_loop(master_.get(), fifo_out_.get(), stop_.get(), -1, "console copy");
            std::lock_guard lock(mu_);
            output_done_ = true;
            output_cv_.notify_all();
        },
        ThreadOptions{.wake = {}, .stop_timeout = kCopyStopTimeout});
}

Result<void> ProcessIo::attach_console(UniqueFd master) {
    master_ = std::move(master);
    if (fifo_in_) {
        UniqueFd in_copy(::fcntl(master_.get(), F_DUPFD_CLOEXEC, 0));
        if (!in_copy) {
            return Err(Error::from_errno("dup console master"));
        }
        start_stdin_copy(std::move(in_copy));
    }
    start_output_copy();
    return Ok();
}

Result<void> ProcessIo::resize(uint32_t width, uint32_t height) {
    if (!master_) {
        return Err(Error::with_errno(ENOTTY, "resize: the process has no terminal"));
    }
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(width);
    ws.ws_row = static_cast<unsigned short>(height);
    if (::ioctl(master_.get(), TIOCSWINSZ, &ws) != 0) {
        return Err(Error::from_errno("ioctl TIOCSWINSZ on the console"));
    }
    return Ok();
}

void ProcessIo::close_stdin() {
    if (!paths_.terminal) {
        (void)close_stdin_.signal();
        return;
    }
    // A terminal has no EOF of its own: send the line discipline's EOF character.
    if (master_) {
        const char eot = 4;
        (void)::write(master_.get(), &eot, 1);
    }
}

void ProcessIo::wait_output(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    output_cv_.wait_for(lock, timeout, [&] { return output_done_; });
}

} // namespace runvm::containerd
