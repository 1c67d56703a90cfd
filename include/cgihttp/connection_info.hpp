// cgihttp/connection_info.hpp - who is on the other end of a connection, and which server
// accepted it. Python counterpart: a handler's client_address and server attributes.
#pragma once

#include <string>

namespace cgihttp {

/// A socket address as Python shows it: (host, port).
struct socket_address {
    std::string host;
    unsigned short port = 0;
};

/// What a handler may know of the server that accepted its connection (Python's
/// `self.server`): the name and port CGI scripts see, and the address it listens on.
struct server_info {
    std::string server_name;
    unsigned short server_port = 0;
    std::string server_address;
};

} // namespace cgihttp
