// cgihttp/worker_pool.hpp - the threads that run a server's io_context: one per core, plus
// a stand-in for each thread that waits inside a handler.
// Python counterpart: ThreadingHTTPServer's thread per request, which this replaces.
#pragma once

#include "blocking.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace cgihttp {

/// Runs an io_context on `threads` threads. Handlers run on these threads synchronously;
/// when one waits (its socket would block, a CGI child is slow), blocking_begin() makes sure
/// `threads` others remain free to run the event loop, starting a thread if needed (never
/// more than `max_threads` in all). Spare threads leave once the waits are over. So idle
/// connections cost no thread, a fast request costs no thread hand-off, and a slow one
/// never stalls the others.
class worker_pool final : public blocking_observer {
public:
    worker_pool(asio::io_context& io, std::size_t threads, std::size_t max_threads)
        : io_(io), target_(threads == 0 ? 1 : threads),
          max_(max_threads < target_ ? target_ : max_threads) {}

    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Runs the io_context on the calling thread and the pool's threads; returns once the
    /// io_context is stopped and every other thread has left.
    void run() {
        auto guard = asio::make_work_guard(io_);
        threads_ = 1;
        for (std::size_t i = 1; i < target_; ++i)
            spawn();
        current_blocking_observer() = this;
        io_.run();
        current_blocking_observer() = nullptr;
        std::unique_lock<std::mutex> lock(mutex_);
        --threads_;
        exited_.wait(lock, [&] { return threads_ == 0; });
    }

    /// Threads currently alive, for tests and statistics.
    std::size_t thread_count() const noexcept { return threads_.load(); }

    void blocking_begin() noexcept override {
        const std::size_t blocked = ++blocked_;
        if (threads_.load() - blocked < target_ && !io_.stopped()) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (threads_.load() - blocked_.load() < target_ && threads_.load() < max_) spawn();
        }
    }

    void blocking_end() noexcept override { --blocked_; }

private:
    /// Starts one thread; called with mutex_ held or before other threads exist.
    void spawn() noexcept {
        ++threads_;
        try {
            std::thread([this] { worker(); }).detach();
        } catch (const std::system_error&) {
            --threads_; // out of threads: the pool carries on with what it has
        }
    }

    void worker() {
        current_blocking_observer() = this;
        bool retired = false;
        while (!io_.stopped() && !retired) {
            io_.run_one();
            retired = retire();
        }
        current_blocking_observer() = nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        if (!retired) --threads_;
        exited_.notify_all();
    }

    /// True when this thread is a spare that is no longer needed; it is then uncounted.
    bool retire() noexcept {
        std::size_t threads = threads_.load();
        while (threads - blocked_.load() > target_)
            if (threads_.compare_exchange_weak(threads, threads - 1)) return true;
        return false;
    }

    asio::io_context& io_;
    const std::size_t target_;
    const std::size_t max_;
    std::atomic<std::size_t> threads_{0};
    std::atomic<std::size_t> blocked_{0};
    std::mutex mutex_;
    std::condition_variable exited_;
};

} // namespace cgihttp
