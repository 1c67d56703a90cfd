// cgihttp/tls_layer.hpp - what the server loop needs of TLS, without OpenSSL: HTTP-only
// builds compile and link this header alone. The OpenSSL implementation is cgihttp/tls.hpp.
// Python counterpart: the SSLContext an HTTPSServer wraps its listening socket with.
#pragma once

#include "stream.hpp"

#include <chrono>
#include <memory>

namespace cgihttp {

/// Turns an accepted connection into a secure stream.
class tls_layer {
public:
    virtual ~tls_layer() = default;

    /// A stream speaking TLS (server side) over `fd`, a connected non-blocking socket that
    /// stays owned by the caller. Its handshake happens in its first reads; each blocking
    /// call waits at most `timeout` (zero: forever) for the socket.
    virtual std::unique_ptr<stream_ref> wrap(int fd, std::chrono::milliseconds timeout) const = 0;
};

} // namespace cgihttp
