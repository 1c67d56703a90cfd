// Ports of Python 3.11's test_httpservers.BaseHTTPRequestHandlerTestCase, one test case per
// Python test, over an in-memory stream. Each asserts what the Python test asserts; where our
// buffered wfile changes what can be observed (Python's wfile is unbuffered), the comment says
// how the same property is checked.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <regex>

namespace {

using test_support::readlines;
using test_support::run_request;

const std::string data_body = "<html><body>Data</body></html>\r\n";

/// Python's SocketlessRequestHandler.
struct socketless_handler : cgihttp::BaseRequestHandler<socketless_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    bool get_called = false;

    void do_GET() {
        get_called = true;
        send_response(200);
        send_header("Content-Type", "text/html");
        end_headers();
        wfile().write(data_body);
    }
    void log_message(std::string_view) {}
};

/// Python's RejectingSocketlessRequestHandler.
struct rejecting_handler : cgihttp::BaseRequestHandler<rejecting_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    bool get_called = false;

    void do_GET() { get_called = true; }
    bool handle_expect_100() {
        send_error(417);
        return false;
    }
    void log_message(std::string_view) {}
};

bool matches_ok_status_line(const std::string& line) {
    return std::regex_search(line, std::regex("HTTP/1.[0-9]+ 200 OK"));
}

/// verify_expected_headers(): Server, Date and Content-Type each appear exactly once.
void verify_expected_headers(const std::vector<std::string>& lines, std::size_t from,
                             std::size_t to) {
    for (const std::string field : {"Server: ", "Date: ", "Content-Type: "}) {
        int count = 0;
        for (std::size_t i = from; i < to; ++i)
            count += lines[i].rfind(field, 0) == 0 ? 1 : 0;
        CHECK_MESSAGE(count == 1, field);
    }
}

std::size_t index_of(const std::vector<std::string>& lines, const std::string& line) {
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i] == line) return i;
    return lines.size();
}

} // namespace

TEST_SUITE("BaseHTTPRequestHandlerTestCase") {

    TEST_CASE("test_unprintable_not_logged") {
        socketless_handler handler;
        handler.client_address = {"127.0.0.1", 1337};
        test_support::stderr_capture capture;
        auto& base = static_cast<cgihttp::BaseRequestHandler<socketless_handler>&>(handler);
        base.BaseRequestHandler::log_message("/foo");
        base.BaseRequestHandler::log_message(std::string_view("/\033bar\000\033", 7));
        base.BaseRequestHandler::log_message("/spam a.");
        base.BaseRequestHandler::log_message("/spam \033\x7f\xc2\x9f\xc2\xa0"
                                             "beans.");
        base.BaseRequestHandler::log_message("\"GET /foo\\b\"ar\007 HTTP/1.0\"");
        const std::string err = capture.text();
        CHECK(err.find('\033') == std::string::npos);
        CHECK(err.find('\0') == std::string::npos);
        const auto lines = readlines(err);
        REQUIRE(lines.size() == 5);
        CHECK(lines[0].find("/foo") != std::string::npos);
        CHECK(lines[1].find(R"(/\x1bbar\x00\x1b)") != std::string::npos);
        CHECK(lines[2].find("/spam a.") != std::string::npos);
        CHECK(lines[3].find("/spam \\x1b\\x7f\\x9f\xc2\xa0"
                            "beans.") != std::string::npos);
        CHECK(lines[4].find(R"("GET /foo\\b"ar\x07 HTTP/1.0")") != std::string::npos);
    }

    TEST_CASE("test_http_1_1") {
        socketless_handler handler;
        const auto result = readlines(run_request(handler, "GET / HTTP/1.1\r\n\r\n"));
        REQUIRE(result.size() >= 3);
        CHECK(matches_ok_status_line(result[0]));
        verify_expected_headers(result, 1, result.size() - 1);
        CHECK(handler.get_called);
        CHECK(result.back() == data_body);
        CHECK(handler.requestline == "GET / HTTP/1.1");
        CHECK(handler.command == "GET");
        CHECK(handler.path == "/");
        CHECK(handler.request_version == "HTTP/1.1");
        CHECK(handler.headers.items().empty());
    }

    TEST_CASE("test_http_1_0") {
        socketless_handler handler;
        const auto result = readlines(run_request(handler, "GET / HTTP/1.0\r\n\r\n"));
        REQUIRE(result.size() >= 3);
        CHECK(matches_ok_status_line(result[0]));
        verify_expected_headers(result, 1, result.size() - 1);
        CHECK(handler.get_called);
        CHECK(result.back() == data_body);
        CHECK(handler.requestline == "GET / HTTP/1.0");
        CHECK(handler.command == "GET");
        CHECK(handler.path == "/");
        CHECK(handler.request_version == "HTTP/1.0");
        CHECK(handler.headers.items().empty());
    }

    TEST_CASE("test_http_0_9") {
        socketless_handler handler;
        const auto result = readlines(run_request(handler, "GET / HTTP/0.9\r\n\r\n"));
        REQUIRE(result.size() == 1);
        CHECK(result[0] == data_body);
        CHECK(handler.get_called);
    }

    TEST_CASE("test_extra_space") {
        socketless_handler handler;
        const auto result =
            readlines(run_request(handler, "GET /spaced out HTTP/1.1\r\nHost: dummy\r\n\r\n"));
        REQUIRE(!result.empty());
        CHECK(result[0].rfind("HTTP/1.1 400 ", 0) == 0);
        verify_expected_headers(result, 1, index_of(result, "\r\n"));
        CHECK_FALSE(handler.get_called);
    }

    TEST_CASE("test_with_continue_1_0") {
        socketless_handler handler;
        const auto result =
            readlines(run_request(handler, "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
        REQUIRE(result.size() >= 3);
        CHECK(matches_ok_status_line(result[0]));
        verify_expected_headers(result, 1, result.size() - 1);
        CHECK(handler.get_called);
        CHECK(result.back() == data_body);
        CHECK(handler.requestline == "GET / HTTP/1.0");
        CHECK(handler.command == "GET");
        CHECK(handler.path == "/");
        CHECK(handler.request_version == "HTTP/1.0");
        REQUIRE(handler.headers.size() == 1);
        CHECK(handler.headers.items()[0].name == "Expect");
        CHECK(handler.headers.items()[0].value == "100-continue");
    }

    TEST_CASE("test_with_continue_1_1") {
        socketless_handler handler;
        const auto result =
            readlines(run_request(handler, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
        REQUIRE(result.size() >= 4);
        CHECK(result[0] == "HTTP/1.1 100 Continue\r\n");
        CHECK(result[1] == "\r\n");
        CHECK(result[2] == "HTTP/1.1 200 OK\r\n");
        verify_expected_headers(result, 2, result.size() - 1);
        CHECK(handler.get_called);
        CHECK(result.back() == data_body);
        CHECK(handler.requestline == "GET / HTTP/1.1");
        CHECK(handler.command == "GET");
        CHECK(handler.path == "/");
        CHECK(handler.request_version == "HTTP/1.1");
        REQUIRE(handler.headers.size() == 1);
        CHECK(handler.headers.items()[0].name == "Expect");
        CHECK(handler.headers.items()[0].value == "100-continue");
    }

    // Python counts two writes to its unbuffered wfile: the header block, then the body. Ours
    // buffers both, so the property checked is the one that matters: send_error() does not
    // write header by header; its whole response leaves in one write when flushed.
    TEST_CASE("test_header_buffering_of_send_error") {
        cgihttp::testing::memory_stream stream("GET / HTTP/1.1\r\n\r\n");
        auto ref = cgihttp::make_stream_ref(stream);
        socketless_handler handler;
        handler.attach(ref, {"127.0.0.1", 1337}, nullptr);
        handler.request_version = "HTTP/1.1";
        handler.requestline = "";
        handler.command.clear();
        handler.send_error(418);
        CHECK(stream.write_count() == 0);
        handler.wfile().flush();
        CHECK(stream.write_count() == 1);
        CHECK(stream.output().rfind("HTTP/1.1 418 I'm a Teapot\r\n", 0) == 0);
    }

    // Python checks writes to wfile; so do we (bytes_written counts what reached wfile).
    TEST_CASE("test_header_buffering_of_send_response_only") {
        cgihttp::testing::memory_stream stream("GET / HTTP/1.1\r\n\r\n");
        auto ref = cgihttp::make_stream_ref(stream);
        socketless_handler handler;
        handler.attach(ref, {"127.0.0.1", 1337}, nullptr);
        handler.request_version = "HTTP/1.1";
        handler.send_response_only(418);
        CHECK(handler.wfile().bytes_written() == 0);
        handler.end_headers();
        CHECK(handler.wfile().bytes_written() > 0);
        handler.wfile().flush();
        CHECK(stream.write_count() == 1);
    }

    TEST_CASE("test_header_buffering_of_send_header") {
        cgihttp::testing::memory_stream stream("GET / HTTP/1.1\r\n\r\n");
        auto ref = cgihttp::make_stream_ref(stream);
        socketless_handler handler;
        handler.attach(ref, {"127.0.0.1", 1337}, nullptr);
        handler.request_version = "HTTP/1.1";
        handler.send_header("Foo", "foo");
        handler.send_header("bar", "bar");
        CHECK(handler.wfile().bytes_written() == 0);
        handler.end_headers();
        handler.wfile().flush();
        CHECK(stream.output() == "Foo: foo\r\nbar: bar\r\n\r\n");
        CHECK(stream.write_count() == 1);
    }

    TEST_CASE("test_header_unbuffered_when_continue") {
        socketless_handler handler;
        handler.request_version = "HTTP/1.1";
        const std::string output =
            run_request(handler, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        REQUIRE_FALSE(output.empty());
        CHECK(output.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0) == 0);
    }

    TEST_CASE("test_with_continue_rejected") {
        rejecting_handler handler;
        const auto result =
            readlines(run_request(handler, "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
        REQUIRE(result.size() >= 3);
        CHECK(result[0] == "HTTP/1.1 417 Expectation Failed\r\n");
        verify_expected_headers(result, 1, result.size() - 1);
        CHECK_FALSE(handler.get_called);
        int closes = 0;
        for (std::size_t i = 1; i + 1 < result.size(); ++i)
            closes += result[i] == "Connection: close\r\n" ? 1 : 0;
        CHECK(closes == 1);
    }

    TEST_CASE("test_request_length") {
        socketless_handler handler;
        const auto result = readlines(run_request(handler, "GET " + std::string(65537, 'x')));
        REQUIRE(!result.empty());
        CHECK(result[0] == "HTTP/1.1 414 Request-URI Too Long\r\n");
        CHECK_FALSE(handler.get_called);
        CHECK(handler.requestline.empty());
    }

    TEST_CASE("test_header_length") {
        socketless_handler handler;
        const auto result = readlines(run_request(
            handler, "GET / HTTP/1.1\r\nX-Foo: bar" + std::string(65537, 'r') + "\r\n\r\n"));
        REQUIRE(!result.empty());
        CHECK(result[0] == "HTTP/1.1 431 Line too long\r\n");
        CHECK_FALSE(handler.get_called);
        CHECK(handler.requestline == "GET / HTTP/1.1");
    }

    TEST_CASE("test_too_many_headers") {
        socketless_handler handler;
        std::string request = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 101; ++i)
            request += "X-Foo: bar\r\n";
        const auto result = readlines(run_request(handler, request + "\r\n"));
        REQUIRE(!result.empty());
        CHECK(result[0] == "HTTP/1.1 431 Too many headers\r\n");
        CHECK_FALSE(handler.get_called);
        CHECK(handler.requestline == "GET / HTTP/1.1");
    }

    TEST_CASE("test_html_escape_on_error") {
        socketless_handler handler;
        const std::string result =
            run_request(handler, "<script>alert(\"hello\")</script> / HTTP/1.1");
        CHECK(result.find(cgihttp::html_escape("<script>alert(\"hello\")</script>", false)) !=
              std::string::npos);
    }

    TEST_CASE("test_close_connection") {
        // handle_one_request() is called until it sets close_connection.
        struct scripted_handler : cgihttp::BaseRequestHandler<scripted_handler> {
            std::vector<bool> close_values;
            std::size_t next = 0;
            void handle_one_request() { close_connection = close_values.at(next++); }
        };
        scripted_handler handler;
        handler.close_values = {true};
        handler.handle();
        CHECK(handler.next == handler.close_values.size());

        handler.close_values = {false, false, true};
        handler.next = 0;
        handler.handle();
        CHECK(handler.next == handler.close_values.size());
    }

    TEST_CASE("test_date_time_string") {
        socketless_handler handler;
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        static const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        char expected[64];
        std::snprintf(expected, sizeof expected, "%s, %02d %3s %4d %02d:%02d:%02d GMT",
                      weekdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
        CHECK(handler.date_time_string(now) == expected);
    }

} // TEST_SUITE
