// https_server.cpp - cgihttp embedded as an HTTPS server: files, listings and CGI scripts
// of the current directory over TLS, plus one page of the program's own.
//     https_server CERT.pem KEY.pem [PORT]
// Prints "https_server: serving https://127.0.0.1:PORT/" once listening on 127.0.0.1.
#include <cgihttp/handler.hpp>

#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

struct handler : cgihttp::CGIRequestHandler<handler> {
    std::string_view protocol_version = "HTTP/1.1";

    /// /whoami answers from the program itself; every other path as the CGI server does.
    void do_GET() {
        if (path != "/whoami") {
            CGIRequestHandler::do_GET();
            return;
        }
        const std::string body = "Hello " + client_address.host + ", this is " + server->scheme +
                                 "://" + server->server_name + ":" +
                                 std::to_string(server->server_port) + "\n";
        send_response(200);
        send_header("Content-Type", "text/plain; charset=utf-8");
        send_header("Content-Length", std::to_string(body.size()));
        end_headers();
        wfile().write(body);
    }
};

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s CERT.pem KEY.pem [PORT]\n", argv[0]);
        return 2;
    }
    cgihttp::server_options options;
    options.bind_address = "127.0.0.1";
    options.port = static_cast<unsigned short>(argc > 3 ? std::atoi(argv[3]) : 8443);
    try {
        options.tls = cgihttp::tls_context::from_files(argv[1], argv[2]);
        cgihttp::server<handler> server(options);
        std::printf("https_server: serving https://127.0.0.1:%u/\n", server.server_port());
        std::fflush(stdout);
        asio::signal_set signals(server.context(), SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code ec, int) {
            if (!ec) server.shutdown();
        });
        server.serve_forever();
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "https_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
