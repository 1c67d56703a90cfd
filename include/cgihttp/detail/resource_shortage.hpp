// cgihttp/detail/resource_shortage.hpp - which system errors mean the server ran short of
// descriptors, processes, memory or disk: a temporary condition, answered 503, not 404/500.
#pragma once

#include <asio/error.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace cgihttp::detail {

/// True for errno values of exhausted resources (EAGAIN: fork() and execve() past
/// RLIMIT_NPROC).
constexpr bool is_resource_shortage(int error) noexcept {
    return error == EMFILE || error == ENFILE || error == ENOMEM || error == ENOBUFS ||
           error == EAGAIN || error == ENOSPC || error == EDQUOT;
}

/// For errors of the standard library and of Asio (whose system category is its own).
inline bool is_resource_shortage(const std::error_code& ec) noexcept {
    return (ec.category() == std::system_category() ||
            ec.category() == asio::error::get_system_category()) &&
           is_resource_shortage(ec.value());
}

/// Throws std::system_error for `error` when it is a shortage: handle_one_request() answers
/// it with 503 and a log line.
inline void throw_if_resource_shortage(int error, const std::string& what) {
    if (is_resource_shortage(error)) throw std::system_error(error, std::system_category(), what);
}

/// For a server-side step that failed with `error`: a shortage as above (503), anything else
/// as std::runtime_error, which handle_one_request() answers with 500 and a log line. (A
/// std::system_error of another kind would pass for a broken connection.)
[[noreturn]] inline void throw_local_failure(int error, const std::string& what) {
    throw_if_resource_shortage(error, what);
    throw std::runtime_error(what + ": " + std::strerror(error));
}

} // namespace cgihttp::detail
