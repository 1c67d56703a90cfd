// Unit tests of BaseRequestHandler beyond the port of Python's own tests: request-line and
// header validation, message framing, connection management, Expect: 100-continue, method
// dispatch, class attributes, send_error()/send_header(), logging, rfile() and keep-alive.
// Where Python 3.11 has the same behaviour, expected bytes were produced by running
// http.server.BaseHTTPRequestHandler over BytesIO with the same handler logic (protocol
// HTTP/1.1, default_request_version HTTP/1.0, Date "DATE", Server "SRV").
#include "test_support.hpp"

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <functional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using test_support::parse_response;
using test_support::parse_responses;
using test_support::run_request;
using namespace std::chrono_literals;

/// Answers with `body` and a Content-Length (no body for HEAD).
template <class H>
void reply(H& h, std::string_view body, int code = 200) {
    h.send_response(code);
    h.send_header("Content-Length", std::uint64_t(body.size()));
    h.end_headers();
    if (h.command != "HEAD") h.wfile().write(body);
}

/// A quiet handler whose GET, HEAD, POST and PUT run `respond` (default: 200 "ok"). Date and
/// Server are fixed, so whole responses can be compared.
template <class Derived>
struct scripted_handler : cgihttp::BaseRequestHandler<Derived> {
    std::function<void(Derived&)> respond = [](Derived& h) { reply(h, "ok"); };
    int calls = 0;
    std::vector<std::string> paths;

    void do_GET() { serve(); }
    void do_HEAD() { serve(); }
    void do_POST() { serve(); }
    void do_PUT() { serve(); }
    void serve() {
        Derived& self = static_cast<Derived&>(*this);
        ++calls;
        paths.push_back(self.path);
        respond(self);
    }
    std::string date_time_string(std::optional<std::time_t> = std::nullopt) { return "DATE"; }
    std::string version_string() { return "SRV"; }
    /// Log messages are kept here instead of going to stderr.
    std::vector<std::string> logged;
    void log_message(std::string_view message) { logged.emplace_back(message); }

    /// True when a logged message contains `text`.
    bool logged_text(std::string_view text) const {
        for (const std::string& line : logged)
            if (line.find(text) != std::string::npos) return true;
        return false;
    }
};

/// The usual test handler; its protocol_version is a data member, so a test can change it.
struct handler : scripted_handler<handler> {
    std::string_view protocol_version = "HTTP/1.1";
};

struct limited_handler : scripted_handler<limited_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::uint64_t max_request_body = 10;
};

struct python_default : scripted_handler<python_default> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::string_view default_request_version = "HTTP/0.9";
};

struct small_discard : scripted_handler<small_discard> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::uint64_t max_discarded_body = 4;
};

struct small_head : scripted_handler<small_head> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr std::size_t max_request_head = 100;
};

struct with_sys : cgihttp::BaseRequestHandler<with_sys> {
    static constexpr std::string_view sys_version = "Python/3.11.7";
    void do_GET() { reply(*this, "ok"); }
    void log_message(std::string_view) {}
};

/// Echoes the request body it reads through rfile().
void echo_body(handler& h) {
    reply(h, h.rfile().read());
}

const std::string ok_response =
    "HTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nContent-Length: 2\r\n\r\nok";

/// The status line of the only response in `out`.
std::string status_of(const std::string& out) {
    return parse_response(out).status_line;
}

/// Runs one request on a fresh `handler` and returns its status line.
std::string status_for(std::string request) {
    handler h;
    return status_of(run_request(h, std::move(request)));
}

/// The handler of the parity test: the same logic as the Python handler that produced the
/// expected bytes.
struct parity_handler : cgihttp::BaseRequestHandler<parity_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    void do_GET() {
        const bool numeric =
            path.size() > 1 && path.find_first_not_of("0123456789", 1) == std::string::npos;
        if (path == "/esc") {
            send_error(400, "<b>&'\"", "<i>x</i>");
        } else if (path == "/999r") {
            send_response(999);
            send_header("Content-Length", "0");
            end_headers();
        } else if (numeric) {
            send_error(std::stoi(path.substr(1)));
        } else {
            send_response(200);
            send_header("Content-Length", "2");
            end_headers();
            wfile().write("ok");
        }
    }
    void do_HEAD() { do_GET(); }
    std::string date_time_string(std::optional<std::time_t> = std::nullopt) { return "DATE"; }
    std::string version_string() { return "SRV"; }
    void log_message(std::string_view) {}
};

struct python_exchange {
    std::string_view request;
    std::string_view response;
};

/// Generated by running Python 3.11.7's BaseHTTPRequestHandler (see parity_handler), with
/// one deliberate difference: the answer to an HTTP/1.0 request announces the close
/// (RFC 9112 9.6), which Python leaves out.
const python_exchange python_exchanges[] = {
    {"GET / HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nContent-Length: 2\r\n\r\nok"},
    {"GET / HTTP/1.0\r\n\r\n",
     "HTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nContent-Length: 2\r\nConnection: "
     "close\r\n\r\nok"},
    {"GET / HTTP/0.9\r\n\r\n", "ok"},
    {"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nContent-Length: "
     "2\r\n\r\nok"},
    {"GET / HTTP/1\r\n\r\n",
     "HTTP/1.1 400 Bad request version ('HTTP/1')\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 362\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 400</p>\n        <p>Message: Bad request version ('HTTP/1').</p>\n        "
     "<p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    "
     "</body>\n</html>\n"},
    {"GET / HTTP/1.1.1\r\n\r\n",
     "HTTP/1.1 400 Bad request version ('HTTP/1.1.1')\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 366\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 400</p>\n        <p>Message: Bad request version ('HTTP/1.1.1').</p>\n    "
     "    <p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    "
     "</body>\n</html>\n"},
    {"GET / HTTP/2.0\r\n\r\n",
     "HTTP/1.1 505 Invalid HTTP version (2.0)\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 340\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 505</p>\n        <p>Message: Invalid HTTP version (2.0).</p>\n        "
     "<p>Error code explanation: 505 - Cannot fulfill request.</p>\n    </body>\n</html>\n"},
    {"GET / HTTP/10.1\r\n\r\n",
     "HTTP/1.1 505 Invalid HTTP version (10.1)\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 341\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 505</p>\n        <p>Message: Invalid HTTP version (10.1).</p>\n        "
     "<p>Error code explanation: 505 - Cannot fulfill request.</p>\n    </body>\n</html>\n"},
    {"GET\r\n\r\n",
     "HTTP/1.1 400 Bad request syntax ('GET')\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 358\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 400</p>\n        <p>Message: Bad request syntax ('GET').</p>\n        "
     "<p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    "
     "</body>\n</html>\n"},
    {"GET / x HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 Bad request syntax ('GET / x HTTP/1.1')\r\nServer: SRV\r\nDate: "
     "DATE\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: "
     "371\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta "
     "charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        "
     "<h1>Error response</h1>\n        <p>Error code: 400</p>\n        <p>Message: Bad request "
     "syntax ('GET / x HTTP/1.1').</p>\n        <p>Error code explanation: 400 - Bad request "
     "syntax or unsupported method.</p>\n    </body>\n</html>\n"},
    {"POST /\r\n\r\n",
     "HTTP/1.1 400 Bad HTTP/0.9 request type ('POST')\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 366\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 400</p>\n        <p>Message: Bad HTTP/0.9 request type ('POST').</p>\n    "
     "    <p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    "
     "</body>\n</html>\n"},
    {"FOO / HTTP/1.1\r\n\r\n",
     "HTTP/1.1 501 Unsupported method ('FOO')\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 356\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 501</p>\n        <p>Message: Unsupported method ('FOO').</p>\n        "
     "<p>Error code explanation: 501 - Server does not support this operation.</p>\n    "
     "</body>\n</html>\n"},
    {"<script>alert('x')</script> / HTTP/1.1\r\n\r\n",
     "HTTP/1.1 501 Unsupported method (\"<script>alert('x')</script>\")\r\nServer: SRV\r\nDate: "
     "DATE\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: "
     "392\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta "
     "charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        "
     "<h1>Error response</h1>\n        <p>Error code: 501</p>\n        <p>Message: Unsupported "
     "method (\"&lt;script&gt;alert('x')&lt;/script&gt;\").</p>\n        <p>Error code "
     "explanation: 501 - Server does not support this operation.</p>\n    </body>\n</html>\n"},
    {"GET /404 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\nContent-Type: "
     "text/html;charset=utf-8\r\nContent-Length: 330\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n  "
     "  <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    "
     "</head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 404</p>\n       "
     " <p>Message: Not Found.</p>\n        <p>Error code explanation: 404 - Nothing matches the "
     "given URI.</p>\n    </body>\n</html>\n"},
    {"HEAD /404 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\nContent-Type: "
     "text/html;charset=utf-8\r\nContent-Length: 330\r\n\r\n"},
    {"GET /999 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 999 ???\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\nContent-Type: "
     "text/html;charset=utf-8\r\nContent-Length: 298\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n  "
     "  <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    "
     "</head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 999</p>\n       "
     " <p>Message: ???.</p>\n        <p>Error code explanation: 999 - ???.</p>\n    "
     "</body>\n</html>\n"},
    {"GET /999r HTTP/1.1\r\n\r\n",
     "HTTP/1.1 999 \r\nServer: SRV\r\nDate: DATE\r\nContent-Length: 0\r\n\r\n"},
    {"GET /esc HTTP/1.1\r\n\r\n",
     "HTTP/1.1 400 <b>&'\"\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\nContent-Type: "
     "text/html;charset=utf-8\r\nContent-Length: 328\r\n\r\n<!DOCTYPE HTML>\n<html lang=\"en\">\n  "
     "  <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    "
     "</head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 400</p>\n       "
     " <p>Message: &lt;b&gt;&amp;'\".</p>\n        <p>Error code explanation: 400 - "
     "&lt;i&gt;x&lt;/i&gt;.</p>\n    </body>\n</html>\n"},
    {"GET /100 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 100 Continue\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"GET /101 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 101 Switching Protocols\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"GET /204 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 204 No Content\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"GET /205 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 205 Reset Content\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"GET /304 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 304 Not Modified\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"HEAD /200 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\nContent-Type: "
     "text/html;charset=utf-8\r\nContent-Length: 329\r\n\r\n"},
    {"HEAD /204 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 204 No Content\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"},
    {"GET /500 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 500 Internal Server Error\r\nServer: SRV\r\nDate: DATE\r\nConnection: "
     "close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 341\r\n\r\n<!DOCTYPE "
     "HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        "
     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n    "
     "    <p>Error code: 500</p>\n        <p>Message: Internal Server Error.</p>\n        <p>Error "
     "code explanation: 500 - Server got itself in trouble.</p>\n    </body>\n</html>\n"},
};

} // namespace

TEST_SUITE("BaseRequestHandler") {

    TEST_CASE("Responses match Python 3.11 byte for byte") {
        for (const python_exchange& exchange : python_exchanges) {
            CAPTURE(exchange.request);
            parity_handler h;
            CHECK(run_request(h, std::string(exchange.request)) == exchange.response);
        }
    }

    // ---- Request line ----

    TEST_CASE("A malformed HTTP version is refused with 400 Bad request version as in Python") {
        const std::pair<std::string_view, std::string_view> cases[] = {
            {"GET / HTTP/1", "HTTP/1.1 400 Bad request version ('HTTP/1')"},
            {"GET / HTTP/1.1.1", "HTTP/1.1 400 Bad request version ('HTTP/1.1.1')"},
            {"GET / HTTP/-1.+1", "HTTP/1.1 400 Bad request version ('HTTP/-1.+1')"},
            {"GET / HTTP/1_1.1", "HTTP/1.1 400 Bad request version ('HTTP/1_1.1')"},
            {"GET / HTTP/12345678901.1", "HTTP/1.1 400 Bad request version ('HTTP/12345678901.1')"},
            {"GET / HTTP/1.12345678901", "HTTP/1.1 400 Bad request version ('HTTP/1.12345678901')"},
            {"GET / http/1.1", "HTTP/1.1 400 Bad request version ('http/1.1')"},
            {"GET / HTTP/1.1 extra", "HTTP/1.1 400 Bad request version ('extra')"},
        };
        for (const auto& [line, status] : cases) {
            CAPTURE(line);
            handler h;
            const auto r = parse_response(run_request(h, std::string(line) + "\r\n\r\n"));
            CHECK(r.status_line == status);
            CHECK(r.field("Connection") == "close");
            CHECK(h.calls == 0);
            CHECK(h.close_connection);
        }
    }

    TEST_CASE("HTTP/2.0 and later are refused with 505 Invalid HTTP version as in Python") {
        CHECK(status_for("GET / HTTP/2.0\r\n\r\n") == "HTTP/1.1 505 Invalid HTTP version (2.0)");
        CHECK(status_for("GET / HTTP/10.1\r\n\r\n") == "HTTP/1.1 505 Invalid HTTP version (10.1)");
        CHECK(status_for("GET / HTTP/1234567890.1\r\n\r\n") ==
              "HTTP/1.1 505 Invalid HTTP version (1234567890.1)");
    }

    TEST_CASE("A request line of one word or of four or more words is bad syntax") {
        CHECK(status_for("GET\r\n\r\n") == "HTTP/1.1 400 Bad request syntax ('GET')");
        CHECK(status_for("GET / x HTTP/1.1\r\n\r\n") ==
              "HTTP/1.1 400 Bad request syntax ('GET / x HTTP/1.1')");
        CHECK(status_for("GET / x y HTTP/1.0\r\n\r\n") ==
              "HTTP/1.1 400 Bad request syntax ('GET / x y HTTP/1.0')");
        CHECK(status_for("A'B\r\n\r\n") == "HTTP/1.1 400 Bad request syntax (\"A'B\")");
        CHECK(status_for("GET / x\"' HTTP/1.1\r\n\r\n") ==
              "HTTP/1.1 400 Bad request syntax ('GET / x\"\\' HTTP/1.1')");
    }

    TEST_CASE("A two-word request line other than GET is a bad HTTP/0.9 request") {
        handler h;
        const auto r = parse_response(run_request(h, "POST /\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 Bad HTTP/0.9 request type ('POST')");
        CHECK(h.calls == 0);
        CHECK(status_for("HEAD /\r\n") == "HTTP/1.1 400 Bad HTTP/0.9 request type ('HEAD')");
    }

    TEST_CASE("A default_request_version of HTTP/0.9 answers malformed lines without a head") {
        // Python's default: the error page alone, as an HTTP/0.9 response.
        python_default h;
        const std::string out = run_request(h, "POST /\r\n\r\n");
        CHECK(out.rfind("<!DOCTYPE HTML>", 0) == 0);
        CHECK(out.find("Bad HTTP/0.9 request type ('POST')") != std::string::npos);
    }

    TEST_CASE("An HTTP/0.9 simple request is answered with the body only") {
        handler h;
        CHECK(run_request(h, "GET /x\r\n") == "ok");
        CHECK(h.calls == 1);
        CHECK(h.command == "GET");
        CHECK(h.path == "/x");
        CHECK(h.request_version == "HTTP/0.9");
        CHECK(h.request_version_number() == cgihttp::http_version{0, 9});
        CHECK(h.headers.empty());
        CHECK(h.close_connection);

        // Even when more follows: a simple request has no header section.
        handler again;
        CHECK(run_request(again, "GET /y\r\nHost: x\r\n\r\n", true) == "ok");
        CHECK(again.calls == 1);
    }

    TEST_CASE("Leading slashes of the path collapse to one") {
        const std::pair<std::string_view, std::string_view> cases[] = {
            {"GET //x HTTP/1.1\r\n\r\n", "/x"},      {"GET /// HTTP/1.1\r\n\r\n", "/"},
            {"GET // HTTP/1.1\r\n\r\n", "/"},        {"GET ///a//b HTTP/1.1\r\n\r\n", "/a//b"},
            {"GET /a//b HTTP/1.1\r\n\r\n", "/a//b"}, {"GET //x\r\n", "/x"},
        };
        for (const auto& [request, path] : cases) {
            CAPTURE(request);
            handler h;
            run_request(h, std::string(request));
            CHECK(h.path == path);
            CHECK(h.paths == std::vector<std::string>{std::string(path)});
        }
    }

    TEST_CASE("Empty lines before the request line are ignored") {
        handler h;
        CHECK(run_request(h, "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n") == ok_response);
        CHECK(h.calls == 1);
        CHECK(h.requestline == "GET / HTTP/1.1");
        CHECK_FALSE(h.close_connection);
    }

    TEST_CASE("A whitespace-only request line closes the connection silently") {
        handler h;
        CHECK(run_request(h, " \t \r\nGET / HTTP/1.1\r\n\r\n", true).empty());
        CHECK(h.calls == 0);
        CHECK(h.close_connection);
    }

    TEST_CASE("An empty connection gets no answer") {
        handler h;
        CHECK(run_request(h, "", true).empty());
        CHECK(h.close_connection);
        handler blank;
        CHECK(run_request(blank, "\r\n\r\n", true).empty());
        CHECK(blank.calls == 0);
    }

    // ---- Header section ----

    TEST_CASE("Malformed header lines are refused with 400") {
        using namespace std::string_view_literals;
        for (const std::string_view line : {"NoColon"sv, "Name : value"sv, "Bad Name: value"sv,
                                            ": value"sv, "X: a\0b"sv, "X: a\rb"sv}) {
            CAPTURE(line);
            handler h;
            const auto r = parse_response(
                run_request(h, "GET / HTTP/1.1\r\nHost: x\r\n" + std::string(line) + "\r\n\r\n"));
            CHECK(r.status_line.rfind("HTTP/1.1 400 Bad header line (", 0) == 0);
            CHECK(r.field("Connection") == "close");
            CHECK(h.calls == 0);
        }
        CHECK(status_for("GET / HTTP/1.1\r\nNoColon\r\n\r\n") ==
              "HTTP/1.1 400 Bad header line ('NoColon')");
        CHECK(status_for(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26)) ==
              "HTTP/1.1 400 Bad header line ('X: a\\x00b')");
    }

    TEST_CASE("An obs-fold continuation line is refused with 400") {
        handler h;
        const auto r = parse_response(run_request(h, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 Obsolete line folding is not accepted (' b')");
        CHECK(h.calls == 0);
        CHECK(status_for("GET / HTTP/1.1\r\n\tfolded\r\n\r\n") ==
              "HTTP/1.1 400 Obsolete line folding is not accepted ('\\tfolded')");
    }

    TEST_CASE("Header fields are kept in order with repeats") {
        handler h;
        run_request(h, "GET / HTTP/1.1\r\nAccept: a\r\nHost: example.com\r\naccept:b\r\n"
                       "X-Empty:\r\nACCEPT:  c  \r\n\r\n");
        REQUIRE(h.calls == 1);
        CHECK(h.headers.size() == 5);
        CHECK(h.headers.get("accept") == std::optional<std::string_view>("a"));
        CHECK(h.headers.get_all("Accept") == std::vector<std::string_view>{"a", "b", "c"});
        CHECK(h.headers.get("HOST") == std::optional<std::string_view>("example.com"));
        CHECK(h.headers.get("X-Empty") == std::optional<std::string_view>(""));
        CHECK_FALSE(h.headers.contains("Missing"));
        std::vector<std::string> names;
        for (const auto& f : h.headers)
            names.emplace_back(f.name);
        CHECK(names == std::vector<std::string>{"Accept", "Host", "accept", "X-Empty", "ACCEPT"});
    }

    TEST_CASE("Header fields of one request do not leak into the next") {
        handler h;
        std::vector<std::size_t> sizes;
        std::vector<bool> has_first;
        h.respond = [&](handler& x) {
            sizes.push_back(x.headers.size());
            has_first.push_back(x.headers.contains("X-First"));
            reply(x, "ok");
        };
        run_request(
            h, "GET /a HTTP/1.1\r\nX-First: 1\r\n\r\nGET /b HTTP/1.1\r\nX-Second: 2\r\n\r\n", true);
        CHECK(h.calls == 2);
        CHECK(sizes == std::vector<std::size_t>{1, 1});
        CHECK(has_first == std::vector<bool>{true, false});
    }

    // ---- Framing of the request body ----

    TEST_CASE("Content-Length together with Transfer-Encoding is refused with 400") {
        handler h;
        const auto r = parse_response(run_request(
            h, "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 Both Content-Length and Transfer-Encoding");
        CHECK(r.field("Connection") == "close");
        CHECK(h.calls == 0);
    }

    TEST_CASE("Two different Content-Length values are refused with 400") {
        handler h;
        const auto r = parse_response(run_request(
            h, "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"));
        CHECK(r.status_line == "HTTP/1.1 400 Bad Content-Length");
        CHECK(h.calls == 0);
    }

    TEST_CASE("A Content-Length list of identical values is accepted") {
        handler h;
        h.respond = echo_body;
        const auto r =
            parse_response(run_request(h, "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello"));
        CHECK(r.status_line == "HTTP/1.1 200 OK");
        CHECK(r.body == "hello");
    }

    TEST_CASE("A non-numeric Content-Length is refused with 400") {
        for (const std::string_view value : {"abc", "-1", "+5", "0x5", "", "5 5"}) {
            CAPTURE(value);
            handler h;
            CHECK(status_of(
                      run_request(h, "POST / HTTP/1.1\r\nContent-Length: " + std::string(value) +
                                         "\r\n\r\n")) == "HTTP/1.1 400 Bad Content-Length");
            CHECK(h.calls == 0);
        }
    }

    TEST_CASE("Transfer-Encoding: chunked, identity is refused with 400") {
        CHECK(status_for("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n") ==
              "HTTP/1.1 400 Bad Transfer-Encoding");
    }

    TEST_CASE("Transfer-Encoding: gzip, chunked is refused with 501") {
        handler h;
        const auto r = parse_response(
            run_request(h, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 501 Unsupported Transfer-Encoding");
        CHECK(r.field("Connection") == "close");
        CHECK(h.calls == 0);
    }

    TEST_CASE("Transfer-Encoding in an HTTP/1.0 request is refused with 400") {
        CHECK(status_for("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
              "HTTP/1.1 400 Transfer-Encoding in an HTTP/1.0 request");
    }

    TEST_CASE("A Content-Length over max_request_body is refused with 413") {
        limited_handler h;
        const auto r = parse_response(
            run_request(h, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"));
        CHECK(r.status_line == "HTTP/1.1 413 Request body too large");
        CHECK(r.field("Connection") == "close");
        CHECK(h.calls == 0);

        limited_handler fits;
        fits.respond = [](limited_handler& x) { reply(x, x.rfile().read()); };
        const auto ok = parse_response(
            run_request(fits, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello worl"));
        CHECK(ok.status_line == "HTTP/1.1 200 OK");
        CHECK(ok.body == "hello worl");
    }

    TEST_CASE("A chunked body over max_request_body is refused with 413") {
        limited_handler h;
        h.respond = [](limited_handler& x) { reply(x, x.rfile().read()); };
        const auto r =
            parse_response(run_request(h, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 413 Request body too large");
        CHECK(r.field("Connection") == "close");
        CHECK(h.close_connection);
    }

    TEST_CASE("A malformed chunked body read by the handler is answered with 400") {
        handler h;
        h.respond = echo_body;
        const auto r = parse_response(
            run_request(h, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 Bad chunked encoding");
        CHECK(h.close_connection);
    }

    // ---- Connection management ----

    TEST_CASE("An HTTP/1.1 request to an HTTP/1.1 handler keeps the connection alive") {
        handler h;
        const auto r = parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 200 OK");
        CHECK_FALSE(r.field("Connection").has_value());
        CHECK_FALSE(h.close_connection);
    }

    TEST_CASE("An HTTP/1.0 request closes unless it asks for keep-alive from HTTP/1.1") {
        // The answer is an HTTP/1.1 response, persistent by default to the client reading
        // it (curl does), so the close is announced.
        handler plain;
        const auto closed = parse_response(run_request(plain, "GET / HTTP/1.0\r\n\r\n"));
        CHECK(closed.status_line == "HTTP/1.1 200 OK");
        CHECK(closed.field("Connection") == "close");
        CHECK(plain.close_connection);

        handler keep;
        const auto kept =
            parse_response(run_request(keep, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        CHECK_FALSE(kept.field("Connection").has_value());
        CHECK_FALSE(keep.close_connection);

        handler old;
        old.protocol_version = "HTTP/1.0";
        run_request(old, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        CHECK(old.close_connection);
    }

    TEST_CASE("An HTTP/0.9 answer always closes: it has no head to delimit it") {
        handler h;
        const std::string out = run_request(
            h, "GET / HTTP/0.9\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.1\r\n\r\n", true);
        CHECK(out == "ok");
        CHECK(h.close_connection);
    }

    TEST_CASE("The response is sent even when the client sends less body than it declared") {
        // A socket would block waiting for the missing body; this stream records what the
        // client had received when the server started waiting.
        struct stalling_stream : cgihttp::testing::memory_stream {
            using memory_stream::memory_stream;
            std::string received_before_stall;
            std::size_t read_some(asio::mutable_buffer buffer, std::error_code& ec) {
                if (unread() == 0) received_before_stall = output();
                return memory_stream::read_some(buffer, ec);
            }
        };
        stalling_stream stream("GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
        auto ref = cgihttp::make_stream_ref(stream);
        handler h; // do_GET answers without reading the body; the unread rest is drained
        h.attach(ref, {"127.0.0.1", 1337}, nullptr);
        h.handle();
        CHECK(stream.received_before_stall == ok_response);
        CHECK(h.close_connection);
    }

    TEST_CASE("Connection: close closes an HTTP/1.1 connection") {
        for (const std::string_view value : {"close", "Close", "CLOSE"}) {
            CAPTURE(value);
            handler h;
            run_request(h, "GET / HTTP/1.1\r\nConnection: " + std::string(value) + "\r\n\r\n");
            CHECK(h.close_connection);
        }
    }

    TEST_CASE("Connection is read as a list of tokens") {
        handler upgrade;
        run_request(upgrade, "GET / HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\n\r\n");
        CHECK_FALSE(upgrade.close_connection);

        handler te_close;
        run_request(te_close, "GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n");
        CHECK(te_close.close_connection);

        handler not_close;
        run_request(not_close, "GET / HTTP/1.1\r\nConnection: closed, x-close\r\n\r\n");
        CHECK_FALSE(not_close.close_connection);
    }

    TEST_CASE("A close token in any Connection field closes the connection") {
        handler h;
        run_request(h, "GET / HTTP/1.1\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n");
        CHECK(h.close_connection);
    }

    TEST_CASE("A protocol_version of HTTP/1.0 always closes") {
        handler h;
        h.protocol_version = "HTTP/1.0";
        const auto r =
            parse_response(run_request(h, "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.0 200 OK");
        CHECK(h.close_connection);
    }

    TEST_CASE("A response without Content-Length closes even an HTTP/1.1 connection, and says so") {
        handler h;
        h.respond = [](handler& x) {
            x.send_response(200);
            x.end_headers();
            x.wfile().write("until close");
        };
        const std::string out =
            run_request(h, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", true);
        // RFC 9112 9.6: the response announces the close (Python's does not).
        CHECK(out == "HTTP/1.1 200 OK\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n"
                     "until close");
        CHECK(h.calls == 1);
        CHECK(h.close_connection);
    }

    TEST_CASE("Responses that cannot have a body keep the connection without Content-Length") {
        for (const int code : {204, 304}) {
            CAPTURE(code);
            handler h;
            h.respond = [code](handler& x) {
                x.send_response(code);
                x.end_headers();
            };
            run_request(h, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", true);
            CHECK(h.calls == 2);
        }
        handler head;
        head.respond = [](handler& x) {
            x.send_response(200);
            x.end_headers();
        };
        run_request(head, "HEAD /a HTTP/1.1\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n", true);
        CHECK(head.calls == 2);

        handler chunked;
        chunked.respond = [](handler& x) {
            x.send_response(200);
            x.send_header("Transfer-Encoding", "chunked");
            x.end_headers();
            x.wfile().write("2\r\nok\r\n0\r\n\r\n");
        };
        run_request(chunked, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", true);
        CHECK(chunked.calls == 2);
    }

    TEST_CASE("Pipelined requests are answered in order") {
        handler h;
        h.respond = [](handler& x) { reply(x, x.path); };
        const std::string input =
            "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /c HTTP/1.1\r\nConnection: close\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
        for (const std::size_t max_read : {std::size_t(-1), std::size_t(7)}) {
            CAPTURE(max_read);
            h.calls = 0;
            const auto responses = parse_responses(run_request(h, input, true, max_read));
            REQUIRE(responses.size() == 3);
            CHECK(responses[0].body == "/a");
            CHECK(responses[1].body == "/b");
            CHECK(responses[2].body == "/c");
            CHECK(h.calls == 3);
        }
    }

    TEST_CASE("After a keep-alive response an unread small body is discarded") {
        handler h;
        h.respond = [](handler& x) { reply(x, x.path); };
        const auto responses =
            parse_responses(run_request(h,
                                        "POST /first HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
                                        "PUT /second HTTP/1.1\r\nTransfer-Encoding: "
                                        "chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
                                        "GET /third HTTP/1.1\r\nConnection: close\r\n\r\n",
                                        true));
        REQUIRE(responses.size() == 3);
        CHECK(responses[0].body == "/first");
        CHECK(responses[1].body == "/second");
        CHECK(responses[2].body == "/third");
        CHECK(h.paths == std::vector<std::string>{"/first", "/second", "/third"});
    }

    TEST_CASE("An unread body larger than max_discarded_body closes the connection") {
        small_discard h;
        const auto responses = parse_responses(run_request(
            h, "POST /first HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /second HTTP/1.1\r\n\r\n",
            true));
        CHECK(responses.size() == 1);
        CHECK(h.calls == 1);
        CHECK(h.close_connection);

        small_discard fits;
        const auto both = parse_responses(run_request(
            fits,
            "POST /first HTTP/1.1\r\nContent-Length: 4\r\n\r\nhellGET /second HTTP/1.1\r\n\r\n",
            true));
        CHECK(both.size() == 2);
        CHECK(fits.calls == 2);
    }

    TEST_CASE("A response written before a malformed unread body is found still goes out") {
        handler h;
        const std::string out =
            run_request(h, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", true);
        CHECK(out == ok_response);
        CHECK(h.close_connection);
    }

    TEST_CASE("A response written before the handler throws still goes out") {
        handler h;
        h.respond = [](handler& x) {
            reply(x, "ok");
            throw std::runtime_error("after the response");
        };
        const std::string out = run_request(h, "GET / HTTP/1.1\r\n\r\n");
        CHECK(out == ok_response);
        CHECK(h.close_connection);
    }

    // ---- Expect: 100-continue ----

    TEST_CASE("Expect: 100-continue is answered for HTTP/1.1 requests to an HTTP/1.1 handler") {
        handler h;
        const std::string out = run_request(h, "GET / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n");
        CHECK(out == "HTTP/1.1 100 Continue\r\n\r\n" + ok_response);
    }

    TEST_CASE("Expect: 100-continue is ignored for HTTP/1.0 requests or an HTTP/1.0 handler") {
        handler old_request;
        CHECK(parse_response(
                  run_request(old_request, "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"))
                  .status_line == "HTTP/1.1 200 OK");

        handler old_handler;
        old_handler.protocol_version = "HTTP/1.0";
        const std::string out =
            run_request(old_handler, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        CHECK(out.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);

        handler other;
        CHECK(run_request(other, "GET / HTTP/1.1\r\nExpect: something-else\r\n\r\n") ==
              ok_response);
    }

    TEST_CASE("The 100 Continue reaches the stream before the body is read") {
        const std::string head =
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
        cgihttp::testing::memory_stream stream(head + "hello", head.size());
        auto ref = cgihttp::make_stream_ref(stream);
        handler h;
        std::string output_before_body;
        std::size_t writes_before_body = 99;
        h.respond = [&](handler& x) {
            output_before_body = stream.output();
            writes_before_body = stream.write_count();
            reply(x, x.rfile().read());
        };
        h.attach(ref, {"127.0.0.1", 1337}, nullptr);
        h.handle_one_request();
        // The body was not in the first read: the 100 went out before waiting for it...
        CHECK(output_before_body.empty());
        CHECK(writes_before_body == 0);
        CHECK(stream.output() == "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: SRV\r\n"
                                 "Date: DATE\r\nContent-Length: 5\r\n\r\nhello");
        // ...in a write of its own, before the response.
        CHECK(stream.write_count() == 2);
    }

    TEST_CASE("A handler that writes nothing after 100 Continue still gets a 500") {
        handler h;
        h.respond = [](handler&) {};
        const auto responses =
            parse_responses(run_request(h, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
        REQUIRE(responses.size() == 2);
        CHECK(responses[0].status_line == "HTTP/1.1 100 Continue");
        CHECK(responses[1].status_line == "HTTP/1.1 500 Handler sent no response");
        CHECK(h.close_connection);
    }

    TEST_CASE("An error found after 100 Continue is still answered with a final response") {
        const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                 "Expect: 100-continue\r\n\r\n";
        limited_handler h;
        h.respond = [](limited_handler& x) { reply(x, x.rfile().read()); };
        const std::string out =
            run_request(h, head + "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", false, head.size());
        CHECK(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
        const auto responses = parse_responses(out);
        REQUIRE(responses.size() == 2);
        CHECK(responses[1].status_line == "HTTP/1.1 413 Request body too large");
        CHECK(h.close_connection);
    }

    // ---- Dispatch ----

    struct all_methods : cgihttp::BaseRequestHandler<all_methods> {
        static constexpr std::string_view protocol_version = "HTTP/1.1";
        std::vector<std::string> called;
        void record(std::string_view name) {
            called.emplace_back(name);
            send_response(204);
            end_headers();
        }
        void do_GET() { record("GET"); }
        void do_HEAD() { record("HEAD"); }
        void do_POST() { record("POST"); }
        void do_PUT() { record("PUT"); }
        void do_DELETE() { record("DELETE"); }
        void do_CONNECT() { record("CONNECT"); }
        void do_OPTIONS() { record("OPTIONS"); }
        void do_TRACE() { record("TRACE"); }
        void do_PATCH() { record("PATCH"); }
        void do_PROPFIND() { record("PROPFIND"); }
        void do_PROPPATCH() { record("PROPPATCH"); }
        void do_MKCOL() { record("MKCOL"); }
        void do_COPY() { record("COPY"); }
        void do_MOVE() { record("MOVE"); }
        void do_LOCK() { record("LOCK"); }
        void do_UNLOCK() { record("UNLOCK"); }
        void log_message(std::string_view) {}
    };

    TEST_CASE("Standard methods are dispatched to do_<METHOD> automatically") {
        for (const std::string_view method :
             {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
              "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"}) {
            CAPTURE(method);
            all_methods h;
            const std::string out = run_request(h, std::string(method) + " / HTTP/1.1\r\n\r\n");
            CHECK(h.called == std::vector<std::string>{std::string(method)});
            CHECK(status_of(out) == "HTTP/1.1 204 No Content");
        }
    }

    TEST_CASE("A standard method the handler does not define is 501") {
        handler h; // GET, HEAD, POST and PUT only
        CHECK(status_of(run_request(h, "DELETE / HTTP/1.1\r\n\r\n")) ==
              "HTTP/1.1 501 Unsupported method ('DELETE')");
        CHECK(h.calls == 0);
    }

    struct extra_handler : scripted_handler<extra_handler> {
        static constexpr std::string_view protocol_version = "HTTP/1.1";
        std::vector<std::string> called;
        void do_TEST() {
            called.emplace_back("TEST");
            reply(*this, "test");
        }
        void do_CUSTOM() {
            called.emplace_back("CUSTOM");
            reply(*this, "custom");
        }
        static std::array<cgihttp::method_entry<extra_handler>, 2> extra_methods() {
            return {{{"TEST", &extra_handler::do_TEST}, {"CUSTOM", &extra_handler::do_CUSTOM}}};
        }
    };

    TEST_CASE("Methods listed in extra_methods() are dispatched") {
        extra_handler h;
        CHECK(parse_response(run_request(h, "TEST / HTTP/1.1\r\n\r\n")).body == "test");
        CHECK(parse_response(run_request(h, "CUSTOM / HTTP/1.1\r\n\r\n")).body == "custom");
        CHECK(parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n")).body == "ok");
        CHECK(h.called == std::vector<std::string>{"TEST", "CUSTOM"});
        // Method names are case-sensitive.
        CHECK(status_of(run_request(h, "test / HTTP/1.1\r\n\r\n")) ==
              "HTTP/1.1 501 Unsupported method ('test')");
    }

    TEST_CASE("An unknown method is answered with 501 Unsupported method") {
        handler h;
        const auto r = parse_response(run_request(h, "FOO / HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 501 Unsupported method ('FOO')");
        CHECK(r.field("Connection") == "close");
        CHECK(r.body.find("Message: Unsupported method ('FOO').") != std::string::npos);
        CHECK(h.calls == 0);
        CHECK(h.close_connection);
    }

    // ---- Class attributes ----

    /// Checks a handler whose attributes are protocol HTTP/1.1, server "Static/1.0", sys
    /// "Sys/2", error format "E %(code)d %(message)s %(explain)s" and type "text/plain".
    template <class H>
    void check_redefined_attributes(H & h) {
        const std::string ok = run_request(h, "GET /ok HTTP/1.1\r\n\r\n");
        const auto r = parse_response(ok);
        CHECK(r.status_line == "HTTP/1.1 200 OK");
        CHECK(r.field("Server") == "Static/1.0 Sys/2");
        CHECK_FALSE(h.close_connection); // HTTP/1.1 keeps alive
        CHECK(h.version_string() == "Static/1.0 Sys/2");

        const auto e = parse_response(run_request(h, "GET /error HTTP/1.1\r\n\r\n"));
        CHECK(e.status_line == "HTTP/1.1 404 nf");
        CHECK(e.field("Content-Type") == "text/plain");
        CHECK(e.body == "E 404 nf Nothing matches the given URI");
        CHECK(e.field("Content-Length") == std::to_string(e.body.size()));
    }

    template <class H>
    void serve_attribute_test(H & h) {
        if (h.path == "/error")
            h.send_error(404, "nf");
        else
            reply(h, "ok");
    }

    struct static_attributes : cgihttp::BaseRequestHandler<static_attributes> {
        static constexpr std::string_view protocol_version = "HTTP/1.1";
        static constexpr std::string_view server_version = "Static/1.0";
        static constexpr std::string_view sys_version = "Sys/2";
        static constexpr std::string_view error_message_format =
            "E %(code)d %(message)s %(explain)s";
        static constexpr std::string_view error_content_type = "text/plain";
        void do_GET() { serve_attribute_test(*this); }
        void log_message(std::string_view) {}
    };

    struct member_attributes : cgihttp::BaseRequestHandler<member_attributes> {
        std::string_view protocol_version = "HTTP/1.1";
        std::string server_version = "Static/1.0";
        std::string_view sys_version = "Sys/2";
        std::string error_message_format = "E %(code)d %(message)s %(explain)s";
        std::string_view error_content_type = "text/plain";
        void do_GET() { serve_attribute_test(*this); }
        void log_message(std::string_view) {}
    };

    struct function_attributes : cgihttp::BaseRequestHandler<function_attributes> {
        std::string_view protocol_version() const { return "HTTP/1.1"; }
        static std::string_view server_version() { return "Static/1.0"; }
        std::string_view sys_version() { return "Sys/2"; }
        const std::string& error_message_format() const { return format_; }
        std::string_view error_content_type() const { return "text/plain"; }
        void do_GET() { serve_attribute_test(*this); }
        void log_message(std::string_view) {}

    private:
        std::string format_ = "E %(code)d %(message)s %(explain)s";
    };

    TEST_CASE("Class attributes can be redefined as static members") {
        static_attributes h;
        check_redefined_attributes(h);
    }

    TEST_CASE("Class attributes can be redefined as data members") {
        member_attributes h;
        check_redefined_attributes(h);
        // Per instance, changeable at run time.
        h.server_version = "Changed/3";
        h.protocol_version = "HTTP/1.0";
        const auto r = parse_response(run_request(h, "GET /ok HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.0 200 OK");
        CHECK(r.field("Server") == "Changed/3 Sys/2");
        CHECK(h.close_connection);
    }

    TEST_CASE("Class attributes can be redefined as member functions") {
        function_attributes h;
        check_redefined_attributes(h);
    }

    TEST_CASE("version_string is server_version, plus sys_version when set") {
        struct plain : cgihttp::BaseRequestHandler<plain> {};
        plain p;
        CHECK(p.version_string() == "cgihttp/" CGIHTTP_VERSION_STRING);
        CHECK(p.version_string() == "cgihttp/0.1.0");

        with_sys s;
        CHECK(s.version_string() == "cgihttp/0.1.0 Python/3.11.7");
        const auto r = parse_response(run_request(s, "GET / HTTP/1.1\r\n\r\n"));
        CHECK(r.field("Server") == "cgihttp/0.1.0 Python/3.11.7");
        CHECK(r.count("Date") == 1);
    }

    // ---- send_header ----

    TEST_CASE("send_header refuses CR, LF or NUL in a value and a name that is not a token") {
        cgihttp::testing::memory_stream stream;
        auto ref = cgihttp::make_stream_ref(stream);
        handler h;
        h.attach(ref, {"127.0.0.1", 1337}, nullptr);
        h.request_version = "HTTP/1.1";
        using namespace std::string_view_literals;
        for (const std::string_view value :
             {"a\r\nInjected: 1"sv, "a\nb"sv, "a\rb"sv, "a\0b"sv, "\r\n"sv}) {
            CAPTURE(value);
            CHECK_THROWS_AS(h.send_header("X-Value", value), std::invalid_argument);
        }
        for (const std::string_view name :
             {"Bad Name"sv, ""sv, "X:"sv, "X\r\nY"sv, "X\0"sv, "Caf\xc3\xa9"sv, "(x)"sv}) {
            CAPTURE(name);
            CHECK_THROWS_AS(h.send_header(name, "v"), std::invalid_argument);
        }
        CHECK_NOTHROW(h.send_header("X-Ok", "tab\tand obs-text \xc3\xa9 allowed"));
        h.end_headers();
        h.wfile().flush();
        // Nothing of the refused lines was buffered.
        CHECK(stream.output() == "X-Ok: tab\tand obs-text \xc3\xa9 allowed\r\n\r\n");
    }

    TEST_CASE("send_header with a number writes it in decimal") {
        cgihttp::testing::memory_stream stream;
        auto ref = cgihttp::make_stream_ref(stream);
        handler h;
        h.attach(ref, {"127.0.0.1", 1337}, nullptr);
        h.request_version = "HTTP/1.1";
        h.send_header("Content-Length", std::uint64_t(0));
        h.send_header("X-Big", std::uint64_t(18446744073709551615ULL));
        h.end_headers();
        h.wfile().flush();
        CHECK(stream.output() == "Content-Length: 0\r\nX-Big: 18446744073709551615\r\n\r\n");
    }

    TEST_CASE("send_header of Connection sets close_connection") {
        handler keep;
        keep.respond = [](handler& x) {
            x.send_response(200);
            x.send_header("Connection", "close");
            x.send_header("Content-Length", "0");
            x.end_headers();
        };
        run_request(keep, "GET / HTTP/1.1\r\n\r\n");
        CHECK(keep.close_connection);

        handler reopen;
        reopen.respond = [](handler& x) {
            x.send_response(200);
            x.send_header("connection", "Keep-Alive");
            x.send_header("Content-Length", "0");
            x.end_headers();
        };
        run_request(reopen, "GET / HTTP/1.0\r\n\r\n");
        CHECK_FALSE(reopen.close_connection);
    }

    TEST_CASE("An exception from do_GET before any output is answered with 500") {
        handler h;
        h.respond = [](handler& x) {
            x.send_response(200);
            x.send_header("X-Injected", "a\r\nSet-Cookie: evil=1"); // throws
        };
        const std::string out =
            run_request(h, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", true);
        const auto r = parse_response(out);
        CHECK(r.status_line == "HTTP/1.1 500 Internal Server Error");
        CHECK(r.field("Connection") == "close");
        CHECK(r.field("Content-Length") == std::to_string(r.body.size()));
        CHECK(out.find("200 OK") == std::string::npos);
        CHECK(out.find("Set-Cookie") == std::string::npos);
        CHECK(h.calls == 1);
        CHECK(h.close_connection);
        CHECK(h.logged_text("Exception while handling the request: send_header"));
    }

    TEST_CASE("An exception is logged with its message") {
        struct logging : cgihttp::BaseRequestHandler<logging> {
            void do_GET() { throw std::runtime_error("boom"); }
        };
        logging h;
        test_support::stderr_capture capture;
        const std::string out = run_request(h, "GET / HTTP/1.1\r\n\r\n");
        const std::string err = capture.text();
        CHECK(status_of(out) == "HTTP/1.0 500 Internal Server Error");
        CHECK(err.find("Exception while handling the request: boom") != std::string::npos);
    }

    TEST_CASE("An http_error thrown by a handler is answered with its status") {
        handler h;
        h.respond = [](handler&) { throw cgihttp::http_error(403, "Go away", "Not for you"); };
        const auto r = parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 403 Go away");
        CHECK(r.body.find("403 - Not for you.") != std::string::npos);
        CHECK(h.close_connection);
    }

    TEST_CASE("A handler that writes nothing gets a 500") {
        handler h;
        h.respond = [](handler&) {};
        const auto r = parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 500 Handler sent no response");
        CHECK(r.field("Connection") == "close");
        CHECK(h.close_connection);
        CHECK(h.logged_text("The handler sent no response"));
    }

    // ---- send_error ----

    TEST_CASE("send_error on HEAD sends the error head without its body") {
        parity_handler h;
        const std::string out = run_request(h, "HEAD /404 HTTP/1.1\r\n\r\n");
        CHECK(out == "HTTP/1.1 404 Not Found\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n"
                     "Content-Type: text/html;charset=utf-8\r\nContent-Length: 330\r\n\r\n");
        // Python's test_head_via_send_error.
        for (const int code : {200, 204, 205, 304, 101}) {
            CAPTURE(code);
            parity_handler head;
            const auto r = parse_response(
                run_request(head, "HEAD /" + std::to_string(code) + " HTTP/1.1\r\n\r\n"), true);
            CHECK(r.status_line.rfind("HTTP/1.1 " + std::to_string(code) + " ", 0) == 0);
            if (code == 200) {
                REQUIRE(r.field("Content-Length").has_value());
                CHECK(std::stoi(*r.field("Content-Length")) > 0);
                CHECK(r.field("Content-Type")->find("text/html") != std::string::npos);
            } else {
                CHECK_FALSE(r.field("Content-Length").has_value());
                CHECK_FALSE(r.field("Content-Type").has_value());
            }
            CHECK_FALSE(r.field("Transfer-Encoding").has_value());
            CHECK(r.body.empty());
        }
    }

    TEST_CASE("send_error sends no body or entity headers for 1xx, 204, 205 and 304") {
        // Python's test_send_error.
        for (const int code : {100, 101, 102, 204, 205, 304}) {
            CAPTURE(code);
            parity_handler h;
            const std::string out =
                run_request(h, "GET /" + std::to_string(code) + " HTTP/1.1\r\n\r\n");
            CHECK(out == "HTTP/1.1 " + std::to_string(code) + " " +
                             std::string(cgihttp::reason_phrase(code)) +
                             "\r\nServer: SRV\r\nDate: DATE\r\nConnection: close\r\n\r\n");
        }
    }

    TEST_CASE("send_error's Content-Length is the length of its body") {
        for (const int code : {400, 403, 404, 418, 500, 503, 999}) {
            CAPTURE(code);
            parity_handler h;
            const std::string out =
                run_request(h, "GET /" + std::to_string(code) + " HTTP/1.1\r\n\r\n");
            const auto r = parse_response(out);
            REQUIRE(r.field("Content-Length").has_value());
            CHECK(std::stoul(*r.field("Content-Length")) == r.body.size());
            CHECK(r.body.rfind("<!DOCTYPE HTML>", 0) == 0);
            CHECK(r.body.find("Error code: " + std::to_string(code)) != std::string::npos);
        }
    }

    TEST_CASE("send_error escapes message and explanation in the page") {
        parity_handler h;
        const auto r = parse_response(run_request(h, "GET /esc HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 <b>&'\"");
        CHECK(r.body.find("<p>Message: &lt;b&gt;&amp;'\".</p>") != std::string::npos);
        CHECK(r.body.find("400 - &lt;i&gt;x&lt;/i&gt;.</p>") != std::string::npos);
        CHECK(r.body.find("<b>") == std::string::npos);
    }

    TEST_CASE("An unknown status code gets ??? as Python gives it") {
        parity_handler h;
        const auto r = parse_response(run_request(h, "GET /999 HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 999 ???");
        CHECK(r.body.find("<p>Message: ???.</p>") != std::string::npos);
        CHECK(r.body.find("Error code explanation: 999 - ???.") != std::string::npos);

        parity_handler plain;
        CHECK(status_of(run_request(plain, "GET /999r HTTP/1.1\r\n\r\n")) == "HTTP/1.1 999 ");
    }

    TEST_CASE("Control characters in a reason phrase are replaced by spaces") {
        handler h;
        h.respond = [](handler& x) {
            x.send_response(200, std::string_view("OK\r\nInjected: yes\0x\x7f\tend", 24));
            x.send_header("Content-Length", "0");
            x.end_headers();
        };
        const std::string out = run_request(h, "GET / HTTP/1.1\r\n\r\n");
        CHECK(out.find("\r\nInjected") == std::string::npos);
        CHECK(status_of(out) == "HTTP/1.1 200 OK  Injected: yes x \tend");

        handler e;
        e.respond = [](handler& x) {
            x.send_error(400, std::string_view("bad\r\nX: 1\x7f\tz", 12));
        };
        const auto r = parse_response(run_request(e, "GET / HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 400 bad  X: 1 \tz");
        CHECK_FALSE(r.field("X").has_value());
    }

    TEST_CASE("send_error in a simple request writes the page alone") {
        handler h;
        h.respond = [](handler& x) { x.send_error(404); };
        const std::string out = run_request(h, "GET /missing\r\n");
        CHECK(out.rfind("<!DOCTYPE HTML>", 0) == 0);
        CHECK(out.find("Error code: 404") != std::string::npos);
    }

    // ---- Logging ----

    struct logged_handler : cgihttp::BaseRequestHandler<logged_handler> {
        static constexpr std::string_view protocol_version = "HTTP/1.1";
        void do_GET() {
            if (path == "/missing")
                send_error(404);
            else
                reply(*this, "ok");
        }
    };

    TEST_CASE("Requests are logged to stderr in the common log format") {
        logged_handler h;
        test_support::stderr_capture capture;
        run_request(h, "GET / HTTP/1.1\r\n\r\n");
        const std::string err = capture.text();
        CHECK(
            std::regex_match(err, std::regex(R"(127\.0\.0\.1 - - \[\d{2}/(Jan|Feb|Mar|Apr|May|)"
                                             R"(Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4} )"
                                             R"(\d{2}:\d{2}:\d{2}\] "GET / HTTP/1\.1" 200 -\n)")));
    }

    TEST_CASE("send_error logs the code and message before the request line") {
        logged_handler h;
        test_support::stderr_capture capture;
        run_request(h, "GET /missing HTTP/1.1\r\n\r\n");
        const auto lines = test_support::readlines(capture.text());
        REQUIRE(lines.size() == 2);
        const std::string prefix = R"(127\.0\.0\.1 - - \[[^\]]+\] )";
        CHECK(std::regex_match(lines[0], std::regex(prefix + "code 404, message Not Found\n")));
        CHECK(
            std::regex_match(lines[1], std::regex(prefix + R"("GET /missing HTTP/1\.1" 404 -\n)")));
    }

    TEST_CASE("Logged request lines have control characters escaped") {
        // The target is refused (a control byte), and the log shows it escaped.
        logged_handler h;
        test_support::stderr_capture capture;
        run_request(h, "GET /\x1b[31m\\ HTTP/1.1\r\n\r\n");
        const std::string err = capture.text();
        CHECK(err.find('\x1b') == std::string::npos);
        CHECK(err.find(R"("GET /\x1b[31m\\ HTTP/1.1" 400 -)") != std::string::npos);
    }

    TEST_CASE("log_request shows a size when given one") {
        logged_handler h;
        h.client_address = {"10.0.0.1", 80};
        h.requestline = "GET /f HTTP/1.1";
        test_support::stderr_capture capture;
        h.log_request(200, 1234);
        h.log_error("plain error");
        const auto lines = test_support::readlines(capture.text());
        REQUIRE(lines.size() == 2);
        CHECK(lines[0].rfind("10.0.0.1 - - [", 0) == 0);
        CHECK(lines[0].find("] \"GET /f HTTP/1.1\" 200 1234\n") != std::string::npos);
        CHECK(lines[1].find("] plain error\n") != std::string::npos);
    }

    // ---- rfile() ----

    TEST_CASE("rfile reads a Content-Length body and nothing past it") {
        handler h;
        std::string extra = "unset";
        h.respond = [&](handler& x) {
            const std::string body = x.rfile().read();
            extra = x.rfile().read();
            reply(x, body);
        };
        const auto responses = parse_responses(run_request(
            h, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello worldGET /next HTTP/1.1\r\n\r\n",
            true));
        REQUIRE(responses.size() == 2);
        CHECK(responses[0].body == "hello world");
        CHECK(extra.empty());
        CHECK(h.paths == std::vector<std::string>{"/", "/next"});
    }

    TEST_CASE("rfile decodes a chunked body with extensions and trailers") {
        handler h;
        bool at_end = false;
        h.respond = [&](handler& x) {
            const std::string body = x.rfile().read();
            at_end = x.rfile().at_end() && x.rfile().read(10).empty();
            reply(x, body);
        };
        const auto responses =
            parse_responses(run_request(h,
                                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "5;name=value\r\nhello\r\n6;q=\"a b\"\r\n "
                                        "world\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n"
                                        "GET /next HTTP/1.1\r\n\r\n",
                                        true, 5));
        REQUIRE(responses.size() == 2);
        CHECK(responses[0].body == "hello world");
        CHECK(at_end);
        CHECK(h.calls == 2);
    }

    TEST_CASE("rfile readline reads the body line by line") {
        handler h;
        std::vector<std::string> lines;
        h.respond = [&](handler& x) {
            for (std::string line; !(line = x.rfile().readline()).empty();)
                lines.push_back(line);
            reply(x, "ok");
        };
        run_request(h, "POST / HTTP/1.1\r\nContent-Length: 13\r\n\r\nline1\nline2\nxGET");
        CHECK(lines == std::vector<std::string>{"line1\n", "line2\n", "x"});
    }

    TEST_CASE("rfile is empty for a request without a body") {
        handler h;
        std::string body = "unset";
        h.respond = [&](handler& x) {
            body = x.rfile().read();
            reply(x, "ok");
        };
        run_request(h, "GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
        CHECK(body.empty());
    }

    TEST_CASE("A body cut short by the client closes the connection without an answer") {
        handler h;
        h.respond = echo_body;
        const std::string out =
            run_request(h, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort", true);
        CHECK(out.empty());
        CHECK(h.close_connection);
        CHECK(h.logged_text("Connection error: "));
    }

    TEST_CASE("A handler out of descriptors, processes or memory answers 503 and logs it") {
        for (const int error : {EMFILE, ENFILE, EAGAIN, ENOMEM, ENOSPC}) {
            CAPTURE(error);
            handler h;
            h.respond = [&](handler&) {
                throw std::system_error(error, std::system_category(), "opening x");
            };
            const auto r = parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n"));
            CHECK(r.status_line == "HTTP/1.1 503 Server out of resources");
            CHECK(h.close_connection);
            CHECK(h.logged_text("Out of resources: opening x: "));
        }
        // Asio's own system category counts too.
        handler h;
        h.respond = [](handler&) {
            throw std::system_error(asio::error::no_descriptors, "accept");
        };
        CHECK(parse_response(run_request(h, "GET / HTTP/1.1\r\n\r\n")).status_line ==
              "HTTP/1.1 503 Server out of resources");
    }

    TEST_CASE("Other system errors are a lost connection: no answer") {
        handler h;
        h.respond = [](handler&) {
            throw std::system_error(ECONNRESET, std::system_category(), "read");
        };
        CHECK(run_request(h, "GET / HTTP/1.1\r\n\r\n").empty());
        CHECK(h.close_connection);
        CHECK(h.logged_text("Connection error: read: "));
    }

    // ---- Limits ----

    TEST_CASE("A request line over 65536 bytes is refused with 414") {
        handler h;
        const auto r =
            parse_response(run_request(h, "GET /" + std::string(65536, 'x') + " HTTP/1.1\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 414 Request-URI Too Long");
        CHECK(h.requestline.empty());
        CHECK(h.calls == 0);

        // 65536 bytes with the line end are fine.
        handler fits;
        const std::string path = "/" + std::string(65536 - 16, 'x');
        run_request(fits, "GET " + path + " HTTP/1.1\r\n\r\n");
        CHECK(fits.calls == 1);
        CHECK(fits.path == path);
    }

    TEST_CASE("A header line over 65536 bytes is refused with 431 Line too long") {
        handler h;
        const auto r = parse_response(
            run_request(h, "GET / HTTP/1.1\r\nX-Foo: " + std::string(65536, 'r') + "\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 431 Line too long");
        CHECK(r.body.find("got more than 65536 bytes when reading header line") !=
              std::string::npos);
        CHECK(h.calls == 0);

        handler fits;
        run_request(fits, "GET / HTTP/1.1\r\nX-Foo: " + std::string(65536 - 9, 'r') + "\r\n\r\n");
        CHECK(fits.calls == 1);
    }

    TEST_CASE("99 header fields are accepted and 100 are refused with 431 Too many headers") {
        std::string head = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 99; ++i)
            head += "X-Field: " + std::to_string(i) + "\r\n";
        handler ok;
        run_request(ok, head + "\r\n");
        CHECK(ok.calls == 1);
        CHECK(ok.headers.size() == 99);

        handler h;
        const auto r = parse_response(run_request(h, head + "X-Field: 99\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 431 Too many headers");
        CHECK(r.body.find("got more than 100 headers") != std::string::npos);
        CHECK(h.calls == 0);
    }

    TEST_CASE("A head over max_request_head is refused with 431") {
        // 16 bytes of request line, 5 + n of field line, 2 of empty line.
        small_head fits;
        run_request(fits, "GET / HTTP/1.1\r\nX: " + std::string(77, 'v') + "\r\n\r\n");
        CHECK(fits.calls == 1);

        small_head h;
        const auto r = parse_response(
            run_request(h, "GET / HTTP/1.1\r\nX: " + std::string(78, 'v') + "\r\n\r\n"));
        CHECK(r.status_line == "HTTP/1.1 431 Request header fields too large");
        CHECK(h.calls == 0);

        // The default limit stops three header lines of 60000 bytes.
        handler big;
        std::string head = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 3; ++i)
            head += "X: " + std::string(60000, 'v') + "\r\n";
        CHECK(status_of(run_request(big, head + "\r\n")) ==
              "HTTP/1.1 431 Request header fields too large");
    }

    // ---- handle() on a real socket ----

    struct timed_handler : cgihttp::BaseRequestHandler<timed_handler> {
        static constexpr std::string_view protocol_version = "HTTP/1.1";
        static constexpr std::chrono::milliseconds timeout{50};
        void do_GET() { reply(*this, "ok"); }
    };

    TEST_CASE("handle() serves a TCP socket, takes the peer address and times out reads") {
        asio::io_context io;
        asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
        asio::ip::tcp::socket client(io);
        client.connect(acceptor.local_endpoint());
        asio::ip::tcp::socket server = acceptor.accept();

        asio::write(client,
                    asio::buffer(std::string_view("GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n")));
        timed_handler h;
        test_support::stderr_capture capture;
        const auto start = std::chrono::steady_clock::now();
        h.handle(server);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        const std::string err = capture.text();

        CHECK(h.client_address.host == "127.0.0.1");
        CHECK(h.client_address.port == client.local_endpoint().port());
        CHECK(elapsed >= 40ms);
        CHECK(elapsed < 5s);
        CHECK(err.find("Request timed out") != std::string::npos);
        CHECK(h.close_connection);

        client.shutdown(asio::ip::tcp::socket::shutdown_send);
        server.close();
        std::string received;
        std::error_code ec;
        asio::read(client, asio::dynamic_buffer(received), ec);
        CHECK(ec == asio::error::eof);
        CHECK(parse_responses(received).size() == 1);
        CHECK(parse_responses(received)[0].body == "ok");
    }

} // TEST_SUITE
