// cgihttp/server.hpp - server<Handler>: the default Asio server loop. Listens, accepts, and
// runs each connection's requests through a Handler on a small pool of threads.
// Python counterpart: http.server.HTTPServer / ThreadingHTTPServer (socketserver).
#pragma once

#include "connection.hpp"
#include "detail/resource_shortage.hpp"
#include "detail/unique_fd.hpp"
#include "server_options.hpp"
#include "worker_pool.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cgihttp {
namespace detail {

/// Python's socket.getfqdn(): the host name for an unspecified address, else the name the
/// address resolves back to, else the host as given.
inline std::string fully_qualified_name(std::string host) {
    if (host.empty() || host == "0.0.0.0" || host == "::") {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0) host = name;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) return host;
    char name[NI_MAXHOST] = {};
    const int rc = ::getnameinfo(found->ai_addr, found->ai_addrlen, name, sizeof name, nullptr, 0,
                                 NI_NAMEREQD);
    ::freeaddrinfo(found);
    return rc == 0 ? std::string(name) : host;
}

} // namespace detail

/// The default server loop: binds in the constructor (so the port is known at once), serves
/// in serve_forever(), stops on shutdown(). Threading model: an event loop on one thread per
/// core waits for request heads without holding threads; a complete request runs its
/// handler synchronously on the thread that received it, and a handler that has to wait
/// hands its event-loop duty to another thread (see worker_pool).
template <class Handler>
class server {
public:
    using handler_factory = std::function<Handler()>;

    /// Binds and listens; throws std::system_error when the address cannot be bound.
    /// `make_handler` creates the handler of each connection (default: Handler()).
    explicit server(server_options options = {}, handler_factory make_handler = {})
        : make_handler_(make_handler ? std::move(make_handler) : [] { return Handler(); }),
          acceptor_(io_), timer_(io_),
          pool_(io_,
                options.threads ? options.threads
                                : std::max(1u, std::thread::hardware_concurrency()),
                options.max_threads) {
        state_.options = std::move(options);
        bind();
    }

    ~server() {
        shutdown();
        std::error_code ec;
        acceptor_.close(ec);
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Serves until shutdown(); Python's serve_forever(). Call once.
    void serve_forever() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            running_ = true;
        }
        accept();
        tick();
        pool_.run();
        std::lock_guard<std::mutex> lock(mutex_);
        running_ = false;
        stopped_.notify_all();
    }

    /// Stops accepting, closes idle connections, lets requests in progress finish (for up
    /// to options.shutdown_timeout), then makes serve_forever() return. Thread-safe; from a
    /// thread other than the server's own it waits for that, as Python's shutdown() does.
    void shutdown() {
        asio::post(io_, [this] { begin_shutdown(); });
        if (current_blocking_observer() == &pool_)
            return; // called from a handler or signal handler of this server
        std::unique_lock<std::mutex> lock(mutex_);
        stopped_.wait(lock, [&] { return !running_; });
    }

    /// What handlers see as `server`: server_name, server_port, server_address.
    const server_info& info() const noexcept { return state_.info; }
    /// The bound port (the system's choice when options.port was 0).
    unsigned short server_port() const noexcept { return state_.info.server_port; }
    /// The name CGI scripts see as SERVER_NAME.
    const std::string& server_name() const noexcept { return state_.info.server_name; }
    /// The bound endpoint.
    asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    /// The event loop, e.g. for an asio::signal_set that calls shutdown().
    asio::io_context& context() noexcept { return io_; }
    /// Open connections.
    std::size_t connection_count() const noexcept { return state_.registry.size(); }
    /// Connections refused because max_connections were open or descriptors ran out
    /// (answered 503 over plain HTTP, closed over TLS).
    std::size_t refused_count() const noexcept { return refusals_.load(); }
    /// Threads currently running the loop or a handler.
    std::size_t thread_count() const noexcept { return pool_.thread_count(); }

private:
    void bind() {
        const server_options& o = state_.options;
        asio::ip::tcp::endpoint endpoint;
        if (o.bind_address.empty()) {
            endpoint = asio::ip::tcp::endpoint(asio::ip::tcp::v6(), o.port);
            std::error_code ec;
            acceptor_.open(endpoint.protocol(), ec);
            if (ec) // no IPv6 on this machine
                endpoint = asio::ip::tcp::endpoint(asio::ip::tcp::v4(), o.port);
            else
                acceptor_.close();
        } else {
            asio::ip::tcp::resolver resolver(io_);
            endpoint = *resolver
                            .resolve(o.bind_address, std::to_string(o.port),
                                     asio::ip::tcp::resolver::passive)
                            .begin();
        }
        acceptor_.open(endpoint.protocol());
        if (endpoint.protocol() == asio::ip::tcp::v6() && endpoint.address().is_unspecified())
            acceptor_.set_option(asio::ip::v6_only(false));
        acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(o.backlog);
        acceptor_.non_blocking(true); // refuse_while_out_of_descriptors() must not wait
        max_connections_ = o.max_connections ? o.max_connections : default_max_connections();
        const auto bound = acceptor_.local_endpoint();
        state_.info.server_address = bound.address().to_string();
        state_.info.server_port = bound.port();
        state_.info.scheme = o.tls ? "https" : "http";
        state_.info.server_name = o.server_name.empty()
                                      ? detail::fully_qualified_name(state_.info.server_address)
                                      : o.server_name;
    }

    void accept() {
        acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted || state_.stopping.load()) return;
            if (ec) {
                // Out of descriptors, or a client that left before the accept: answer who
                // waits, then wait a little rather than spin, and accept again.
                if (++accept_failures_ == 1 || accept_failures_ % 1000 == 0)
                    std::fprintf(stderr, "cgihttp: accept failed: %s (%zu in a row)\n",
                                 ec.message().c_str(), accept_failures_);
                if (detail::is_resource_shortage(ec)) refuse_while_out_of_descriptors();
                retry_accept_later();
                return;
            }
            accept_failures_ = 0;
            std::shared_ptr<connection<Handler>> opened;
            if (state_.registry.size() >= max_connections_) {
                refuse(std::move(socket),
                       "max_connections (" + std::to_string(max_connections_) + ") reached");
            } else {
                try {
                    opened = std::make_shared<connection<Handler>>(state_, std::move(socket),
                                                                   make_handler_());
                    opened->open();
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "cgihttp: cannot start a connection: %s\n", e.what());
                    opened.reset();
                }
            }
            // Accepting again only once this connection counts keeps max_connections exact;
            // then another thread accepts while this one serves.
            accept();
            if (opened) opened->start();
        });
    }

    /// Answers a connection the server cannot take with 503 and closes it: a clear answer
    /// instead of a silent backlog, at the cost of one non-blocking send. Over TLS it is only
    /// closed: a 503 would take a handshake, the very cost being refused.
    void refuse(asio::ip::tcp::socket socket, const std::string& why) {
        static constexpr char response[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                           "Retry-After: 1\r\nConnection: close\r\n"
                                           "Content-Length: 0\r\n\r\n";
        if (!state_.options.tls)
            (void)::send(socket.native_handle(), response, sizeof response - 1,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        std::error_code ec;
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        // A log line for the first refusal and every thousandth: an attack must not fill
        // the log.
        const std::size_t refused = ++refusals_;
        if (refused == 1 || refused % 1000 == 0)
            std::fprintf(stderr, "cgihttp: %s a new connection: %s (%zu so far)\n",
                         state_.options.tls ? "closed" : "503 to", why.c_str(), refused);
    }

    /// With no descriptor left, accept() fails and clients would wait in the backlog: the
    /// spare descriptor, kept open for this, makes room to take them one by one and refuse
    /// them (the classic EMFILE reserve of libuv and others).
    void refuse_while_out_of_descriptors() {
        for (int taken = 0; taken < 64; ++taken) {
            spare_descriptor_.reset();
            asio::ip::tcp::socket socket(io_);
            std::error_code ec;
            acceptor_.accept(socket, ec);
            if (!ec) refuse(std::move(socket), "out of file descriptors");
            spare_descriptor_ = open_spare_descriptor();
            if (ec || !spare_descriptor_) return;
        }
    }

    static detail::unique_fd open_spare_descriptor() {
        return detail::unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    }

    void retry_accept_later() {
        auto delay = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
        delay->async_wait([this, delay](std::error_code) {
            if (!state_.stopping.load()) accept();
        });
    }

    /// The timer: expires overdue waits and drives shutdown to its end.
    void tick() {
        const server_options& o = state_.options;
        const auto shortest =
            std::min({o.keepalive_timeout, o.header_timeout, o.linger_timeout, o.shutdown_timeout,
                      o.tls ? o.handshake_timeout : o.header_timeout});
        const auto period = state_.stopping.load()
                                ? std::chrono::milliseconds(20)
                                : std::clamp(shortest / 4, std::chrono::milliseconds(10),
                                             std::chrono::milliseconds(1000));
        timer_.expires_after(period);
        timer_.async_wait([this](std::error_code ec) {
            if (ec) return;
            const std::int64_t now = detail::steady_now_ms();
            state_.registry.for_each([&](detail::registered_connection& c) {
                c.expire_if_due(now, state_.stopping.load());
            });
            if (state_.stopping.load()) {
                if (state_.registry.size() == 0 || now > shutdown_deadline_ + grace_ms()) {
                    io_.stop();
                    return;
                }
                if (now > shutdown_deadline_)
                    state_.registry.for_each([](detail::registered_connection& c) { c.cut(); });
            }
            tick();
        });
    }

    void begin_shutdown() {
        if (state_.stopping.exchange(true)) return;
        shutdown_deadline_ = detail::steady_now_ms() + grace_ms();
        std::error_code ec;
        acceptor_.close(ec);
        const std::int64_t now = detail::steady_now_ms();
        state_.registry.for_each(
            [now](detail::registered_connection& c) { c.expire_if_due(now, true); });
        timer_.cancel();
        tick();
    }

    std::int64_t grace_ms() const noexcept { return state_.options.shutdown_timeout.count(); }

    /// Half the descriptors the process may open: each connection takes one, a CGI script
    /// four more while it runs, and the server needs some for files.
    static std::size_t default_max_connections() {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096;
        return std::max<std::size_t>(16, static_cast<std::size_t>(limit.rlim_cur) / 2);
    }

    detail::server_state state_;
    handler_factory make_handler_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer timer_;
    worker_pool pool_;
    std::int64_t shutdown_deadline_ = 0;
    std::size_t max_connections_ = 0;
    std::atomic<std::size_t> refusals_{0};
    std::size_t accept_failures_ = 0; // in a row; only the accept handler touches it
    detail::unique_fd spare_descriptor_ = open_spare_descriptor();
    std::mutex mutex_;
    std::condition_variable stopped_;
    bool running_ = false;
};

} // namespace cgihttp
