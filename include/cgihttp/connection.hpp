// cgihttp/connection.hpp - one accepted connection of the default server loop: waits for a
// whole request head without holding a thread, runs the handler on it, closes gracefully.
// Python counterpart: socketserver's process_request()/finish_request()/shutdown_request().
#pragma once

#include "buffered_reader.hpp"
#include "connection_info.hpp"
#include "detail/class_attribute.hpp"
#include "detail/connection_registry.hpp"
#include "detail/sigpipe.hpp"
#include "request_parser.hpp"
#include "server_options.hpp"
#include "stream.hpp"

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
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

    /// Sets the socket up and registers the connection (it counts from here on).
    void open() {
        std::error_code ec;
        socket_.set_option(asio::ip::tcp::no_delay(true), ec);
        socket_.native_non_blocking(true, ec);
        fd_ = socket_.native_handle();
        stream_ = socket_stream(fd_, state_.options.io_timeout);
        handler_.wfile().allow_deferred_files(true);
        handler_.attach(stream_, peer_address(socket_), &state_.info);
        state_.registry.add(this);
        registered_ = true;
    }

    /// Waits for the first request (after open()).
    void start() {
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

    /// Runs the handler on each complete request buffered, then waits or closes. A large
    /// file a response ends with is sent from here as the socket takes it (send_file()), so
    /// no thread waits for a slow client.
    void serve() {
        while (true) {
            handler_.handle_one_request();
            first_request_ = false;
            scanner_.reset();
            if (auto file = handler_.wfile().take_deferred_file(); file && !send_file(*file))
                return; // the rest goes out asynchronously
            if (!next_request_buffered()) return;
        }
    }

    /// After a response: true when another complete request is buffered; otherwise closes or
    /// waits for the next request, and returns false.
    bool next_request_buffered() {
        if (handler_.close_connection || state_.stopping.load()) {
            close_gracefully();
            return false;
        }
        if (!input().buffered().empty() && scanner_.complete(input().buffered())) return true;
        if (input().at_eof()) { // the client half-closed: no further request can come
            close_gracefully();
            return false;
        }
        head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
        wait_for_head();
        return false;
    }

    /// Sends a deferred file as the socket takes it: a piece of at most send_piece bytes each
    /// time the socket is writable, with at most notsent_lowat bytes left unsent in the kernel
    /// (TCP_NOTSENT_LOWAT). Filling the socket buffer at once let queued data leave the
    /// instant an ACK arrived: the receiver then measured a tiny round trip, its window
    /// autotuning kept the window small, and 10 MiB transfers ran at 0.6x lighttpd on
    /// loopback; paced, 1.3x (bench/run.py). The io timeout applies to each wait. True when
    /// all is sent now; false when the rest goes out asynchronously (serving continues
    /// afterwards) or the connection failed and was closed (the response is cut after its
    /// status line went out: closing is the only signal left).
    bool send_file(buffered_writer::deferred_file file) {
        if (!paced_) {
            ::setsockopt(fd_, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &notsent_lowat, sizeof notsent_lowat);
            paced_ = true;
        }
        while (file.count > 0) {
            off_t offset = static_cast<off_t>(file.offset);
            const detail::sigpipe_guard no_sigpipe;
            const ssize_t n =
                ::sendfile(fd_, file.fd, &offset, std::min<std::uint64_t>(file.count, send_piece));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) {
                close_now(); // the client went away, or the file shrank under its length
                return false;
            }
            if (n > 0) {
                file.offset += std::uint64_t(n);
                file.count -= std::uint64_t(n);
                if (file.count == 0) return true;
            }
            begin_wait(sending, detail::steady_now_ms() + state_.options.io_timeout.count());
            socket_.async_wait(asio::ip::tcp::socket::wait_write, [self = this->shared_from_this(),
                                                                   file = std::move(file)](
                                                                      std::error_code ec) mutable {
                if (!self->end_wait() || ec)
                    self->close_now();
                else if (self->send_file(std::move(file)) && self->next_request_buffered())
                    self->serve();
            });
            return false;
        }
        return true;
    }

    /// Sends FIN after the response, then reads and drops what the client still sends until
    /// it closes: closing with unread input would reset the connection and could destroy the
    /// response before the client reads it (the lingering close of Apache, lighttpd, nginx).
    void close_gracefully() {
        std::error_code ec;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        if (ec || drain() || state_.options.linger_timeout.count() <= 0) {
            close_now();
            return;
        }
        input().reset();
        linger_end_ = detail::steady_now_ms() + state_.options.max_linger_time.count();
        linger();
    }

    void linger() {
        const std::int64_t now = detail::steady_now_ms();
        if (now >= linger_end_) {
            close_now();
            return;
        }
        begin_wait(lingering, std::min(now + state_.options.linger_timeout.count(), linger_end_));
        socket_.async_wait(asio::ip::tcp::socket::wait_read,
                           [self = this->shared_from_this()](std::error_code ec) {
                               if (!self->end_wait() || ec || self->drain())
                                   self->close_now();
                               else
                                   self->linger();
                           });
    }

    /// Reads and drops what is readable now, a bounded amount per call so that a fast sender
    /// cannot hold the event loop; true once the peer has closed or failed.
    bool drain() noexcept {
        char scratch[16 * 1024];
        for (int reads = 0; reads < 16; ++reads) {
            const ssize_t n = ::recv(fd_, scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        }
        return false;
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

    static constexpr std::size_t send_piece = 512 * 1024;
    static constexpr int notsent_lowat = 32 * 1024;

    detail::server_state& state_;
    asio::ip::tcp::socket socket_;
    socket_stream stream_{-1};
    Handler handler_;
    head_scanner scanner_;
    std::int64_t head_deadline_ = 0;
    std::int64_t linger_end_ = 0;
    bool first_request_ = true;
    bool paced_ = false;
    bool registered_ = false;
};

} // namespace cgihttp
