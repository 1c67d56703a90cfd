// cgihttp/tls.hpp - HTTPS: a TLS stream over OpenSSL for the handlers and the server loop,
// and the server's TLS settings. Needs OpenSSL (Debian libssl-dev): the cgihttp CMake target
// links it and includes this header from handler.hpp when built with CGIHTTP_TLS.
// Python counterpart: http.server.HTTPSServer (3.14) and ssl.SSLContext.wrap_socket().
//
// Why not asio::ssl::stream: the handlers' synchronous I/O needs poll() timeouts and the
// event loop needs non-blocking reads on the descriptor, which asio::ssl::stream's
// synchronous calls cannot give; OpenSSL works on the socket itself here, and
// asio::ssl::context configures it.
#pragma once

#include "detail/sigpipe.hpp"
#include "stream.hpp"
#include "tls_layer.hpp"

#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

namespace cgihttp {
namespace detail {

struct ssl_free {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

/// An OpenSSL error code as an error_code whose message() names it, e.g. "wrong version
/// number (SSL routines)".
inline std::error_code tls_error(unsigned long code) {
    return {static_cast<int>(code), asio::error::get_ssl_category()};
}

} // namespace detail

/// The server side of a TLS connection over a connected, non-blocking socket, used
/// synchronously like socket_stream (each wait at most `timeout`, in a blocking_scope) or,
/// through read_available(), by an event loop. The handshake happens in the first reads.
class tls_stream final : public stream_ref {
public:
    /// `fd` stays owned by the caller; `context` holds the certificate and settings, and
    /// `owner`, if given, is kept as long as the stream (what keeps `context` valid).
    tls_stream(SSL_CTX* context, int fd, std::chrono::milliseconds timeout = {},
               std::shared_ptr<const void> owner = {})
        : owner_(std::move(owner)), ssl_(SSL_new(context)), fd_(fd), timeout_(timeout) {
        if (!ssl_ || SSL_set_fd(ssl_.get(), fd) != 1)
            throw std::system_error(std::make_error_code(std::errc::not_enough_memory), "SSL_new");
        SSL_set_accept_state(ssl_.get());
        // Partial writes make write_some() a write_some; released buffers keep an idle
        // keep-alive connection small; an EOF without close_notify is an EOF (HTTP's framing
        // tells a cut message).
        SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                     SSL_MODE_RELEASE_BUFFERS);
        SSL_set_options(ssl_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
    }

    int native_handle() const noexcept override { return fd_; }
    void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }
    /// The OpenSSL connection, e.g. to read the client's certificate.
    SSL* native_ssl() const noexcept { return ssl_.get(); }

    std::size_t read_some(char* data, std::size_t size, std::error_code& ec) override {
        return detail::retry_when_ready(fd_, timeout_, ec, [&](auto& e, readiness& w) {
            return read_available(data, size, e, w);
        });
    }

    std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                           bool /*more*/ = false) override {
        return detail::retry_when_ready(fd_, timeout_, ec, [&](auto& e, readiness& w) {
            return write_available(data, size, e, w);
        });
    }

    std::size_t read_available(char* data, std::size_t size, std::error_code& ec,
                               readiness& wait_for) override {
        return attempt(ec, wait_for,
                       [&](std::size_t& n) { return SSL_read_ex(native_ssl(), data, size, &n); });
    }

    std::size_t write_available(const char* data, std::size_t size, std::error_code& ec,
                                readiness& wait_for) override {
        return attempt(ec, wait_for,
                       [&](std::size_t& n) { return SSL_write_ex(native_ssl(), data, size, &n); });
    }

    bool has_buffered_input() const noexcept override { return SSL_pending(ssl_.get()) > 0; }

    bool established() const noexcept override { return SSL_is_init_finished(ssl_.get()) == 1; }

    void shutdown_send() noexcept override {
        if (!failed_ && established()) {
            const detail::sigpipe_guard no_sigpipe;
            ERR_clear_error();
            SSL_shutdown(ssl_.get()); // sends close_notify; the peer's is not waited for
        }
        ::shutdown(fd_, SHUT_WR);
    }

    std::vector<std::pair<std::string, std::string>> security_variables() const override {
        std::vector<std::pair<std::string, std::string>> variables;
        if (!established()) return variables;
        variables.emplace_back("SSL_PROTOCOL", SSL_get_version(native_ssl()));
        if (const char* cipher = SSL_get_cipher_name(native_ssl()))
            variables.emplace_back("SSL_CIPHER", cipher);
        // The name the client asked for, for scripts that serve several names.
        if (const char* name = SSL_get_servername(native_ssl(), TLSEXT_NAMETYPE_host_name))
            variables.emplace_back("SSL_TLS_SNI", name);
        return variables;
    }

    /// The protocol ALPN chose ("http/1.1"), empty when none.
    std::string alpn_protocol() const {
        const unsigned char* name = nullptr;
        unsigned int length = 0;
        SSL_get0_alpn_selected(ssl_.get(), &name, &length);
        return name ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
    }

private:
    /// Runs one OpenSSL call without waiting: the bytes it moved, or 0 with ec set to
    /// would_block (and `wait_for`), eof, or the failure. After a failure OpenSSL must not
    /// be used again, so every later call fails too.
    template <class Call>
    std::size_t attempt(std::error_code& ec, readiness& wait_for, const Call& call) {
        if (failed_) {
            ec.assign(ECONNABORTED, std::system_category());
            return 0;
        }
        const detail::sigpipe_guard no_sigpipe; // OpenSSL writes with write(2)
        ERR_clear_error();
        errno = 0;
        std::size_t n = 0;
        const int result = call(n);
        if (result == 1) {
            ec.clear();
            return n;
        }
        switch (SSL_get_error(native_ssl(), result)) {
        case SSL_ERROR_WANT_READ:
            wait_for = readiness::readable;
            ec = asio::error::would_block;
            return 0;
        case SSL_ERROR_WANT_WRITE:
            wait_for = readiness::writable;
            ec = asio::error::would_block;
            return 0;
        case SSL_ERROR_ZERO_RETURN: // close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) an EOF
            ec = asio::error::eof;
            return 0;
        case SSL_ERROR_SYSCALL:
            failed_ = true;
            ec = errno != 0 ? std::error_code(errno, std::system_category())
                            : std::error_code(asio::error::eof);
            return 0;
        default: {
            failed_ = true;
            const unsigned long code = ERR_peek_last_error();
            if (ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST) answer_plain_http();
            ec = detail::tls_error(code);
            return 0;
        }
        }
    }

    /// A plain HTTP request on the HTTPS port gets a plain answer that says so, as Go's
    /// net/http and nginx give, rather than a mute close.
    void answer_plain_http() noexcept {
        static constexpr char response[] = "HTTP/1.0 400 Bad Request\r\n"
                                           "Content-Type: text/plain; charset=utf-8\r\n"
                                           "Connection: close\r\n\r\n"
                                           "Client sent an HTTP request to an HTTPS server.\n";
        (void)::send(fd_, response, sizeof response - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }

    std::shared_ptr<const void> owner_;
    std::unique_ptr<SSL, detail::ssl_free> ssl_;
    int fd_;
    std::chrono::milliseconds timeout_;
    bool failed_ = false;
};

/// Python's ssl.create_default_context(ssl.Purpose.CLIENT_AUTH) for a server: TLS 1.2 or
/// later, no compression (CRIME), no renegotiation, the server's cipher order.
inline asio::ssl::context default_server_tls_settings() {
    asio::ssl::context context(asio::ssl::context::tls_server);
    SSL_CTX* handle = context.native_handle();
    SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
    SSL_CTX_set_options(handle, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    static constexpr unsigned char session_context[] = "cgihttp";
    SSL_CTX_set_session_id_context(handle, session_context, sizeof session_context - 1);
    return context;
}

/// A server's TLS settings (server_options::tls): an asio::ssl::context holding the
/// certificate chain and key, which answers ALPN with http/1.1. It can be replaced while the
/// server runs (a renewed certificate): new connections get the new one, open ones keep
/// theirs.
class tls_context final : public tls_layer {
public:
    /// Takes a configured context (see default_server_tls_settings()) and adds ALPN.
    explicit tls_context(asio::ssl::context context) : current_(adopt(std::move(context))) {}

    /// Python 3.14's HTTPSServer(certfile, keyfile, password): the PEM certificate chain,
    /// the PEM private key (empty: it is in `certfile`), the key's password (never asked
    /// for on a terminal). Throws std::system_error naming the OpenSSL failure.
    static std::shared_ptr<tls_context> from_files(const std::string& certfile,
                                                   const std::string& keyfile = {},
                                                   const std::string& password = {}) {
        return std::make_shared<tls_context>(load_files(certfile, keyfile, password));
    }

    /// Serves new connections with `context` from now on. Thread-safe.
    void replace(asio::ssl::context context) {
        auto next = adopt(std::move(context));
        const std::lock_guard<std::mutex> lock(mutex_);
        current_ = std::move(next);
    }

    /// Loads the files again, as from_files() (a renewed certificate); when they cannot be
    /// loaded, throws and keeps serving with the current context. Thread-safe.
    void reload_files(const std::string& certfile, const std::string& keyfile = {},
                      const std::string& password = {}) {
        replace(load_files(certfile, keyfile, password));
    }

    /// The context new connections get, for further settings (client certificates,
    /// ciphers) before serving.
    asio::ssl::context& native() noexcept {
        const std::lock_guard<std::mutex> lock(mutex_);
        return *current_;
    }

    std::unique_ptr<stream_ref> wrap(int fd, std::chrono::milliseconds timeout) const override {
        std::shared_ptr<asio::ssl::context> context;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            context = current_;
        }
        SSL_CTX* handle = context->native_handle();
        return std::make_unique<tls_stream>(handle, fd, timeout, std::move(context));
    }

private:
    static std::shared_ptr<asio::ssl::context> adopt(asio::ssl::context context) {
        auto shared = std::make_shared<asio::ssl::context>(std::move(context));
        SSL_CTX_set_alpn_select_cb(shared->native_handle(), &select_http11, nullptr);
        return shared;
    }

    static asio::ssl::context load_files(const std::string& certfile, const std::string& keyfile,
                                         const std::string& password) {
        asio::ssl::context context = default_server_tls_settings();
        context.set_password_callback(
            [password](std::size_t, asio::ssl::context::password_purpose) { return password; });
        context.use_certificate_chain_file(certfile);
        context.use_private_key_file(keyfile.empty() ? certfile : keyfile, asio::ssl::context::pem);
        if (SSL_CTX_check_private_key(context.native_handle()) != 1)
            throw std::system_error(detail::tls_error(ERR_get_error()),
                                    "the key does not match the certificate");
        return context;
    }

    /// Picks http/1.1 from the client's ALPN list; without it, carries on without ALPN as
    /// Python does (a client offering only h2 then fails or falls back by itself).
    static int select_http11(SSL*, const unsigned char** out, unsigned char* out_length,
                             const unsigned char* offered, unsigned int offered_length, void*) {
        static constexpr char ours[] = "http/1.1";
        constexpr unsigned int ours_length = sizeof ours - 1;
        for (unsigned int i = 0; i < offered_length;) {
            const unsigned int length = offered[i];
            if (i + 1 + length > offered_length) break;
            if (length == ours_length && std::memcmp(offered + i + 1, ours, length) == 0) {
                *out = offered + i + 1;
                *out_length = static_cast<unsigned char>(length);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + length;
        }
        return SSL_TLSEXT_ERR_NOACK;
    }

    mutable std::mutex mutex_;
    std::shared_ptr<asio::ssl::context> current_; // shared with the streams made from it
};

} // namespace cgihttp
