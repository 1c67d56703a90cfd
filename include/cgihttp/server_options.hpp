// cgihttp/server_options.hpp - the settings of the default server loop, with their defaults.
// Python counterpart: HTTPServer's constructor arguments and socketserver class attributes.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cgihttp {

class tls_layer;

/// How server<Handler> listens and how long it waits for clients.
struct server_options {
    /// Address to bind: an IPv4 or IPv6 literal or a host name; empty binds every interface,
    /// IPv6 and IPv4 together where the system allows (dual stack), else IPv4 only.
    std::string bind_address;
    /// Port to bind; 0 lets the system choose (see server::server_port()).
    unsigned short port = 8000;
    /// SERVER_NAME for handlers; empty: the fully qualified name of the bound address, as
    /// Python's HTTPServer.server_bind() computes it.
    std::string server_name;
    /// Threads running the event loop; 0 means one per core.
    std::size_t threads = 0;
    /// Most threads in all, counting those a handler keeps waiting (slow client, CGI).
    std::size_t max_threads = 512;
    /// Listen backlog.
    int backlog = 1024;
    /// Most connections open at once; more are accepted, answered 503 (Retry-After: 1; over
    /// HTTPS not answered) and closed. 0: half the process's descriptor limit (RLIMIT_NOFILE).
    std::size_t max_connections = 0;
    /// Serve HTTPS: the TLS settings, e.g. tls_context::from_files(cert, key) from
    /// cgihttp/tls.hpp. Empty: plain HTTP.
    std::shared_ptr<const tls_layer> tls;
    /// How long a TLS client may take to complete its handshake, counted from the accept.
    std::chrono::milliseconds handshake_timeout{10000};
    /// How long a kept-alive connection may stay idle between requests.
    std::chrono::milliseconds keepalive_timeout{5000};
    /// How long a client may take to send a whole request head (slowloris defence), counted
    /// from its first byte, or from the accept for a connection's first request.
    std::chrono::milliseconds header_timeout{30000};
    /// How long one read or write inside a handler may wait (request body, response).
    std::chrono::milliseconds io_timeout{60000};
    /// How long shutdown() lets requests in progress finish before cutting connections.
    std::chrono::milliseconds shutdown_timeout{5000};
    /// After the response on a closing connection, how long to wait for more of what the
    /// client still sends (it is read and dropped), so that closing does not reset the
    /// connection under the response...
    std::chrono::milliseconds linger_timeout{2000};
    /// ...and how long that may last in all, however steadily the client sends (nginx's
    /// lingering_time): enough for a client to finish an upload a script did not read.
    std::chrono::milliseconds max_linger_time{30000};
};

} // namespace cgihttp
