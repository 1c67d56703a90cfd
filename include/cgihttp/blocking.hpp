// cgihttp/blocking.hpp - telling the server loop that the current thread is about to block,
// so that it can keep serving other connections meanwhile.
// Python counterpart: none; ThreadingHTTPServer spends one thread per connection instead.
#pragma once

namespace cgihttp {

/// Implemented by a server loop that runs handlers on a small pool of threads: it is told
/// when a handler on one of its threads waits (for a slow client, a CGI child, ...).
class blocking_observer {
public:
    /// Called on the blocking thread just before it waits.
    virtual void blocking_begin() noexcept = 0;
    /// Called on the same thread when the wait is over.
    virtual void blocking_end() noexcept = 0;

protected:
    ~blocking_observer() = default;
};

/// The observer of the calling thread, or nullptr when no server loop runs on it.
inline blocking_observer*& current_blocking_observer() noexcept {
    thread_local blocking_observer* observer = nullptr;
    return observer;
}

/// Marks a region in which the calling thread may wait. Library code wraps every wait in one
/// (socket I/O that would block, CGI children); handlers should wrap their own slow calls
/// (a database query, a sleep) so the server keeps other connections moving.
class blocking_scope {
public:
    blocking_scope() noexcept : observer_(current_blocking_observer()) {
        if (observer_) observer_->blocking_begin();
    }
    ~blocking_scope() {
        if (observer_) observer_->blocking_end();
    }
    blocking_scope(const blocking_scope&) = delete;
    blocking_scope& operator=(const blocking_scope&) = delete;

private:
    blocking_observer* observer_;
};

} // namespace cgihttp
