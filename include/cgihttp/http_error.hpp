// cgihttp/http_error.hpp - an exception that ends a request with an HTTP error response.
// Python counterpart: none; Python handlers call send_error() and return.
#pragma once

#include <stdexcept>
#include <string>

namespace cgihttp {

/// Thrown by library code (and usable by handlers) where a request cannot go on, for example
/// a malformed chunked body. handle_one_request() answers it with send_error(status, message,
/// explain) when no response has started yet, and otherwise closes the connection.
class http_error : public std::runtime_error {
public:
    http_error(int status, const std::string& message, std::string explain = {})
        : std::runtime_error(message), status_(status), explain_(std::move(explain)) {}

    /// The status code to answer with.
    int status() const noexcept { return status_; }
    /// The longer explanation for the error page; empty for the table's default.
    const std::string& explain() const noexcept { return explain_; }

private:
    int status_;
    std::string explain_;
};

} // namespace cgihttp
