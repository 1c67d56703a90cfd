// cgihttp/detail/sigpipe.hpp - writing to a closed socket or pipe without SIGPIPE.
#pragma once

#include <cerrno>
#include <csignal>
#include <ctime>

#include <pthread.h>

namespace cgihttp::detail {

/// Whether SIGPIPE is kept blocked on the calling thread (see sigpipe_block).
inline bool& sigpipe_blocked_here() noexcept {
    thread_local bool blocked = false;
    return blocked;
}

/// Discards SIGPIPE signals pending on the calling thread.
inline void discard_pending_sigpipe() noexcept {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    const timespec no_wait{0, 0};
    while (sigtimedwait(&pipe, nullptr, &no_wait) == SIGPIPE) {
    }
}

/// Keeps SIGPIPE blocked on the calling thread while alive, for a thread that writes a lot
/// (a server's event loop): threads it starts inherit the mask. SIGPIPE raised meanwhile is
/// discarded at the end; the failed calls report EPIPE.
class sigpipe_block {
public:
    sigpipe_block() noexcept : was_blocked_(sigpipe_blocked_here()) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe, &old_);
        sigpipe_blocked_here() = true;
    }
    ~sigpipe_block() {
        if (!sigismember(&old_, SIGPIPE)) discard_pending_sigpipe();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
        sigpipe_blocked_here() = was_blocked_;
    }
    sigpipe_block(const sigpipe_block&) = delete;
    sigpipe_block& operator=(const sigpipe_block&) = delete;

private:
    sigset_t old_{};
    bool was_blocked_;
};

/// Records that the calling thread was started with SIGPIPE blocked (inherited mask).
inline void sigpipe_block_inherited() noexcept {
    sigpipe_blocked_here() = true;
}

/// Blocks SIGPIPE around one call on a thread that does not keep it blocked, and discards
/// a SIGPIPE raised meanwhile: sendfile(2) and write(2) to a pipe have no MSG_NOSIGNAL, and a
/// library must not change the process's signal dispositions. The call still reports EPIPE.
/// Free on threads that keep SIGPIPE blocked (the server's).
class sigpipe_guard {
public:
    sigpipe_guard() noexcept : active_(!sigpipe_blocked_here()) {
        if (!active_) return;
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~sigpipe_guard() {
        if (!active_) return;
        const int saved_errno = errno; // the guarded call's error must survive the cleanup
        if (!was_pending_) discard_pending_sigpipe();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
        errno = saved_errno;
    }
    sigpipe_guard(const sigpipe_guard&) = delete;
    sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
    bool active_;
    sigset_t pipe_{};
    sigset_t old_{};
    bool was_pending_ = false;
};

} // namespace cgihttp::detail
