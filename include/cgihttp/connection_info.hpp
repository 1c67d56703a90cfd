// cgihttp/connection_info.hpp - who is on the other end of a connection, and which server
// accepted it. Python counterpart: a handler's client_address and server attributes.
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/basic_endpoint.hpp>

#include <string>
#include <system_error>
#include <type_traits>

namespace cgihttp {

/// A socket address as Python shows it: (host, port).
struct socket_address {
    std::string host;
    unsigned short port = 0;
};

/// What a handler may know of the server that accepted its connection (Python's
/// `self.server`): the name and port CGI scripts see, the address it listens on, and
/// whether it speaks HTTPS.
struct server_info {
    std::string server_name;
    unsigned short server_port = 0;
    std::string server_address;
    std::string scheme = "http"; ///< "https" behind TLS: REQUEST_SCHEME, HTTPS=on for CGI
};

namespace detail {
template <class Endpoint>
struct is_ip_endpoint : std::false_type {};
template <class Protocol>
struct is_ip_endpoint<asio::ip::basic_endpoint<Protocol>> : std::true_type {};
} // namespace detail

/// The peer of a connected Asio socket as Python shows it. IPv4 clients of a dual-stack
/// socket appear as plain IPv4 ("127.0.0.1", not "::ffff:127.0.0.1"), as CGI's REMOTE_ADDR
/// expects; a UNIX socket's peer is its path, or "-" when unnamed. Empty when unknown.
template <class Socket>
socket_address peer_address(const Socket& socket) {
    std::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) return {};
    if constexpr (detail::is_ip_endpoint<std::decay_t<decltype(endpoint)>>::value) {
        asio::ip::address address = endpoint.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped())
            address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        return {address.to_string(), endpoint.port()};
    } else {
        const std::string path = endpoint.path();
        return {path.empty() ? "-" : path, 0};
    }
}

} // namespace cgihttp
