// cgihttp/connection.hpp - one accepted connection of the default server loop: waits for a
// whole request head without holding a thread, runs the handler on it, closes gracefully.
// Python counterpart: socketserver's process_request()/finish_request()/shutdown_request().
#pragma once

#include "buffered_reader.hpp"
#include "connection_info.hpp"
#include "detail/class_attribute.hpp"
#include "detail/connection_registry.hpp"
#include "request_parser.hpp"
#include "server_options.hpp"
#include "stream.hpp"

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

#include <sys/socket.h>

namespace cgihttp {
namespace detail {

/// What a server shares with its connections.
struct server_state {
    server_options options;
    server_info info;
    connection_registry registry;
    std::atomic<bool> stopping{false};
};

} // namespace detail

/// A connection served by Handler (a BaseRequestHandler<Handler> descendant). Owned by the
/// asynchronous operation it waits on; its phases are registered so that the server's timer
/// can expire waits (idle keep-alive, slow request heads, lingering close).
template <class Handler>
class connection final : public detail::registered_connection,
                         public std::enable_shared_from_this<connection<Handler>> {
public:
    connection(detail::server_state& state, asio::ip::tcp::socket socket, Handler handler)
        : state_(state), socket_(std::move(socket)), handler_(std::move(handler)),
          scanner_(detail::class_attribute(handler_, &Handler::max_request_head)) {}

    ~connection() { unregister(); }

    /// Sets the socket up, registers the connection and waits for the first request.
    void start() {
        std::error_code ec;
        socket_.set_option(asio::ip::tcp::no_delay(true), ec);
        socket_.native_non_blocking(true, ec);
        fd_ = socket_.native_handle();
        stream_ = socket_stream(fd_, state_.options.io_timeout);
        handler_.attach(stream_, peer_address(socket_), &state_.info);
        state_.registry.add(this);
        registered_ = true;
        head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
        wait_for_head();
    }

private:
    buffered_reader& input() noexcept { return handler_.connection_input(); }

    /// Reads until the buffered bytes hold a whole request head, then serves it.
    void wait_for_head() {
        if (!input().buffered().empty() && scanner_.complete(input().buffered())) {
            serve();
            return;
        }
        const std::int64_t deadline =
            input().buffered().empty() && !first_request_
                ? detail::steady_now_ms() + state_.options.keepalive_timeout.count()
                : head_deadline_;
        begin_wait(reading, deadline);
        socket_.async_read_some(input().prepare(4096),
                                [self = this->shared_from_this()](
                                    std::error_code ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(std::error_code ec, std::size_t n) {
        const bool was_empty = input().buffered().empty();
        input().commit(n);
        if (!end_wait()) {
            on_expired();
            return;
        }
        if (ec) {
            // A client may send a request and half-close (printf ... | nc): serve what came.
            if (ec == asio::error::eof && !input().buffered().empty()) {
                input().mark_eof();
                serve();
            } else {
                close_now();
            }
            return;
        }
        if (was_empty && !first_request_)
            head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
        wait_for_head();
    }

    /// The timer (or shutdown) ended a wait: answer 408 to a partial request, then close.
    void on_expired() {
        if (!input().buffered().empty() && !state_.stopping.load()) {
            try {
                handler_.requestline.clear();
                handler_.command.clear();
                handler_.request_version = "HTTP/1.0";
                handler_.send_error(408, "Request header not received in time");
                handler_.wfile().flush();
            } catch (const std::exception&) {
                // The client is gone: nothing left to tell it.
            }
        }
        close_gracefully();
    }

    /// Runs the handler on each complete request buffered, then waits or closes.
    void serve() {
        while (true) {
            handler_.handle_one_request();
            first_request_ = false;
            scanner_.reset();
            if (handler_.close_connection || state_.stopping.load()) {
                close_gracefully();
                return;
            }
            if (input().buffered().empty() || !scanner_.complete(input().buffered())) break;
        }
        if (input().at_eof()) { // the client half-closed: no further request can come
            close_gracefully();
            return;
        }
        head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
        wait_for_head();
    }

    /// Sends FIN after the response, then reads and drops what the client still sends until
    /// it closes: closing with unread input would reset the connection and could destroy the
    /// response before the client reads it (the lingering close of Apache and lighttpd).
    void close_gracefully() {
        std::error_code ec;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        if (ec || drain() || state_.options.linger_timeout.count() <= 0) {
            close_now();
            return;
        }
        linger();
    }

    void linger() {
        begin_wait(lingering, detail::steady_now_ms() + state_.options.linger_timeout.count());
        input().reset();
        socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = this->shared_from_this()](
                                                                 std::error_code ec) {
            if (!self->end_wait() || ec || self->drain() || self->lingered_ > max_linger_bytes)
                self->close_now();
            else
                self->linger();
        });
    }

    /// Reads and drops what is readable now; true once the peer has closed or failed.
    bool drain() noexcept {
        char scratch[4096];
        while (true) {
            const ssize_t n = ::recv(fd_, scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) {
                lingered_ += static_cast<std::size_t>(n);
                if (lingered_ > max_linger_bytes) return true;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        }
    }

    /// Leaves the registry, then closes: the timer never touches a closed descriptor.
    void close_now() noexcept {
        unregister();
        std::error_code ec;
        socket_.close(ec);
    }

    void unregister() noexcept {
        if (registered_) {
            state_.registry.remove(this);
            registered_ = false;
        }
    }

    static constexpr std::size_t max_linger_bytes = 1024 * 1024;

    detail::server_state& state_;
    asio::ip::tcp::socket socket_;
    socket_stream stream_{-1};
    Handler handler_;
    head_scanner scanner_;
    std::int64_t head_deadline_ = 0;
    std::size_t lingered_ = 0;
    bool first_request_ = true;
    bool registered_ = false;
};

} // namespace cgihttp
