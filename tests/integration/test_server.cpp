// test_server.cpp - the server the integration tests drive over loopback. Its handlers
// mirror those of Python's test_httpservers.py, so the Python tests port line by line.
//     cgihttp_test_server KIND [--protocol V] [--keepalive-ms N] [--header-ms N] [--io-ms N]
//         [--threads N] [--max-connections N] [--max-body N]
//         [--tls-cert PEM [--tls-key PEM] [--handshake-ms N]]   (HTTPS, in builds with TLS)
// KIND: base (BaseHTTPServerTestCase), logging (RequestHandlerLoggingTestCase), echo, cgi.
// cgi: a CGIRequestHandler whose class attributes come from the command line:
//     cgihttp_test_server cgi --directory DIR [--protocol V] [--cgi-timeout-ms N]
//         [--max-cgi N] [--cgi-queue-ms N] [--pass-through] [--exit-grace-ms N]
// Prints "PORT <n>" once listening on 127.0.0.1; stops on SIGINT or SIGTERM.
#include <cgihttp/handler.hpp>

#include <asio/signal_set.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>

namespace {

std::string latin1_to_utf8(std::string_view latin1) {
    std::string out;
    for (const char c : latin1) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xC0 | (u >> 6));
            out += static_cast<char>(0x80 | (u & 0x3F));
        }
    }
    return out;
}

/// Python's BaseHTTPServerTestCase.request_handler.
struct base_handler : cgihttp::BaseRequestHandler<base_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::string_view default_request_version = "HTTP/1.1";

    void do_TEST() {
        send_response(204);
        send_header("Content-Type", "text/html");
        send_header("Connection", "close");
        end_headers();
    }
    void do_KEEP() {
        send_response(204);
        send_header("Content-Type", "text/html");
        send_header("Connection", "keep-alive");
        end_headers();
    }
    void do_KEYERROR() { send_error(999); }
    void do_NOTFOUND() { send_error(404); }
    void do_EXPLAINERROR() { send_error(999, "Short Message", "This is a long \n explanation"); }
    void do_CUSTOM() {
        send_response(999);
        send_header("Content-Type", "text/html");
        send_header("Connection", "close");
        end_headers();
    }
    void do_LATINONEHEADER() {
        send_response(999);
        send_header("X-Special", "D\xe4ngerous Mind"); // latin-1, as Python sends it
        send_header("Connection", "close");
        end_headers();
        wfile().write(latin1_to_utf8(headers.get("x-special-incoming", "")));
    }
    void do_SEND_ERROR() { send_error(std::atoi(path.c_str() + 1)); }
    void do_HEAD() { send_error(std::atoi(path.c_str() + 1)); }
    void log_message(std::string_view) {}

    static auto extra_methods() {
        using m = cgihttp::method_entry<base_handler>;
        return std::array{m{"TEST", &base_handler::do_TEST},
                          m{"KEEP", &base_handler::do_KEEP},
                          m{"KEYERROR", &base_handler::do_KEYERROR},
                          m{"NOTFOUND", &base_handler::do_NOTFOUND},
                          m{"EXPLAINERROR", &base_handler::do_EXPLAINERROR},
                          m{"CUSTOM", &base_handler::do_CUSTOM},
                          m{"LATINONEHEADER", &base_handler::do_LATINONEHEADER},
                          m{"SEND_ERROR", &base_handler::do_SEND_ERROR}};
    }
};

/// Python's RequestHandlerLoggingTestCase.request_handler (logs to stderr).
struct logging_handler : cgihttp::BaseRequestHandler<logging_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::string_view default_request_version = "HTTP/1.1";

    void do_GET() {
        send_response(200);
        end_headers();
    }
    void do_ERROR() { send_error(404, "File not found"); }

    static auto extra_methods() {
        return std::array{
            cgihttp::method_entry<logging_handler>{"ERROR", &logging_handler::do_ERROR}};
    }
};

/// Echoes the path (GET) or the body (POST); for keep-alive, framing and timeout tests.
struct echo_handler : cgihttp::BaseRequestHandler<echo_handler> {
    std::string_view protocol_version = "HTTP/1.0";
    std::uint64_t max_request_body = 0; // --max-body

    void do_GET() { reply(path); }
    void do_POST() { reply(rfile().read()); }
    /// Answers without a Content-Length: only closing the connection can end the body.
    void do_UNFRAMED() {
        send_response(200);
        end_headers();
        wfile().write("no length\n");
    }
    static auto extra_methods() {
        return std::array{
            cgihttp::method_entry<echo_handler>{"UNFRAMED", &echo_handler::do_UNFRAMED}};
    }

private:
    void reply(const std::string& body) {
        send_response(200);
        send_header("Content-Type", "application/octet-stream");
        send_header("Content-Length", body.size());
        end_headers();
        wfile().write(body);
    }
};

/// A CGI gateway whose attributes are data members, set from the command line.
struct cgi_handler : cgihttp::CGIRequestHandler<cgi_handler> {
    std::string_view protocol_version = "HTTP/1.0";
    std::chrono::milliseconds cgi_timeout{60000};
    std::chrono::milliseconds cgi_exit_grace{2000};
    std::size_t max_cgi_processes = 64;
    std::chrono::milliseconds cgi_queue_timeout{10000};
    bool cgi_parse_headers = true;
    std::uint64_t max_request_body = 0; // --max-body
};

/// What the cgi (and echo) kinds take from the command line.
struct cgi_settings {
    std::string directory;
    std::chrono::milliseconds timeout{60000};
    std::chrono::milliseconds exit_grace{2000};
    std::size_t max_processes = 64;
    std::chrono::milliseconds queue_timeout{10000};
    bool pass_through = false;
    std::uint64_t max_body = 0; ///< max_request_body
};

template <class Handler>
int serve(const cgihttp::server_options& options, const std::string& protocol,
          const cgi_settings& cgi = {}) {
    cgihttp::server<Handler> server(options, [&] {
        Handler handler;
        if constexpr (std::is_same_v<Handler, echo_handler>) {
            handler.protocol_version = protocol;
            handler.max_request_body = cgi.max_body;
        }
        if constexpr (std::is_same_v<Handler, cgi_handler>) {
            handler.protocol_version = protocol;
            handler.directory = cgi.directory;
            handler.cgi_timeout = cgi.timeout;
            handler.cgi_exit_grace = cgi.exit_grace;
            handler.max_cgi_processes = cgi.max_processes;
            handler.cgi_queue_timeout = cgi.queue_timeout;
            handler.cgi_parse_headers = !cgi.pass_through;
            handler.max_request_body = cgi.max_body;
        }
        return handler;
    });
    asio::signal_set signals(server.context(), SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int) {
        if (!ec) server.shutdown();
    });
    std::printf("PORT %u\n", server.server_port());
    std::fflush(stdout);
    server.serve_forever();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s base|logging|echo|cgi [options]\n", argv[0]);
        return 2;
    }
    const std::string kind = argv[1];
    cgihttp::server_options options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    std::string protocol = "HTTP/1.0";
    std::string tls_cert, tls_key;
    cgi_settings cgi;
    for (int i = 2; i < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--pass-through") { // the only flag without a value
            cgi.pass_through = true;
            --i;
            continue;
        }
        if (i + 1 >= argc) break;
        const std::chrono::milliseconds ms(std::atol(argv[i + 1]));
        if (flag == "--protocol")
            protocol = argv[i + 1];
        else if (flag == "--keepalive-ms")
            options.keepalive_timeout = ms;
        else if (flag == "--header-ms")
            options.header_timeout = ms;
        else if (flag == "--io-ms")
            options.io_timeout = ms;
        else if (flag == "--max-connections")
            options.max_connections = static_cast<std::size_t>(std::atol(argv[i + 1]));
        else if (flag == "--threads")
            options.threads = static_cast<std::size_t>(std::atol(argv[i + 1]));
        else if (flag == "--directory")
            cgi.directory = argv[i + 1];
        else if (flag == "--cgi-timeout-ms")
            cgi.timeout = ms;
        else if (flag == "--exit-grace-ms")
            cgi.exit_grace = ms;
        else if (flag == "--max-cgi")
            cgi.max_processes = static_cast<std::size_t>(std::atol(argv[i + 1]));
        else if (flag == "--cgi-queue-ms")
            cgi.queue_timeout = ms;
        else if (flag == "--max-body")
            cgi.max_body = static_cast<std::uint64_t>(std::atoll(argv[i + 1]));
        else if (flag == "--handshake-ms")
            options.handshake_timeout = ms;
        else if (flag == "--tls-cert")
            tls_cert = argv[i + 1];
        else if (flag == "--tls-key")
            tls_key = argv[i + 1];
    }
    if (!tls_cert.empty()) {
#if defined(CGIHTTP_ENABLE_TLS) && CGIHTTP_ENABLE_TLS
        options.tls = cgihttp::tls_context::from_files(tls_cert, tls_key);
#else
        std::fprintf(stderr, "built without TLS\n");
        return 2;
#endif
    }
    if (kind == "base") return serve<base_handler>(options, protocol);
    if (kind == "logging") return serve<logging_handler>(options, protocol);
    if (kind == "echo") return serve<echo_handler>(options, protocol, cgi);
    if (kind == "cgi") return serve<cgi_handler>(options, protocol, cgi);
    std::fprintf(stderr, "unknown kind %s\n", kind.c_str());
    return 2;
}
