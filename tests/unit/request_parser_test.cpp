// Unit tests of cgihttp/request_parser.hpp: HTTP versions, request lines, header lines, body
// framing and the head scanner. Expected values for request lines follow Python 3.11's
// BaseHTTPRequestHandler.parse_request() (checked with python3 over BytesIO).
#include <cgihttp/request_parser.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

using cgihttp::body_framing_kind;
using cgihttp::header_line_kind;
using cgihttp::http_version;
using cgihttp::request_line_error;

cgihttp::headers
make_headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    cgihttp::headers h;
    for (const auto& f : fields)
        h.add(f.first, f.second);
    return h;
}

constexpr http_version v10{1, 0};
constexpr http_version v11{1, 1};

} // namespace

TEST_SUITE("request_parser") {

    TEST_CASE("The parser limits are Python's http.client limits") {
        CHECK(cgihttp::max_line_length == 65536);
        CHECK(cgihttp::max_header_count == 100);
        CHECK(cgihttp::default_max_request_head > cgihttp::max_line_length);
    }

    TEST_CASE("http_version compares by major then minor number") {
        CHECK(http_version{1, 0} < http_version{1, 1});
        CHECK(http_version{0, 9} < http_version{1, 0});
        CHECK(http_version{1, 10} < http_version{2, 0});
        CHECK_FALSE(http_version{2, 0} < http_version{1, 10});
        CHECK(http_version{1, 1} >= http_version{1, 1});
        CHECK_FALSE(http_version{1, 0} >= http_version{1, 1});
        CHECK(http_version{1, 1} == http_version{1, 1});
        CHECK_FALSE(http_version{1, 1} == http_version{1, 0});
        // A default version is the version of a simple request.
        CHECK(http_version{} == http_version{0, 9});
    }

    TEST_CASE("parse_http_version accepts HTTP/major.minor with digits only") {
        static_assert(cgihttp::parse_http_version("HTTP/1.1").has_value(), "usable in constexpr");
        CHECK(cgihttp::parse_http_version("HTTP/1.1") == std::optional<http_version>(v11));
        CHECK(cgihttp::parse_http_version("HTTP/1.0") == std::optional<http_version>(v10));
        CHECK(cgihttp::parse_http_version("HTTP/0.9") == std::optional<http_version>({0, 9}));
        // Leading zeros are ignored (RFC 2145), as Python's int() ignores them.
        CHECK(cgihttp::parse_http_version("HTTP/01.01") == std::optional<http_version>(v11));
        CHECK(cgihttp::parse_http_version("HTTP/2.0") == std::optional<http_version>({2, 0}));
        // Ten digits per number are accepted, as in Python.
        CHECK(cgihttp::parse_http_version("HTTP/1234567890.1") ==
              std::optional<http_version>({1234567890, 1}));
        CHECK(cgihttp::parse_http_version("HTTP/1.9999999999") ==
              std::optional<http_version>({1, 9999999999}));
    }

    TEST_CASE("parse_http_version refuses what Python 3.11 refuses") {
        for (const std::string_view word :
             {"HTTP/1", "HTTP/1.1.1", "HTTP/-1.+1", "HTTP/1_1.1", "HTTP/12345678901.1",
              "HTTP/1.12345678901", "http/1.1", "HTTP/.1", "HTTP/1.", "HTTP/ 1.1", "HTTP/1 .1",
              "HTTP/", "", "HTTP", "XHTTP/1.1", "HTTP/1.1 ", "HTTP/0x1.1", "HTTP/\xb2.1"}) {
            CAPTURE(word);
            CHECK_FALSE(cgihttp::parse_http_version(word).has_value());
        }
    }

    TEST_CASE("A request line is split into method, target and version") {
        const auto r = cgihttp::parse_request_line("GET /index.html?q=1 HTTP/1.1");
        CHECK(r.error == request_line_error::none);
        CHECK(r.command == "GET");
        CHECK(r.path == "/index.html?q=1");
        CHECK(r.version == "HTTP/1.1");
        CHECK(r.number == v11);
        CHECK(r.offending.empty());
    }

    TEST_CASE("Request line words are separated by runs of ASCII whitespace") {
        const auto r = cgihttp::parse_request_line("  PUT\t\t/x \v\f HTTP/1.0  ");
        CHECK(r.error == request_line_error::none);
        CHECK(r.command == "PUT");
        CHECK(r.path == "/x");
        CHECK(r.version == "HTTP/1.0");
        CHECK(r.number == v10);
    }

    TEST_CASE("Request line words are also separated by the ASCII separators \\x1c-\\x1f") {
        const auto r = cgihttp::parse_request_line("GET\x1c/\x1fHTTP/1.1");
        CHECK(r.error == request_line_error::none);
        CHECK(r.command == "GET");
        CHECK(r.path == "/");
        CHECK(r.version == "HTTP/1.1");
    }

    TEST_CASE("A request line of only whitespace is empty") {
        CHECK(cgihttp::parse_request_line("").error == request_line_error::empty);
        CHECK(cgihttp::parse_request_line(" \t ").error == request_line_error::empty);
        CHECK(cgihttp::parse_request_line("\r\n").error == request_line_error::empty);
    }

    TEST_CASE("A simple request is GET and a target, version 0.9") {
        const auto r = cgihttp::parse_request_line("GET /x");
        CHECK(r.error == request_line_error::none);
        CHECK(r.command == "GET");
        CHECK(r.path == "/x");
        CHECK(r.version.empty());
        CHECK(r.number == http_version{0, 9});
    }

    TEST_CASE("A two-word request line with another method is a bad simple request") {
        for (const std::string_view method : {"POST", "HEAD", "get"}) {
            const std::string line = std::string(method) + " /";
            const auto r = cgihttp::parse_request_line(line);
            CAPTURE(line);
            CHECK(r.error == request_line_error::bad_simple_request);
            CHECK(r.offending == method);
            CHECK(r.command == method);
        }
    }

    TEST_CASE("The last word of three or more is checked as the version first") {
        auto r = cgihttp::parse_request_line("GET / HTTP/1");
        CHECK(r.error == request_line_error::bad_version);
        CHECK(r.offending == "HTTP/1");

        // Python looks at words[-1] before counting the words.
        r = cgihttp::parse_request_line("GET / HTTP/1.1 extra");
        CHECK(r.error == request_line_error::bad_version);
        CHECK(r.offending == "extra");

        r = cgihttp::parse_request_line("GET / HTTP/2.0 x");
        CHECK(r.error == request_line_error::bad_version);
        CHECK(r.offending == "x");
    }

    TEST_CASE("Versions 2.0 and above are unsupported, reported by their number") {
        for (const auto& [line, number] :
             {std::pair<std::string_view, std::string_view>{"GET / HTTP/2.0", "2.0"},
              {"GET / HTTP/10.1", "10.1"},
              {"GET / HTTP/1234567890.1", "1234567890.1"}}) {
            CAPTURE(line);
            const auto r = cgihttp::parse_request_line(line);
            CHECK(r.error == request_line_error::unsupported_version);
            CHECK(r.offending == number);
            // Python keeps its default request version for a 505.
            CHECK(r.version.empty());
        }
    }

    TEST_CASE("One word, or four words with a valid version, is bad syntax") {
        auto r = cgihttp::parse_request_line("GET");
        CHECK(r.error == request_line_error::bad_syntax);

        r = cgihttp::parse_request_line("GET / x HTTP/1.1");
        CHECK(r.error == request_line_error::bad_syntax);
        // The version is known even though the line is refused (Python sets it too).
        CHECK(r.version == "HTTP/1.1");
        CHECK(r.number == v11);

        r = cgihttp::parse_request_line("GET / x y HTTP/1.0");
        CHECK(r.error == request_line_error::bad_syntax);
        CHECK(r.version == "HTTP/1.0");
    }

    TEST_CASE("A target holding a control byte is bad syntax") {
        for (const std::string_view line :
             {std::string_view("GET /a\0b HTTP/1.1", 17),
              std::string_view("GET /a\x01"
                               "b HTTP/1.1"),
              std::string_view("GET /a\x7f HTTP/1.0"), std::string_view("GET /\x1b[31m")}) {
            CAPTURE(line);
            CHECK(cgihttp::parse_request_line(line).error == request_line_error::bad_syntax);
        }
        CHECK(cgihttp::parse_request_line("GET /caf\xc3\xa9 HTTP/1.1").error ==
              request_line_error::none);
    }

    TEST_CASE("Two words never look at a version") {
        const auto r = cgihttp::parse_request_line("GET HTTP/2.0");
        CHECK(r.error == request_line_error::none);
        CHECK(r.path == "HTTP/2.0");
        CHECK(r.version.empty());
    }

    TEST_CASE("strip_line_terminator removes one LF and at most one CR before it") {
        CHECK(cgihttp::strip_line_terminator("a\r\n") == "a");
        CHECK(cgihttp::strip_line_terminator("a\n") == "a");
        CHECK(cgihttp::strip_line_terminator("a\r") == "a\r");
        CHECK(cgihttp::strip_line_terminator("a\r\r\n") == "a\r");
        CHECK(cgihttp::strip_line_terminator("a\n\n") == "a\n");
        CHECK(cgihttp::strip_line_terminator("\r\n") == "");
        CHECK(cgihttp::strip_line_terminator("") == "");
        CHECK(cgihttp::strip_line_terminator("abc") == "abc");
    }

    TEST_CASE("A header line is a token, a colon and a value without surrounding whitespace") {
        auto h = cgihttp::parse_header_line("Content-Type: text/html\r\n");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.name == "Content-Type");
        CHECK(h.value == "text/html");

        h = cgihttp::parse_header_line("X:value");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.name == "X");
        CHECK(h.value == "value");

        h = cgihttp::parse_header_line("X: \t a \t b \t \n");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.value == "a \t b");

        h = cgihttp::parse_header_line("Host: example.com:8080\r\n");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.value == "example.com:8080");

        h = cgihttp::parse_header_line("Empty:\r\n");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.name == "Empty");
        CHECK(h.value.empty());

        // obs-text (bytes 0x80-0xFF) is allowed in a value.
        h = cgihttp::parse_header_line("X-Name: caf\xc3\xa9\r\n");
        CHECK(h.kind == header_line_kind::field);
        CHECK(h.value == "caf\xc3\xa9");

        h = cgihttp::parse_header_line("!#$%&'*+-.^_`|~09azAZ: v");
        CHECK(h.kind == header_line_kind::field);
    }

    TEST_CASE("An empty header line ends the section") {
        CHECK(cgihttp::parse_header_line("\r\n").kind == header_line_kind::end);
        CHECK(cgihttp::parse_header_line("\n").kind == header_line_kind::end);
        CHECK(cgihttp::parse_header_line("").kind == header_line_kind::end);
    }

    TEST_CASE("A header line starting with whitespace is obsolete line folding") {
        CHECK(cgihttp::parse_header_line(" continued\r\n").kind == header_line_kind::obs_fold);
        CHECK(cgihttp::parse_header_line("\tcontinued\r\n").kind == header_line_kind::obs_fold);
        CHECK(cgihttp::parse_header_line(" Name: v\r\n").kind == header_line_kind::obs_fold);
    }

    TEST_CASE("Malformed header lines are recognised") {
        using namespace std::string_view_literals;
        for (const std::string_view line :
             {"NoColon\r\n"sv, "Name : value\r\n"sv, ": value\r\n"sv, "Na me: value\r\n"sv,
              "Name\t: value\r\n"sv, "N(a)me: value\r\n"sv, "X: a\0b\r\n"sv, "X: a\rb\r\n"sv,
              "X: a\r\r\n"sv, "X\0: v\r\n"sv, "Caf\xc3\xa9: v\r\n"sv, "\r: v\r\n"sv}) {
            CAPTURE(line);
            CHECK(cgihttp::parse_header_line(line).kind == header_line_kind::malformed);
        }
    }

    TEST_CASE("Without framing fields a request has no body") {
        const auto f = cgihttp::determine_body_framing(make_headers({{"Host", "x"}}), v11);
        CHECK(f.kind == body_framing_kind::none);
        CHECK(f.error_status == 0);
        CHECK(f.length == 0);
    }

    TEST_CASE("Content-Length gives a length-delimited body") {
        auto f = cgihttp::determine_body_framing(make_headers({{"Content-Length", "42"}}), v10);
        CHECK(f.error_status == 0);
        CHECK(f.kind == body_framing_kind::length);
        CHECK(f.length == 42);

        f = cgihttp::determine_body_framing(make_headers({{"content-length", "0"}}), v11);
        CHECK(f.error_status == 0);
        CHECK(f.kind == body_framing_kind::length);
        CHECK(f.length == 0);

        f = cgihttp::determine_body_framing(
            make_headers({{"Content-Length", "18446744073709551615"}}), v11);
        CHECK(f.error_status == 0); // fits in 64 bits; a body limit or timeout ends it
        CHECK(f.length == 18446744073709551615ULL);
        f = cgihttp::determine_body_framing(
            make_headers({{"Content-Length", "18446744073709551616"}}), v11);
        CHECK(f.error_status == 400); // overflows
    }

    TEST_CASE("Identical Content-Length values are accepted, differing ones refused") {
        auto f = cgihttp::determine_body_framing(make_headers({{"Content-Length", "5, 5"}}), v11);
        CHECK(f.error_status == 0);
        CHECK(f.kind == body_framing_kind::length);
        CHECK(f.length == 5);

        f = cgihttp::determine_body_framing(
            make_headers({{"Content-Length", "5"}, {"Content-Length", "5"}}), v11);
        CHECK(f.error_status == 0);
        CHECK(f.length == 5);

        f = cgihttp::determine_body_framing(make_headers({{"Content-Length", "5, 6"}}), v11);
        CHECK(f.error_status == 400);
        CHECK(f.error_message == "Bad Content-Length");

        f = cgihttp::determine_body_framing(
            make_headers({{"Content-Length", "5"}, {"Content-Length", "6"}}), v11);
        CHECK(f.error_status == 400);
        CHECK(f.error_message == "Bad Content-Length");
    }

    TEST_CASE("Malformed Content-Length values are refused") {
        for (const std::string_view value :
             {"", "abc", "-1", "+5", "0x10", "1 2", "5;", "1e3", " , ", "5, x", "５"}) {
            CAPTURE(value);
            const auto f =
                cgihttp::determine_body_framing(make_headers({{"Content-Length", value}}), v11);
            CHECK(f.error_status == 400);
            CHECK(f.error_message == "Bad Content-Length");
        }
    }

    TEST_CASE("Transfer-Encoding chunked gives a chunked body in HTTP/1.1") {
        for (const std::string_view value : {"chunked", "Chunked", " CHUNKED ", ", chunked"}) {
            CAPTURE(value);
            const auto f =
                cgihttp::determine_body_framing(make_headers({{"Transfer-Encoding", value}}), v11);
            CHECK(f.error_status == 0);
            CHECK(f.kind == body_framing_kind::chunked);
        }
    }

    TEST_CASE("Transfer-Encoding is refused in an HTTP/1.0 request") {
        const auto f =
            cgihttp::determine_body_framing(make_headers({{"Transfer-Encoding", "chunked"}}), v10);
        CHECK(f.error_status == 400);
        CHECK(f.error_message == "Transfer-Encoding in an HTTP/1.0 request");
    }

    TEST_CASE("Content-Length with Transfer-Encoding is refused") {
        auto f = cgihttp::determine_body_framing(
            make_headers({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}), v11);
        CHECK(f.error_status == 400);
        CHECK(f.error_message == "Both Content-Length and Transfer-Encoding");

        f = cgihttp::determine_body_framing(
            make_headers({{"Transfer-Encoding", "chunked"}, {"Content-Length", "x"}}), v11);
        CHECK(f.error_status == 400);
    }

    TEST_CASE("A coding list must end with a single chunked") {
        for (const std::string_view value :
             {"chunked, identity", "identity", "gzip", "chunked, chunked", "", " , "}) {
            CAPTURE(value);
            const auto f =
                cgihttp::determine_body_framing(make_headers({{"Transfer-Encoding", value}}), v11);
            CHECK(f.error_status == 400);
            CHECK(f.error_message == "Bad Transfer-Encoding");
        }
        // Two fields form one list.
        const auto f = cgihttp::determine_body_framing(
            make_headers({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}),
            v11);
        CHECK(f.error_status == 400);
    }

    TEST_CASE("Codings other than chunked are not implemented") {
        auto f = cgihttp::determine_body_framing(
            make_headers({{"Transfer-Encoding", "gzip, chunked"}}), v11);
        CHECK(f.error_status == 501);
        CHECK(f.error_message == "Unsupported Transfer-Encoding");

        f = cgihttp::determine_body_framing(
            make_headers({{"Transfer-Encoding", "gzip"}, {"transfer-encoding", "chunked"}}), v11);
        CHECK(f.error_status == 501);
    }

    TEST_CASE("head_scanner waits for the empty line that ends the head") {
        cgihttp::head_scanner scanner;
        std::string data = "GET / HTTP/1.1\r\n";
        CHECK_FALSE(scanner.complete(data));
        data += "Host: x\r\nAccept: */*";
        CHECK_FALSE(scanner.complete(data));
        data += "\r\n";
        CHECK_FALSE(scanner.complete(data));
        data += "\r";
        CHECK_FALSE(scanner.complete(data));
        data += "\n";
        CHECK(scanner.complete(data));
        // Once complete, it stays complete.
        CHECK(scanner.complete(data + "more"));
    }

    TEST_CASE("head_scanner accepts bare LF line ends") {
        cgihttp::head_scanner scanner;
        CHECK(scanner.complete("GET / HTTP/1.1\nHost: x\n\n"));
    }

    TEST_CASE("head_scanner completes a simple request after its one line") {
        cgihttp::head_scanner scanner;
        CHECK_FALSE(scanner.complete("GET /x"));
        CHECK(scanner.complete("GET /x\r\n"));
    }

    TEST_CASE("head_scanner completes a malformed or whitespace-only request line at once") {
        for (const std::string_view line :
             {"GET / HTTP/1\r\n", "GET\r\n", "POST /\r\n", "GET / HTTP/2.0\r\n", "  \r\n"}) {
            CAPTURE(line);
            cgihttp::head_scanner scanner;
            CHECK(scanner.complete(line));
        }
    }

    TEST_CASE("head_scanner skips empty lines before the request line") {
        cgihttp::head_scanner scanner;
        CHECK_FALSE(scanner.complete("\r\n\n\r\n"));
        CHECK_FALSE(scanner.complete("\r\n\n\r\nGET / HTTP/1.1\r\n"));
        CHECK(scanner.complete("\r\n\n\r\nGET / HTTP/1.1\r\n\r\n"));
    }

    TEST_CASE("head_scanner does not complete a head the handler would still wait for") {
        cgihttp::head_scanner blank_lines(64);
        std::string blanks;
        for (int i = 0; i < 40; ++i)
            blanks += "\r\n";
        CHECK_FALSE(blank_lines.complete(blanks + "GET / HTTP/1.1\r\n"));

        cgihttp::head_scanner partial_line(64);
        CHECK_FALSE(partial_line.complete("GET / HTTP/1.1\r\nX-Long: " + std::string(60, 'a')));
    }

    TEST_CASE("head_scanner completes at an over-long line, with or without its end") {
        cgihttp::head_scanner scanner;
        const std::string line(cgihttp::max_line_length, 'x');
        CHECK_FALSE(scanner.complete(line));
        CHECK(scanner.complete(line + "y"));

        cgihttp::head_scanner headers;
        const std::string head = "GET / HTTP/1.1\r\nX: ";
        // "X: " and the value fill 65535 bytes: with CRLF the line is one byte too long.
        const std::string value(cgihttp::max_line_length - 4, 'v');
        CHECK_FALSE(headers.complete(head + value));
        CHECK(headers.complete(head + value + "\r\n"));

        // A line of exactly 65536 bytes with its CRLF is fine: the head goes on.
        cgihttp::head_scanner exact;
        const std::string fits(cgihttp::max_line_length - 5, 'v');
        CHECK_FALSE(exact.complete(head + fits + "\r\n"));
        CHECK(exact.complete(head + fits + "\r\n\r\n"));
    }

    TEST_CASE("head_scanner completes when the head exceeds its limit") {
        cgihttp::head_scanner scanner(64);
        std::string data = "GET / HTTP/1.1\r\n";
        CHECK_FALSE(scanner.complete(data));
        data += "X-Long: " + std::string(40, 'a');
        CHECK_FALSE(scanner.complete(data));
        data += "\r\n"; // 66 bytes: the handler answers 431 without reading on
        CHECK(scanner.complete(data));
    }

    TEST_CASE("head_scanner completes at the line after the hundredth field") {
        cgihttp::head_scanner scanner;
        std::string data = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 100; ++i)
            data += "X: y\r\n";
        CHECK_FALSE(scanner.complete(data));
        data += "X: y\r\n"; // the 101st line: the handler refuses it without the empty line
        CHECK(scanner.complete(data));
    }

    TEST_CASE("head_scanner starts over after reset") {
        cgihttp::head_scanner scanner;
        CHECK(scanner.complete("GET / HTTP/1.1\r\n\r\n"));
        scanner.reset();
        CHECK_FALSE(scanner.complete("GET / HTTP/1.1\r\n"));
        CHECK(scanner.complete("GET / HTTP/1.1\r\n\r\n"));
    }

} // TEST_SUITE
