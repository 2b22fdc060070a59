// WorkerPool: threads that run queued jobs; it grows up to a maximum while every thread is
// busy, so a slow handler never holds up the others, and threads are reused, never
// created per job once the pool is warm.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "base/owned_thread.hpp"

namespace runvm::rpc {

class WorkerPool {
public:
    // A running job is a handler that may wait on a container: how long stop() waits for it
    // before it gives up on the thread (OwnedThread aborts).
    static constexpr std::chrono::milliseconds kJobStopTimeout{60'000};

    WorkerPool(size_t min_threads, size_t max_threads, size_t max_queued);
    ~WorkerPool(); // stop()
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // False when the queue is full or the pool has stopped.
    bool submit(std::function<void()> job);

    // Drops queued jobs, waits for running ones (each within kJobStopTimeout) and joins every
    // thread. Idempotent.
    void stop();

    size_t thread_count() const;

private:
    // mu_ held.
    void start_thread();
    void run();

    const size_t max_threads_;
    const size_t max_queued_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::vector<OwnedThread> threads_;
    size_t idle_ = 0;
    bool stopping_ = false;
};

} // namespace runvm::rpc
