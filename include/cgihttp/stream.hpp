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

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <type_traits>

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

namespace cgihttp {

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

    /// The socket's descriptor, to watch it with poll() (a CGI script's client); -1 for
    /// streams that have none.
    virtual int native_handle() const noexcept { return -1; }
};

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
        return retry(POLLIN, ec, [&] { return ::recv(fd_, data, size, MSG_DONTWAIT); });
    }

    std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                           bool more = false) override {
        const int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0);
        return retry(POLLOUT, ec, [&] { return ::send(fd_, data, size, flags); });
    }

    std::size_t send_file(int file_fd, std::uint64_t& offset, std::size_t count,
                          std::error_code& ec) override {
        return retry(POLLOUT, ec, [&] {
            off_t off = static_cast<off_t>(offset);
            const detail::sigpipe_guard no_sigpipe; // a client reset must not kill the server
            const ssize_t n = ::sendfile(fd_, file_fd, &off, count);
            if (n > 0) offset = static_cast<std::uint64_t>(off);
            return n;
        });
    }

private:
    /// Runs a non-blocking call until it makes progress, waiting for readiness in between.
    template <class Call>
    std::size_t retry(short events, std::error_code& ec, Call call) {
        ec.clear();
        while (true) {
            const ssize_t n = call();
            if (n > 0) return static_cast<std::size_t>(n);
            if (n == 0) {
                if (events == POLLIN) ec = asio::error::eof;
                return 0;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ec.assign(errno, std::system_category());
                return 0;
            }
            if (!wait(events, ec)) return 0;
        }
    }

    /// Waits until the socket is ready for `events`; false with ec set on timeout or error.
    bool wait(short events, std::error_code& ec) {
        blocking_scope scope;
        const auto deadline = std::chrono::steady_clock::now() + timeout_;
        while (true) {
            int wait_ms = -1;
            if (timeout_.count() > 0) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                wait_ms = left.count() > 0 ? static_cast<int>(left.count()) : 0;
            }
            pollfd p{fd_, events, 0};
            const int r = ::poll(&p, 1, wait_ms);
            if (r > 0) return true; // errors and hang-ups show in the next call
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
