// cgihttp/worker_pool.hpp - the threads that run a server's io_context: one per core, plus
// a stand-in for each thread that waits inside a handler.
// Python counterpart: ThreadingHTTPServer's thread per request, which this replaces.
#pragma once

#include "blocking.hpp"
#include "detail/sigpipe.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <iterator>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace cgihttp {

/// Runs an io_context on `threads` threads. Handlers run on these threads synchronously;
/// when one waits (its socket would block, a CGI child is slow), blocking_begin() makes sure
/// `threads` others remain free to run the event loop, waking a parked thread or starting
/// one (never more than `max_threads` in all). A thread no longer needed parks, and leaves
/// after `park_timeout` unused: bursts of waits reuse threads instead of creating them. So
/// idle connections cost no thread, a fast request costs no thread hand-off, and a slow
/// one never stalls the others.
class worker_pool final : public blocking_observer {
public:
    worker_pool(asio::io_context& io, std::size_t threads, std::size_t max_threads,
                std::chrono::milliseconds park_timeout = std::chrono::seconds(10))
        : io_(io), target_(threads == 0 ? 1 : threads),
          max_(max_threads < target_ ? target_ : max_threads), park_timeout_(park_timeout) {}

    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Runs the io_context on the pool's threads until it is stopped; returns once every
    /// thread has left. The calling thread only waits: all loop threads are alike, so any
    /// of them can park and leave.
    void run() {
        auto guard = asio::make_work_guard(io_);
        const detail::sigpipe_block sigpipe; // inherited by the threads started from here
        std::unique_lock<std::mutex> lock(mutex_);
        for (std::size_t i = 0; i < target_; ++i)
            spawn();
        exited_.wait(lock, [&] { return threads_ == 0; });
        join_finished();
    }

    /// Threads currently alive (running, waiting in a handler, or parked).
    std::size_t thread_count() const noexcept { return threads_.load(); }

    void blocking_begin() noexcept override {
        ++blocked_;
        if (runners() >= target_ || io_.stopped()) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (runners() >= target_) return;
        if (parked_ > 0) {
            --parked_;
            ++wakeups_;
            wake_.notify_one();
        } else if (threads_ < max_) {
            spawn();
        }
    }

    void blocking_end() noexcept override { --blocked_; }

private:
    /// Threads free to run the event loop.
    std::size_t runners() const noexcept {
        return threads_.load() - blocked_.load() - parked_.load();
    }

    /// Starts one thread; called with mutex_ held.
    void spawn() noexcept {
        join_finished();
        std::list<std::thread>::iterator self;
        try {
            self = running_.emplace(running_.end());
        } catch (const std::exception&) {
            return; // out of memory: the pool carries on with what it has
        }
        ++threads_;
        try {
            *self = std::thread([this, self] { worker(self); });
        } catch (const std::exception&) {
            running_.erase(self);
            --threads_; // out of threads: likewise
        }
    }

    /// Joins the threads that have left; called with mutex_ held, which they no longer
    /// need. Threads are joined, never detached, so that run() returns only once each has
    /// really ended: one still tearing down its thread-local state (OpenSSL's) while the
    /// process exits would race with the library's exit handlers.
    void join_finished() noexcept {
        for (std::thread& t : finished_)
            t.join();
        finished_.clear();
    }

    void worker(std::list<std::thread>::iterator self) {
        detail::sigpipe_block_inherited();
        current_blocking_observer() = this;
        while (!io_.stopped()) {
            io_.run_one();
            if (runners() > target_ && !park()) break;
        }
        current_blocking_observer() = nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.push_back(std::move(*self));
        running_.erase(self);
        --threads_;
        exited_.notify_all();
        if (io_.stopped()) wake_.notify_all(); // parked threads see the stop and leave
    }

    /// Waits, not running the loop, until needed again; false when it should leave instead
    /// (unused for park_timeout, or the loop stopped).
    bool park() {
        std::unique_lock<std::mutex> lock(mutex_);
        if (runners() <= target_) return true; // needed after all
        ++parked_;
        const bool woken =
            wake_.wait_for(lock, park_timeout_, [&] { return wakeups_ > 0 || io_.stopped(); });
        if (woken && wakeups_ > 0) {
            --wakeups_; // the waker has already uncounted this thread from parked_
            return !io_.stopped();
        }
        --parked_;
        return false;
    }

    asio::io_context& io_;
    const std::size_t target_;
    const std::size_t max_;
    const std::chrono::milliseconds park_timeout_;
    std::atomic<std::size_t> threads_{0};
    std::atomic<std::size_t> blocked_{0};
    std::atomic<std::size_t> parked_{0};
    std::size_t wakeups_ = 0;           ///< parked threads told to resume, not yet resumed
    std::list<std::thread> running_;    ///< the live threads (guarded by mutex_)
    std::vector<std::thread> finished_; ///< threads that have left, to join (mutex_)
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable exited_;
};

} // namespace cgihttp
