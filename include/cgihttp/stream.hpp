// cgihttp/stream.hpp - the byte streams handlers read requests from and write responses to.
// Python counterpart: the socket behind StreamRequestHandler's rfile and wfile.
//
// A handler works over any synchronous stream, the concept of Asio's SyncReadStream and
// SyncWriteStream:
//     std::size_t s.read_some(asio::mutable_buffer, std::error_code&);   // eof at the end
//     std::size_t s.write_some(asio::const_buffer, std::error_code&);
// TCP and UNIX sockets, asio::ssl::stream and testing::memory_stream all qualify. Handlers
// see it through stream_ref, so a handler is compiled once whatever the stream is.
#pragma once

#include "blocking.hpp"
#include "detail/sigpipe.hpp"

#include <asio/basic_stream_socket.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cgihttp {

/// What a non-blocking call waits for before it can make progress: a TLS stream may have to
/// write (a handshake message) before it can read, and the reverse.
enum class readiness { readable, writable };

/// A synchronous byte stream seen through one small interface.
class stream_ref {
public:
    virtual ~stream_ref() = default;

    /// Reads at least one byte unless an error occurs; asio::error::eof at the end.
    virtual std::size_t read_some(char* data, std::size_t size, std::error_code& ec) = 0;

    /// Writes at least one byte unless an error occurs. `more` tells that more data follows
    /// at once (a response head before a file), so a socket may hold back a partial packet.
    virtual std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                                   bool more = false) = 0;

    /// Sends up to `count` bytes of `file_fd` from `offset` without copying them through user
    /// space, advancing `offset`. Streams that cannot set std::errc::operation_not_supported.
    virtual std::size_t send_file(int file_fd, std::uint64_t& offset, std::size_t count,
                                  std::error_code& ec) {
        (void)file_fd, (void)offset, (void)count;
        ec = std::make_error_code(std::errc::operation_not_supported);
        return 0;
    }

    /// For an event loop: reads what has arrived without waiting. Returns the bytes read, or
    /// 0 with ec set: asio::error::would_block with `wait_for` telling which readiness of
    /// native_handle() to wait for before calling again, eof, or an error. Streams without a
    /// descriptor simply read.
    virtual std::size_t read_available(char* data, std::size_t size, std::error_code& ec,
                                       readiness& wait_for) {
        wait_for = readiness::readable;
        return read_some(data, size, ec);
    }

    /// For an event loop: writes what can be written without waiting, like read_available().
    /// After would_block, the next call must offer the same bytes again (TLS requires it).
    virtual std::size_t write_available(const char* data, std::size_t size, std::error_code& ec,
                                        readiness& wait_for) {
        wait_for = readiness::writable;
        return write_some(data, size, ec);
    }

    /// For an event loop: sends what the stream takes now of `count` bytes of `file_fd` from
    /// `offset`, advancing `offset`; results as write_available(). A file shorter than
    /// `count` sets std::errc::io_error. By default a piece is read and write_available()d:
    /// a retry after would_block reads the same piece again.
    virtual std::size_t send_file_available(int file_fd, std::uint64_t& offset, std::size_t count,
                                            std::error_code& ec, readiness& wait_for) {
        char piece[16 * 1024]; // one TLS record
        ssize_t got;
        do
            got = ::pread(file_fd, piece, std::min(count, sizeof piece), off_t(offset));
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            ec = got < 0 ? std::error_code(errno, std::system_category())
                         : std::make_error_code(std::errc::io_error);
            return 0;
        }
        const std::size_t sent = write_available(piece, std::size_t(got), ec, wait_for);
        offset += sent;
        return sent;
    }

    /// Received bytes the stream holds already decoded, which poll() on native_handle()
    /// cannot see (TLS plaintext of a record read in part).
    virtual bool has_buffered_input() const noexcept { return false; }

    /// What a CGI script may learn of the connection's security, as Apache's mod_ssl names
    /// it (SSL_PROTOCOL, SSL_CIPHER, SSL_TLS_SNI); empty for a plain stream.
    virtual std::vector<std::pair<std::string, std::string>> security_variables() const {
        return {};
    }

    /// False while a TLS handshake is still under way (its own deadline applies).
    virtual bool established() const noexcept { return true; }

    /// Ends the sending direction after the last response: TLS sends its close_notify
    /// first; a socket sends FIN. Does not wait.
    virtual void shutdown_send() noexcept {}

    /// The socket's descriptor, to watch it with poll() (a CGI script's client); -1 for
    /// streams that have none.
    virtual int native_handle() const noexcept { return -1; }
};

namespace detail {

/// Waits in poll() inside a blocking_scope until `fd` is ready for `events`, for at most
/// `timeout` (zero waits forever); false with ec set on timeout or error. Errors and
/// hang-ups count as ready: the next call reports them.
inline bool wait_ready(int fd, short events, std::chrono::milliseconds timeout,
                       std::error_code& ec) {
    blocking_scope scope;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        int wait_ms = -1;
        if (timeout.count() > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            wait_ms = left.count() > 0 ? static_cast<int>(left.count()) : 0;
        }
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, wait_ms);
        if (r > 0) return true;
        if (r == 0) {
            ec = std::make_error_code(std::errc::timed_out);
            return false;
        }
        if (errno != EINTR) {
            ec.assign(errno, std::system_category());
            return false;
        }
    }
}

/// Repeats a non-blocking `attempt(ec, wait_for)` that reports asio::error::would_block,
/// waiting in between for the readiness it asks for (see wait_ready()).
template <class Attempt>
std::size_t retry_when_ready(int fd, std::chrono::milliseconds timeout, std::error_code& ec,
                             Attempt attempt) {
    readiness wait_for = readiness::readable;
    while (true) {
        const std::size_t n = attempt(ec, wait_for);
        if (ec != asio::error::would_block) return n;
        const short events = wait_for == readiness::readable ? POLLIN : POLLOUT;
        if (!wait_ready(fd, events, timeout, ec)) return 0;
    }
}

} // namespace detail

/// A connected, non-blocking socket used synchronously: each call that would block waits in
/// poll() inside a blocking_scope, for at most `timeout` (zero waits forever).
class socket_stream final : public stream_ref {
public:
    /// `fd` must be in non-blocking mode (O_NONBLOCK) and stays owned by the caller.
    explicit socket_stream(int fd, std::chrono::milliseconds timeout = {}) noexcept
        : fd_(fd), timeout_(timeout) {}

    int native_handle() const noexcept override { return fd_; }
    void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

    std::size_t read_some(char* data, std::size_t size, std::error_code& ec) override {
        return detail::retry_when_ready(fd_, timeout_, ec, [&](auto& e, readiness& w) {
            return read_available(data, size, e, w);
        });
    }

    std::size_t read_available(char* data, std::size_t size, std::error_code& ec,
                               readiness& wait_for) override {
        wait_for = readiness::readable;
        return attempt(POLLIN, ec, [&] { return ::recv(fd_, data, size, MSG_DONTWAIT); });
    }

    void shutdown_send() noexcept override { ::shutdown(fd_, SHUT_WR); }

    std::size_t send_file_available(int file_fd, std::uint64_t& offset, std::size_t count,
                                    std::error_code& ec, readiness& wait_for) override {
        wait_for = readiness::writable;
        const std::size_t n =
            attempt(POLLOUT, ec, [&] { return sendfile_once(file_fd, offset, count); });
        if (n == 0 && !ec) ec = std::make_error_code(std::errc::io_error); // the file shrank
        return n;
    }

    std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                           bool more = false) override {
        const int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0);
        return retry_write(ec, [&] { return ::send(fd_, data, size, flags); });
    }

    std::size_t send_file(int file_fd, std::uint64_t& offset, std::size_t count,
                          std::error_code& ec) override {
        return retry_write(ec, [&] { return sendfile_once(file_fd, offset, count); });
    }

private:
    ssize_t sendfile_once(int file_fd, std::uint64_t& offset, std::size_t count) const {
        off_t off = static_cast<off_t>(offset);
        const detail::sigpipe_guard no_sigpipe; // a client reset must not kill the server
        const ssize_t n = ::sendfile(fd_, file_fd, &off, count);
        if (n > 0) offset = static_cast<std::uint64_t>(off);
        return n;
    }

    /// Runs a non-blocking write until it makes progress, waiting for writability in between.
    template <class Call>
    std::size_t retry_write(std::error_code& ec, Call call) {
        return detail::retry_when_ready(fd_, timeout_, ec, [&](std::error_code& e, readiness& w) {
            w = readiness::writable;
            return attempt(POLLOUT, e, call);
        });
    }

    /// Runs a non-blocking call once (again after EINTR): bytes moved, or 0 with eof (reads),
    /// would_block or the system error in ec.
    template <class Call>
    static std::size_t attempt(short events, std::error_code& ec, const Call& call) {
        ec.clear();
        while (true) {
            const ssize_t n = call();
            if (n > 0) return static_cast<std::size_t>(n);
            if (n == 0) {
                if (events == POLLIN) ec = asio::error::eof;
                return 0;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                ec = asio::error::would_block;
            else
                ec.assign(errno, std::system_category());
            return 0;
        }
    }

    int fd_;
    std::chrono::milliseconds timeout_;
};

/// Any stream of the synchronous stream concept, seen as a stream_ref.
template <class Stream>
class stream_adapter final : public stream_ref {
public:
    explicit stream_adapter(Stream& stream) noexcept : stream_(stream) {}

    std::size_t read_some(char* data, std::size_t size, std::error_code& ec) override {
        return stream_.read_some(asio::buffer(data, size), ec);
    }
    std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                           bool /*more*/ = false) override {
        return stream_.write_some(asio::buffer(data, size), ec);
    }

private:
    Stream& stream_;
};

namespace detail {
template <class T>
struct is_asio_socket : std::false_type {};
template <class Protocol, class Executor>
struct is_asio_socket<asio::basic_stream_socket<Protocol, Executor>> : std::true_type {};
} // namespace detail

/// The stream_ref for a user's stream: Asio sockets get socket_stream (poll-based timeouts,
/// sendfile), every other stream the generic adapter.
template <class Stream>
auto make_stream_ref(Stream& stream, std::chrono::milliseconds timeout = {}) {
    if constexpr (detail::is_asio_socket<Stream>::value) {
        stream.native_non_blocking(true);
        return socket_stream(stream.native_handle(), timeout);
    } else {
        (void)timeout;
        return stream_adapter<Stream>(stream);
    }
}

} // namespace cgihttp
