// consumer.cpp - a program that has only single_include/ (plus Asio) on its include path:
// proves the generated header is self-contained and works.
#include <cgihttp/handler.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace {

/// A minimal stream of the synchronous stream concept, as a vendoring user would write.
struct string_stream {
    std::string input;
    std::size_t pos = 0;
    std::string output;

    std::size_t read_some(asio::mutable_buffer b, std::error_code& ec) {
        if (pos == input.size()) {
            ec = asio::error::eof;
            return 0;
        }
        const std::size_t n = input.copy(static_cast<char*>(b.data()), b.size(), pos);
        pos += n;
        return n;
    }
    std::size_t write_some(asio::const_buffer b, std::error_code&) {
        output.append(static_cast<const char*>(b.data()), b.size());
        return b.size();
    }
};

struct handler : cgihttp::BaseRequestHandler<handler> {
    void do_GET() {
        send_response(200);
        send_header("Content-Length", 2);
        end_headers();
        wfile().write("ok");
    }
    void log_message(std::string_view) {}
};

} // namespace

int main() {
    string_stream stream;
    stream.input = "GET / HTTP/1.0\r\n\r\n";
    handler h;
    h.handle(stream);
    const bool ok = stream.output.rfind("HTTP/1.0 200 OK\r\n", 0) == 0 &&
                    stream.output.size() > 2 &&
                    stream.output.compare(stream.output.size() - 2, 2, "ok") == 0;
#if defined(CGIHTTP_ENABLE_TLS)
    // The TLS part is there and links: a context with the library's settings.
    const auto tls = std::make_shared<cgihttp::tls_context>(cgihttp::default_server_tls_settings());
    std::fputs(tls ? "(with TLS) " : "", stdout);
#endif
    std::puts(ok ? "single header consumer: ok" : stream.output.c_str());
    return ok ? 0 : 1;
}
