// cgihttp/detail/connection_registry.hpp - the server's list of open connections, walked
// by its timer to enforce timeouts and by shutdown() to close idle connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include <sys/socket.h>

namespace cgihttp::detail {

/// Milliseconds of the steady clock: deadlines stored in atomics.
inline std::int64_t steady_now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// What the registry needs of a connection: its phase and, while it waits for input, the
/// deadline of that wait. Both live in one atomic word, so the timer thread expires a wait
/// only if it is still the same wait (same phase, same deadline) when it acts.
class registered_connection {
public:
    enum phase : std::uint64_t { reading, busy, lingering, sending, expired };

    registered_connection() = default;
    registered_connection(const registered_connection&) = delete;
    registered_connection& operator=(const registered_connection&) = delete;

    /// If this connection's wait is past its deadline, ends it by shutting the socket down:
    /// the pending operation completes and its owner finds `expired`. With `stopping` (server
    /// shutdown), waits for input end at once, deadline or not; a response being sent keeps
    /// its deadline, so it can finish within the shutdown's grace period.
    void expire_if_due(std::int64_t now, bool stopping = false) noexcept {
        std::uint64_t word = state_.load();
        const auto p = word & phase_mask;
        const bool idle = p == reading || p == lingering;
        if (!idle && p != sending) return;
        if (!(stopping && idle) && static_cast<std::int64_t>(word >> phase_bits) > now) return;
        // A reader is woken by SHUT_RD (and may still answer 408); a stalled send needs
        // SHUT_RDWR to fail.
        if (state_.compare_exchange_strong(word, (word & ~phase_mask) | expired))
            ::shutdown(fd_, p == sending ? SHUT_RDWR : SHUT_RD);
    }

    /// Cuts the connection whatever it is doing (end of a shutdown's grace period).
    void cut() noexcept { ::shutdown(fd_, SHUT_RDWR); }

protected:
    /// Starts a wait for input that expires at `deadline_ms` (steady clock).
    void begin_wait(phase p, std::int64_t deadline_ms) noexcept {
        state_.store((static_cast<std::uint64_t>(deadline_ms) << phase_bits) | p);
    }

    /// Ends a wait: true if this side won, false if the timer expired it first.
    bool end_wait() noexcept {
        std::uint64_t word = state_.load();
        while ((word & phase_mask) != expired)
            if (state_.compare_exchange_weak(word, busy)) return true;
        state_.store(busy);
        return false;
    }

    int fd_ = -1;

private:
    friend class connection_registry;
    static constexpr std::uint64_t phase_bits = 3;
    static constexpr std::uint64_t phase_mask = (1u << phase_bits) - 1;
    std::atomic<std::uint64_t> state_{busy};
    registered_connection* prev_ = nullptr;
    registered_connection* next_ = nullptr;
};

/// An intrusive list of connections under one mutex: adding and removing happen once per
/// connection, walking once per timer tick.
class connection_registry {
public:
    void add(registered_connection* c) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        c->next_ = head_;
        if (head_) head_->prev_ = c;
        head_ = c;
        ++size_;
    }

    void remove(registered_connection* c) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        (c->prev_ ? c->prev_->next_ : head_) = c->next_;
        if (c->next_) c->next_->prev_ = c->prev_;
        c->prev_ = c->next_ = nullptr;
        --size_;
    }

    /// Calls f(connection&) for each connection, under the lock (so none is destroyed
    /// meanwhile); f must not add or remove connections.
    template <class F>
    void for_each(F&& f) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (registered_connection* c = head_; c; c = c->next_)
            f(*c);
    }

    std::size_t size() const noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return size_;
    }

private:
    mutable std::mutex mutex_;
    registered_connection* head_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace cgihttp::detail
