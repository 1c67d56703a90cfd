// hello_handler.cpp - the smallest useful cgihttp program: a handler with do_GET, served by
// the default server loop on port 8080 (or the port given as the first argument).
#include <cgihttp/handler.hpp>

#include <cstdlib>
#include <string>

struct hello_handler : cgihttp::BaseRequestHandler<hello_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1"; // keep-alive

    void do_GET() {
        const std::string page = "<!DOCTYPE html><title>Hello</title><p>Hello from " + path + "\n";
        send_response(200);
        send_header("Content-Type", "text/html; charset=utf-8");
        send_header("Content-Length", page.size());
        end_headers();
        wfile().write(page);
    }
};

int main(int argc, char** argv) {
    cgihttp::server_options options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    cgihttp::server<hello_handler> server(options);
    std::printf("hello_handler on port %u\n", server.server_port());
    std::fflush(stdout);
    server.serve_forever();
}
