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
#include "tls_layer.hpp"

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <netinet/in.h>
#include <netinet/tcp.h>
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
        plain_ = socket_stream(fd_, state_.options.io_timeout);
        if (state_.options.tls) secure_ = state_.options.tls->wrap(fd_, state_.options.io_timeout);
        handler_.wfile().allow_deferred_files(true);
        handler_.attach(stream(), peer_address(socket_), &state_.info);
        state_.registry.add(this);
        registered_ = true;
    }

    /// Waits for the first request (after open()); a TLS handshake comes first, under its
    /// own timeout.
    void start() {
        handshaking_ = !stream().established();
        head_deadline_ = detail::steady_now_ms() + (handshaking_ ? state_.options.handshake_timeout
                                                                 : state_.options.header_timeout)
                                                       .count();
        wait_for_head();
    }

private:
    buffered_reader& input() noexcept { return handler_.connection_input(); }
    stream_ref& stream() noexcept { return secure_ ? *secure_ : plain_; }

    /// Reads until the buffered bytes hold a whole request head, then serves it. Reads
    /// without waiting as long as bytes come; then waits for the socket's readiness.
    void wait_for_head() {
        while (true) {
            if (!input().buffered().empty() && scanner_.complete(input().buffered())) {
                serve();
                return;
            }
            const bool was_empty = input().buffered().empty();
            const auto space = input().prepare(4096);
            std::error_code ec;
            readiness wait_for = readiness::readable;
            const std::size_t n = stream().read_available(static_cast<char*>(space.data()),
                                                          space.size(), ec, wait_for);
            input().commit(n);
            if (handshaking_ && stream().established()) {
                handshaking_ = false;
                head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
            }
            if (ec == asio::error::would_block) {
                wait_for_readiness(wait_for);
                return;
            }
            if (ec) {
                on_read_failed(ec);
                return;
            }
            if (was_empty && !first_request_)
                head_deadline_ = detail::steady_now_ms() + state_.options.header_timeout.count();
        }
    }

    /// Waits without a thread until the stream can go on, for an idle keep-alive connection
    /// until the keep-alive timeout, otherwise until the head's deadline.
    void wait_for_readiness(readiness wait_for) {
        const std::int64_t deadline =
            input().buffered().empty() && !first_request_
                ? detail::steady_now_ms() + state_.options.keepalive_timeout.count()
                : head_deadline_;
        begin_wait(reading, deadline);
        socket_.async_wait(wait_for == readiness::readable ? asio::ip::tcp::socket::wait_read
                                                           : asio::ip::tcp::socket::wait_write,
                           [self = this->shared_from_this()](std::error_code ec) {
                               if (!self->end_wait())
                                   self->on_expired();
                               else if (ec)
                                   self->close_now();
                               else
                                   self->wait_for_head();
                           });
    }

    void on_read_failed(std::error_code ec) {
        // A client may send a request and half-close (printf ... | nc): serve what came.
        if (ec == asio::error::eof && !input().buffered().empty()) {
            input().mark_eof();
            serve();
            return;
        }
        if (ec.category() == std::system_category() || ec == asio::error::eof) {
            close_now(); // the client left or reset: nothing to say, nothing worth a log line
            return;
        }
        // A TLS failure (a bad handshake, plain HTTP on the HTTPS port): it ends only this
        // connection, and is logged as the handler logs errors.
        log_error("TLS error: " + ec.message());
        close_gracefully();
    }

    void log_error(const std::string& message) noexcept {
        try {
            handler_.log_error(message);
        } catch (const std::exception&) {
            // A failing log must not take the connection loop with it.
        }
    }

    /// The timer (or shutdown) ended a wait: answer 408 to a partial request, then close.
    void on_expired() {
        if (handshaking_) {
            if (!state_.stopping.load()) log_error("TLS handshake not completed in time");
            close_now();
            return;
        }
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
            std::error_code ec;
            readiness wait_for = readiness::writable;
            const std::size_t n = stream().send_file_available(
                file.fd, file.offset, std::min<std::uint64_t>(file.count, send_piece), ec,
                wait_for);
            if (ec && ec != asio::error::would_block) {
                close_now(); // the client went away, or the file shrank under its length
                return false;
            }
            file.count -= n;
            if (file.count == 0) return true;
            if (n > 0 && !ec) continue;
            begin_wait(sending, detail::steady_now_ms() + state_.options.io_timeout.count());
            socket_.async_wait(wait_for == readiness::writable ? asio::ip::tcp::socket::wait_write
                                                               : asio::ip::tcp::socket::wait_read,
                               [self = this->shared_from_this(),
                                file = std::move(file)](std::error_code ec) mutable {
                                   if (!self->end_wait() || ec)
                                       self->close_now();
                                   else if (self->send_file(std::move(file)) &&
                                            self->next_request_buffered())
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
        stream().shutdown_send();
        if (drain() || state_.options.linger_timeout.count() <= 0) {
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
    socket_stream plain_{-1};
    std::unique_ptr<stream_ref> secure_; // the TLS stream over the socket, for HTTPS
    Handler handler_;
    head_scanner scanner_;
    std::int64_t head_deadline_ = 0;
    std::int64_t linger_end_ = 0;
    bool first_request_ = true;
    bool handshaking_ = false;
    bool paced_ = false;
    bool registered_ = false;
};

} // namespace cgihttp
