// cgihttp/detail/sigpipe.hpp - writing to a closed socket or pipe without SIGPIPE.
#pragma once

#include <cerrno>
#include <csignal>
#include <ctime>

#include <pthread.h>

namespace cgihttp::detail {

/// Blocks SIGPIPE on the calling thread while alive, and discards a SIGPIPE raised meanwhile:
/// sendfile(2) and write(2) to a pipe have no MSG_NOSIGNAL, and a library must not change
/// the process's signal dispositions. The failed call still reports EPIPE.
class sigpipe_guard {
public:
    sigpipe_guard() noexcept {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~sigpipe_guard() {
        const int saved_errno = errno; // the guarded call's error must survive the cleanup
        if (!was_pending_) {
            const timespec no_wait{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &no_wait) == SIGPIPE) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
        errno = saved_errno;
    }
    sigpipe_guard(const sigpipe_guard&) = delete;
    sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
    sigset_t pipe_{};
    sigset_t old_{};
    bool was_pending_ = false;
};

} // namespace cgihttp::detail
