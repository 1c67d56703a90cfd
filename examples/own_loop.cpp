// own_loop.cpp - a user-supplied server loop: a plain blocking accept loop that hands each
// connected socket to a handler's handle(). cgihttp's handlers work over any connected
// stream; the library's own server loop is optional.
#include <cgihttp/handler.hpp>

#include <asio/ip/tcp.hpp>

#include <cstdio>
#include <cstdlib>

struct echo_path_handler : cgihttp::BaseRequestHandler<echo_path_handler> {
    static constexpr std::chrono::milliseconds timeout{10000}; // per read or write

    void do_GET() {
        const std::string body = "You asked for " + path + "\n";
        send_response(200);
        send_header("Content-Type", "text/plain; charset=utf-8");
        send_header("Content-Length", body.size());
        end_headers();
        wfile().write(body);
    }
};

int main(int argc, char** argv) {
    asio::io_context io;
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8081);
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
    std::printf("own_loop on port %u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    const long max_connections = argc > 2 ? std::atol(argv[2]) : -1; // for tests: then exit
    for (long served = 0; max_connections < 0 || served < max_connections; ++served) {
        asio::ip::tcp::socket socket(io);
        acceptor.accept(socket);
        // Serves every request of the connection, then returns. One connection at a time
        // keeps the example short; a thread per connection would serve them concurrently.
        echo_path_handler handler;
        handler.handle(socket);
    }
}
