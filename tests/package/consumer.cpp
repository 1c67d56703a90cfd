// consumer.cpp - a user's program built against cgihttp through CMake (find_package or
// add_subdirectory) or pkg-config; answers one request over an in-memory stream.
#include <cgihttp/handler.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <cstdio>

struct handler : cgihttp::BaseRequestHandler<handler> {
    void do_GET() {
        send_response(200);
        send_header("Content-Length", 2);
        end_headers();
        wfile().write("ok");
    }
    void log_message(std::string_view) {}
};

int main() {
    cgihttp::testing::memory_stream stream("GET / HTTP/1.0\r\n\r\n");
    handler h;
    h.handle(stream);
    const bool ok = stream.output().rfind("HTTP/1.0 200 OK\r\n", 0) == 0;
    std::puts(ok ? "package consumer: ok" : stream.output().c_str());
    return ok ? 0 : 1;
}
