// A growing thread pool for ttRPC handlers.
#include "rpc/worker_pool.hpp"

#include <algorithm>
#include <string>

namespace runvm::rpc {

WorkerPool::WorkerPool(size_t min_threads, size_t max_threads, size_t max_queued)
    : max_threads_(std::max<size_t>(max_threads, std::max<size_t>(min_threads, 1))),
      max_queued_(max_queued) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < std::max<size_t>(min_threads, 1); ++i) {
        start_thread();
    }
}

WorkerPool::~WorkerPool() {
    stop();
}

bool WorkerPool::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mu_);
        if (stopping_ || queue_.size() >= max_queued_) {
            return false;
        }
        queue_.push_back(std::move(job));
        // Jobs already queued are waiting for the idle threads too.
        if (idle_ < queue_.size() && threads_.size() < max_threads_) {
            start_thread();
        }
    }
    cv_.notify_one();
    return true;
}

void WorkerPool::start_thread() {
    threads_.emplace_back(
        "ttrpc worker " + std::to_string(threads_.size()), [this] { run(); },
        ThreadOptions{.wake = {}, .stop_timeout = kJobStopTimeout});
}

void WorkerPool::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        ++idle_;
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (stopping_) {
            return;
        }
        std::function<void()> job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        job();
        job = nullptr; // release captures before taking the lock again
        lock.lock();
    }
}

void WorkerPool::stop() {
    std::vector<OwnedThread> threads;
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        threads.swap(threads_);
        dropped.swap(queue_);
    }
    cv_.notify_all();
    for (auto& t : threads) {
        t.stop_and_join();
    }
    // Dropped jobs are destroyed here, outside the lock: their captures may be connections.
}

size_t WorkerPool::thread_count() const {
    std::lock_guard lock(mu_);
    return threads_.size();
}

} // namespace runvm::rpc
