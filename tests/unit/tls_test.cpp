// Unit tests of HTTPS (builds with TLS only): tls_stream over a UNIX socket pair against an
// OpenSSL client on another thread (handshake, ALPN, buffered plaintext, timeouts,
// close_notify, plain HTTP on the TLS side), tls_context::from_files, and a handler served
// over a tls_stream by a user's own loop.
#include "test_support.hpp"

#include <cgihttp/base_request_handler.hpp>
#include <cgihttp/tls.hpp>

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using test_support::temp_file;

/// A throwaway self-signed identity (EC P-256, CN=localhost) in PEM.
struct identity {
    std::string certificate;
    std::string key;
    std::string encrypted_key; ///< the key encrypted with the password "secret"
};

std::string pem_of(const std::function<int(BIO*)>& write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    REQUIRE(write(bio.get()) == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

identity make_identity() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    REQUIRE((key && cert));
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
    identity id;
    id.certificate = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
    id.key = pem_of([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    id.encrypted_key = pem_of([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                        const_cast<char*>("secret"));
    });
    return id;
}

const identity& test_identity() {
    static const identity id = make_identity();
    return id;
}

std::shared_ptr<cgihttp::tls_context> server_context() {
    asio::ssl::context context = cgihttp::default_server_tls_settings();
    const identity& id = test_identity();
    context.use_certificate_chain(asio::buffer(id.certificate));
    context.use_private_key(asio::buffer(id.key), asio::ssl::context::pem);
    return std::make_shared<cgihttp::tls_context>(std::move(context));
}

/// A connected pair: the server's end non-blocking (as the server loop has it), the
/// client's blocking.
struct socket_pair {
    socket_pair() {
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    }
    ~socket_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
    int server() const { return fds[0]; }
    int client() const { return fds[1]; }
    int fds[2];
};

/// A socket pair whose server end a tls_stream of server_context() speaks on.
struct tls_pair : socket_pair {
    explicit tls_pair(std::chrono::milliseconds timeout = 5s)
        : context(server_context()), stream(context->wrap(server(), timeout)) {}
    std::shared_ptr<cgihttp::tls_context> context;
    std::unique_ptr<cgihttp::stream_ref> stream;
};

/// An OpenSSL client on the blocking end, offering `alpn` (wire format).
struct tls_client {
    explicit tls_client(int fd, std::string alpn = std::string("\x08http/1.1", 9),
                        int max_version = 0)
        : context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free), ssl(nullptr, &SSL_free) {
        if (max_version) SSL_CTX_set_max_proto_version(context.get(), max_version);
        ssl.reset(SSL_new(context.get()));
        SSL_set_fd(ssl.get(), fd);
        SSL_set_tlsext_host_name(ssl.get(), "localhost");
        if (!alpn.empty())
            SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                                static_cast<unsigned int>(alpn.size()));
    }
    bool connect() { return SSL_connect(ssl.get()) == 1; }
    void write(const std::string& data) {
        REQUIRE(SSL_write(ssl.get(), data.data(), static_cast<int>(data.size())) ==
                static_cast<int>(data.size()));
    }
    /// Reads until `size` bytes came or the connection ended; `ended` tells how it ended.
    std::string read(std::size_t size, int* ended = nullptr) {
        std::string data;
        char buffer[4096];
        while (data.size() < size) {
            const int n = SSL_read(ssl.get(), buffer, sizeof buffer);
            if (n <= 0) {
                if (ended) *ended = SSL_get_error(ssl.get(), n);
                break;
            }
            data.append(buffer, static_cast<std::size_t>(n));
        }
        return data;
    }
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context;
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl;
};

/// Reads exactly `size` bytes from `stream`.
std::string read_exactly(cgihttp::stream_ref& stream, std::size_t size) {
    std::string data(size, '\0');
    std::size_t got = 0;
    while (got < size) {
        std::error_code ec;
        const std::size_t n = stream.read_some(data.data() + got, size - got, ec);
        REQUIRE_MESSAGE(!ec, ec.message());
        got += n;
    }
    return data;
}

} // namespace

TEST_SUITE("tls") {
    TEST_CASE("the handshake happens in the first read, then data flows both ways") {
        tls_pair pair;
        auto& stream = pair.stream;
        CHECK_FALSE(stream->established());
        CHECK(stream->security_variables().empty());
        std::thread client_thread([&] {
            tls_client client(pair.client(), std::string("\x02h2\x08http/1.1", 12));
            REQUIRE(client.connect());
            client.write("hello");
            CHECK(client.read(5) == "world");
        });
        CHECK(read_exactly(*stream, 5) == "hello");
        CHECK(stream->established());
        CHECK(static_cast<cgihttp::tls_stream&>(*stream).alpn_protocol() == "http/1.1");
        const auto variables = stream->security_variables();
        REQUIRE(variables.size() == 3);
        CHECK(variables[0] == std::pair<std::string, std::string>("SSL_PROTOCOL", "TLSv1.3"));
        CHECK(variables[1].first == "SSL_CIPHER");
        CHECK_FALSE(variables[1].second.empty());
        CHECK(variables[2] == std::pair<std::string, std::string>("SSL_TLS_SNI", "localhost"));
        std::error_code ec;
        CHECK(stream->write_some("world", 5, ec) == 5);
        CHECK_FALSE(ec);
        client_thread.join();
    }

    TEST_CASE("without http/1.1 among the client's protocols, ALPN is left out") {
        socket_pair pair;
        cgihttp::tls_stream stream(server_context()->native().native_handle(), pair.server(), 5s);
        std::thread client_thread([&] {
            tls_client client(pair.client(), std::string("\x02h2", 3));
            REQUIRE(client.connect());
            client.write("x");
        });
        CHECK(read_exactly(stream, 1) == "x");
        CHECK(stream.alpn_protocol().empty());
        client_thread.join();
    }

    TEST_CASE("read_available never waits: it names the readiness to wait for") {
        tls_pair pair;
        auto& stream = pair.stream;
        char buffer[16];
        std::error_code ec;
        cgihttp::readiness wait_for = cgihttp::readiness::writable;
        CHECK(stream->read_available(buffer, sizeof buffer, ec, wait_for) == 0);
        CHECK(ec == asio::error::would_block);
        CHECK(wait_for == cgihttp::readiness::readable);
        std::thread client_thread([&] {
            tls_client client(pair.client());
            REQUIRE(client.connect());
            client.write("ping");
            client.read(1); // until the server closes
        });
        std::string got;
        while (got.size() < 4) {
            const std::size_t n = stream->read_available(buffer, sizeof buffer, ec, wait_for);
            if (ec == asio::error::would_block) {
                pollfd p{
                    pair.server(),
                    static_cast<short>(wait_for == cgihttp::readiness::readable ? POLLIN : POLLOUT),
                    0};
                REQUIRE(::poll(&p, 1, 5000) == 1);
                continue;
            }
            REQUIRE_MESSAGE(!ec, ec.message());
            got.append(buffer, n);
        }
        CHECK(got == "ping");
        stream->shutdown_send();
        client_thread.join();
    }

    TEST_CASE("plaintext left in a record is reported as buffered input") {
        tls_pair pair;
        auto& stream = pair.stream;
        std::thread client_thread([&] {
            tls_client client(pair.client());
            REQUIRE(client.connect());
            client.write(std::string(100, 'b')); // one record
            client.read(1);
        });
        CHECK(read_exactly(*stream, 10) == std::string(10, 'b'));
        CHECK(stream->has_buffered_input()); // poll() on the socket would not see these 90
        pollfd p{pair.server(), POLLIN, 0};
        CHECK(::poll(&p, 1, 0) == 0);
        CHECK(read_exactly(*stream, 90) == std::string(90, 'b'));
        CHECK_FALSE(stream->has_buffered_input());
        stream->shutdown_send();
        client_thread.join();
    }

    TEST_CASE("a read waits at most the timeout") {
        tls_pair pair(100ms);
        auto& stream = pair.stream;
        tls_client client(pair.client());
        std::thread client_thread([&] { REQUIRE(client.connect()); });
        std::error_code ec;
        char buffer[16];
        const auto start = std::chrono::steady_clock::now();
        CHECK(stream->read_some(buffer, sizeof buffer, ec) == 0); // handshake, then nothing
        CHECK(ec == std::errc::timed_out);
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK(waited >= 90ms); // poll() counts whole milliseconds
        CHECK(waited < 3s);
        client_thread.join();
    }

    TEST_CASE("shutdown_send sends close_notify, and the client's reads as the end") {
        tls_pair pair;
        auto& stream = pair.stream;
        int ended = 0;
        std::thread client_thread([&] {
            tls_client client(pair.client());
            REQUIRE(client.connect());
            client.write("a");
            client.read(1, &ended);
            SSL_shutdown(client.ssl.get());
        });
        CHECK(read_exactly(*stream, 1) == "a");
        stream->shutdown_send();
        std::error_code ec;
        char buffer[4];
        CHECK(stream->read_some(buffer, sizeof buffer, ec) == 0);
        CHECK(ec == asio::error::eof);
        client_thread.join();
        CHECK(ended == SSL_ERROR_ZERO_RETURN);
    }

    TEST_CASE("plain HTTP on the TLS side gets a cleartext 400 and an error naming it") {
        tls_pair pair;
        auto& stream = pair.stream;
        const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        REQUIRE(::write(pair.client(), request.data(), request.size()) ==
                static_cast<ssize_t>(request.size()));
        std::error_code ec;
        char buffer[64];
        CHECK(stream->read_some(buffer, sizeof buffer, ec) == 0);
        CHECK(ec.message().find("http request") != std::string::npos);
        std::string answer(512, '\0');
        const ssize_t n = ::read(pair.client(), answer.data(), answer.size());
        REQUIRE(n > 0);
        answer.resize(static_cast<std::size_t>(n));
        CHECK(answer.rfind("HTTP/1.0 400 Bad Request\r\n", 0) == 0);
        CHECK(answer.find("Client sent an HTTP request to an HTTPS server.") != std::string::npos);
        CHECK(stream->write_some("x", 1, ec) == 0); // OpenSSL is not touched after a failure
        CHECK(ec == std::errc::connection_aborted);
    }

    TEST_CASE("a TLS 1.1 client is refused") {
        tls_pair pair;
        auto& stream = pair.stream;
        bool connected = true;
        std::thread client_thread([&] {
            tls_client client(pair.client(), {}, TLS1_1_VERSION);
            connected = client.connect();
        });
        std::error_code ec;
        char buffer[4];
        CHECK(stream->read_some(buffer, sizeof buffer, ec) == 0);
        CHECK(ec);
        client_thread.join();
        CHECK_FALSE(connected);
    }

    TEST_CASE("from_files loads Python's certfile/keyfile/password, and names what fails") {
        const identity& id = test_identity();
        temp_file cert(id.certificate), key(id.key), encrypted(id.encrypted_key),
            combined(id.certificate + id.key), other_key(make_identity().key);
        CHECK(cgihttp::tls_context::from_files(cert.path(), key.path()));
        CHECK(cgihttp::tls_context::from_files(combined.path())); // the key in the certfile
        CHECK(cgihttp::tls_context::from_files(cert.path(), encrypted.path(), "secret"));
        CHECK_THROWS_AS(cgihttp::tls_context::from_files(cert.path(), encrypted.path(), "wrong"),
                        std::system_error);
        CHECK_THROWS_AS(cgihttp::tls_context::from_files(cert.path(), encrypted.path()),
                        std::system_error); // no password: refused, never asked on a terminal
        CHECK_THROWS_AS(cgihttp::tls_context::from_files(cert.path(), other_key.path()),
                        std::system_error);
        CHECK_THROWS_AS(cgihttp::tls_context::from_files("/nonexistent.pem"), std::system_error);
    }

    TEST_CASE("reload_files serves new connections with the new certificate, open ones keep "
              "theirs, and a failed reload keeps the current one") {
        const identity& first = test_identity();
        const identity second = make_identity();
        temp_file cert(first.certificate), key(first.key), next_cert(second.certificate),
            next_key(second.key);
        const auto context = cgihttp::tls_context::from_files(cert.path(), key.path());
        // The certificate (PEM) a client on `pair` is shown by `stream`, the server's end.
        const auto presented = [&](socket_pair& pair, cgihttp::stream_ref& stream) {
            std::string pem;
            std::thread client_thread([&] {
                tls_client client(pair.client());
                REQUIRE(client.connect());
                std::unique_ptr<X509, decltype(&X509_free)> peer(
                    SSL_get1_peer_certificate(client.ssl.get()), &X509_free);
                REQUIRE(peer);
                pem = pem_of([&](BIO* b) { return PEM_write_bio_X509(b, peer.get()); });
                client.write("x");
            });
            CHECK(read_exactly(stream, 1) == "x");
            client_thread.join();
            return pem;
        };
        const auto presented_to_new = [&] {
            socket_pair pair;
            const auto stream = context->wrap(pair.server(), 5s);
            return presented(pair, *stream);
        };
        CHECK(presented_to_new() == first.certificate);
        socket_pair early; // wrapped before the reload, its handshake after it
        const auto wrapped_early = context->wrap(early.server(), 5s);
        context->reload_files(next_cert.path(), next_key.path());
        CHECK(presented_to_new() == second.certificate);
        CHECK(presented(early, *wrapped_early) == first.certificate);
        CHECK_THROWS_AS(context->reload_files("/nonexistent.pem"), std::system_error);
        CHECK_THROWS_AS(context->reload_files(cert.path(), next_key.path()), std::system_error);
        CHECK(presented_to_new() == second.certificate);
    }

    TEST_CASE("a user's own loop serves a handler over a tls_stream") {
        struct hello : cgihttp::BaseRequestHandler<hello> {
            void do_GET() {
                send_response(200);
                send_header("Content-Length", "5");
                end_headers();
                wfile().write("hello");
            }
            void log_message(std::string_view) {}
        };
        socket_pair pair;
        const auto context = server_context();
        cgihttp::tls_stream stream(context->native().native_handle(), pair.server(), 5s);
        std::string response;
        std::thread client_thread([&] {
            tls_client client(pair.client());
            REQUIRE(client.connect());
            client.write("GET / HTTP/1.0\r\n\r\n");
            response = client.read(1 << 20);
        });
        hello handler;
        handler.handle(stream, {"127.0.0.1", 1});
        stream.shutdown_send();
        client_thread.join();
        CHECK(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
        CHECK(response.substr(response.size() - 5) == "hello");
    }
}
