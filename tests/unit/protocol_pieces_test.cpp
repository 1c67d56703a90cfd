// Unit tests of the protocol building blocks: the status table (status.hpp), HTML and log
// escaping (html.hpp, log.hpp), dates (date.hpp), error pages (error_page.hpp), chunk-size
// lines (chunked.hpp) and the string helpers of detail/strings.hpp. Expected values were
// produced with Python 3.11 where Python has a counterpart.
#include <cgihttp/chunked.hpp>
#include <cgihttp/date.hpp>
#include <cgihttp/detail/strings.hpp>
#include <cgihttp/error_page.hpp>
#include <cgihttp/html.hpp>
#include <cgihttp/log.hpp>
#include <cgihttp/status.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// BaseHTTPRequestHandler.responses of Python 3.11.7, generated with
///     for c in sorted(B.responses): print(c, *B.responses[c])
struct python_status {
    int code;
    std::string_view phrase;
    std::string_view explanation;
};
constexpr python_status python_responses[] = {
    {100, "Continue", "Request received, please continue"},
    {101, "Switching Protocols", "Switching to new protocol; obey Upgrade header"},
    {102, "Processing", ""},
    {103, "Early Hints", ""},
    {200, "OK", "Request fulfilled, document follows"},
    {201, "Created", "Document created, URL follows"},
    {202, "Accepted", "Request accepted, processing continues off-line"},
    {203, "Non-Authoritative Information", "Request fulfilled from cache"},
    {204, "No Content", "Request fulfilled, nothing follows"},
    {205, "Reset Content", "Clear input form for further input"},
    {206, "Partial Content", "Partial content follows"},
    {207, "Multi-Status", ""},
    {208, "Already Reported", ""},
    {226, "IM Used", ""},
    {300, "Multiple Choices", "Object has several resources -- see URI list"},
    {301, "Moved Permanently", "Object moved permanently -- see URI list"},
    {302, "Found", "Object moved temporarily -- see URI list"},
    {303, "See Other", "Object moved -- see Method and URL list"},
    {304, "Not Modified", "Document has not changed since given time"},
    {305, "Use Proxy", "You must use proxy specified in Location to access this resource"},
    {307, "Temporary Redirect", "Object moved temporarily -- see URI list"},
    {308, "Permanent Redirect", "Object moved permanently -- see URI list"},
    {400, "Bad Request", "Bad request syntax or unsupported method"},
    {401, "Unauthorized", "No permission -- see authorization schemes"},
    {402, "Payment Required", "No payment -- see charging schemes"},
    {403, "Forbidden", "Request forbidden -- authorization will not help"},
    {404, "Not Found", "Nothing matches the given URI"},
    {405, "Method Not Allowed", "Specified method is invalid for this resource"},
    {406, "Not Acceptable", "URI not available in preferred format"},
    {407, "Proxy Authentication Required",
     "You must authenticate with this proxy before proceeding"},
    {408, "Request Timeout", "Request timed out; try again later"},
    {409, "Conflict", "Request conflict"},
    {410, "Gone", "URI no longer exists and has been permanently removed"},
    {411, "Length Required", "Client must specify Content-Length"},
    {412, "Precondition Failed", "Precondition in headers is false"},
    {413, "Request Entity Too Large", "Entity is too large"},
    {414, "Request-URI Too Long", "URI is too long"},
    {415, "Unsupported Media Type", "Entity body in unsupported format"},
    {416, "Requested Range Not Satisfiable", "Cannot satisfy request range"},
    {417, "Expectation Failed", "Expect condition could not be satisfied"},
    {418, "I'm a Teapot", "Server refuses to brew coffee because it is a teapot."},
    {421, "Misdirected Request", "Server is not able to produce a response"},
    {422, "Unprocessable Entity", ""},
    {423, "Locked", ""},
    {424, "Failed Dependency", ""},
    {425, "Too Early", ""},
    {426, "Upgrade Required", ""},
    {428, "Precondition Required", "The origin server requires the request to be conditional"},
    {429, "Too Many Requests",
     "The user has sent too many requests in a given amount of time (\"rate limiting\")"},
    {431, "Request Header Fields Too Large",
     "The server is unwilling to process the request because its header fields are too large"},
    {451, "Unavailable For Legal Reasons",
     "The server is denying access to the resource as a consequence of a legal demand"},
    {500, "Internal Server Error", "Server got itself in trouble"},
    {501, "Not Implemented", "Server does not support this operation"},
    {502, "Bad Gateway", "Invalid responses from another server/proxy"},
    {503, "Service Unavailable", "The server cannot process the request due to a high load"},
    {504, "Gateway Timeout", "The gateway server did not receive a timely response"},
    {505, "HTTP Version Not Supported", "Cannot fulfill request"},
    {506, "Variant Also Negotiates", ""},
    {507, "Insufficient Storage", ""},
    {508, "Loop Detected", ""},
    {510, "Not Extended", ""},
    {511, "Network Authentication Required",
     "The client needs to authenticate to gain network access"},
};

/// Sets TZ for the lifetime of the object, restoring the previous value afterwards.
class tz_override {
public:
    explicit tz_override(const char* tz) {
        if (const char* old = std::getenv("TZ")) saved_ = std::string(old);
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~tz_override() {
        if (saved_)
            ::setenv("TZ", saved_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    tz_override(const tz_override&) = delete;
    tz_override& operator=(const tz_override&) = delete;

private:
    std::optional<std::string> saved_;
};

std::vector<std::string> list_elements(std::string_view list) {
    std::vector<std::string> out;
    cgihttp::detail::for_each_list_element(list, [&](std::string_view e) {
        out.emplace_back(e);
        return true;
    });
    return out;
}

} // namespace

TEST_SUITE("status") {

    TEST_CASE("The status table holds exactly Python 3.11's responses") {
        constexpr std::size_t ours =
            sizeof(cgihttp::status_table) / sizeof(cgihttp::status_table[0]);
        constexpr std::size_t python = sizeof(python_responses) / sizeof(python_responses[0]);
        CHECK(ours == python);
        for (const python_status& expected : python_responses) {
            CAPTURE(expected.code);
            const cgihttp::status_entry* entry = cgihttp::find_status(expected.code);
            REQUIRE(entry != nullptr);
            CHECK(entry->code == expected.code);
            CHECK(entry->phrase == expected.phrase);
            CHECK(entry->explanation == expected.explanation);
        }
    }

    TEST_CASE("The status table is sorted, so find_status can search it") {
        for (std::size_t i = 1;
             i < sizeof(cgihttp::status_table) / sizeof(cgihttp::status_table[0]); ++i) {
            CAPTURE(i);
            CHECK(cgihttp::status_table[i - 1].code < cgihttp::status_table[i].code);
        }
    }

    TEST_CASE("find_status returns nullptr for codes outside the table") {
        for (const int code : {-1, 0, 99, 199, 209, 306, 309, 419, 430, 599, 600, 999}) {
            CAPTURE(code);
            CHECK(cgihttp::find_status(code) == nullptr);
        }
        static_assert(cgihttp::find_status(404)->code == 404, "usable in constant expressions");
        const cgihttp::status_entry* first = cgihttp::status_table;
        CHECK(cgihttp::find_status(100) == first);
        CHECK(cgihttp::find_status(511)->phrase == "Network Authentication Required");
    }

    TEST_CASE("reason_phrase gives the phrase, or nothing for an unknown code") {
        CHECK(cgihttp::reason_phrase(200) == "OK");
        CHECK(cgihttp::reason_phrase(404) == "Not Found");
        CHECK(cgihttp::reason_phrase(414) == "Request-URI Too Long");
        CHECK(cgihttp::reason_phrase(418) == "I'm a Teapot");
        CHECK(cgihttp::reason_phrase(999).empty());
        CHECK(cgihttp::reason_phrase(0).empty());
    }

    TEST_CASE("status_forbids_body covers 1xx, 204 and 304") {
        for (const int code : {100, 101, 102, 103, 199, 204, 304})
            CHECK_MESSAGE(cgihttp::status_forbids_body(code), code);
        for (const int code : {200, 201, 205, 206, 301, 302, 400, 404, 500})
            CHECK_MESSAGE(!cgihttp::status_forbids_body(code), code);
    }

} // TEST_SUITE

TEST_SUITE("html_escape") {

    TEST_CASE("html_escape escapes like Python's html.escape") {
        const std::string_view text = "<a href=\"x\">'&'</a>";
        CHECK(cgihttp::html_escape(text) ==
              "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;");
        CHECK(cgihttp::html_escape(text, true) == cgihttp::html_escape(text));
        CHECK(cgihttp::html_escape(text, false) == "&lt;a href=\"x\"&gt;'&amp;'&lt;/a&gt;");
    }

    TEST_CASE("html_escape leaves other text alone") {
        CHECK(cgihttp::html_escape("").empty());
        CHECK(cgihttp::html_escape("plain text; 100% caf\xc3\xa9") ==
              "plain text; 100% caf\xc3\xa9");
        CHECK(cgihttp::html_escape(std::string_view("a\0b", 3)) == std::string("a\0b", 3));
        // Already escaped text is escaped again, as Python does.
        CHECK(cgihttp::html_escape("&amp;") == "&amp;amp;");
    }

} // TEST_SUITE

TEST_SUITE("escape_log_text") {

    TEST_CASE("escape_log_text leaves printable ASCII alone") {
        const std::string_view text = "GET /a?b=c&d=%20 HTTP/1.1 ~!\"#$";
        CHECK(cgihttp::escape_log_text(text) == text);
        CHECK(cgihttp::escape_log_text("").empty());
    }

    TEST_CASE("escape_log_text escapes C0 controls, DEL and the backslash as Python does") {
        CHECK(cgihttp::escape_log_text(std::string_view("\0\x01\x1f", 3)) == R"(\x00\x01\x1f)");
        CHECK(cgihttp::escape_log_text("\n\r\t\x1b") == R"(\x0a\x0d\x09\x1b)");
        CHECK(cgihttp::escape_log_text("\x7f") == R"(\x7f)");
        CHECK(cgihttp::escape_log_text("a\\b") == R"(a\\b)");
        CHECK(cgihttp::escape_log_text(R"("GET /foo\b"ar)"
                                       "\x07") == R"("GET /foo\\b"ar\x07)");
    }

    TEST_CASE("escape_log_text escapes C1 controls by code point and keeps other UTF-8") {
        CHECK(cgihttp::escape_log_text("\xc2\x80") == R"(\x80)");
        CHECK(cgihttp::escape_log_text("\xc2\x9f") == R"(\x9f)");
        CHECK(cgihttp::escape_log_text("\xc2\xa0") == "\xc2\xa0"); // U+00A0 as Python keeps it
        CHECK(cgihttp::escape_log_text("caf\xc3\xa9") == "caf\xc3\xa9");
        CHECK(cgihttp::escape_log_text("\xe2\x82\xac") == "\xe2\x82\xac");         // U+20AC
        CHECK(cgihttp::escape_log_text("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80"); // U+1F600
        CHECK(cgihttp::escape_log_text("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf"); // U+10FFFF
    }

    TEST_CASE("escape_log_text escapes each byte that is not valid UTF-8") {
        CHECK(cgihttp::escape_log_text("\xff") == R"(\xff)");
        CHECK(cgihttp::escape_log_text("\x80") == R"(\x80)");
        CHECK(cgihttp::escape_log_text("\xc0\x80") == R"(\xc0\x80)");         // overlong NUL
        CHECK(cgihttp::escape_log_text("\xc1\xbf") == R"(\xc1\xbf)");         // overlong
        CHECK(cgihttp::escape_log_text("\xe0\x80\x80") == R"(\xe0\x80\x80)"); // overlong
        CHECK(cgihttp::escape_log_text("\xf0\x80\x80\x80") == R"(\xf0\x80\x80\x80)");
        CHECK(cgihttp::escape_log_text("\xed\xa0\x80") == R"(\xed\xa0\x80)"); // surrogate
        CHECK(cgihttp::escape_log_text("\xf4\x90\x80\x80") == R"(\xf4\x90\x80\x80)");
        CHECK(cgihttp::escape_log_text("\xf5\x80\x80\x80") == R"(\xf5\x80\x80\x80)");
        CHECK(cgihttp::escape_log_text("a\xe2\x82") == R"(a\xe2\x82)"); // truncated at the end
        CHECK(cgihttp::escape_log_text("\xe2\x82"
                                       "A") == R"(\xe2\x82A)");
        CHECK(cgihttp::escape_log_text("\xc3\x1b") == R"(\xc3\x1b)");
        // A valid sequence right after an invalid byte is kept.
        CHECK(cgihttp::escape_log_text("\xff\xc3\xa9") == "\\xff\xc3\xa9");
    }

} // TEST_SUITE

TEST_SUITE("date") {

    TEST_CASE("format_http_date gives an IMF-fixdate as Python's formatdate(usegmt=True)") {
        CHECK(cgihttp::format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
        CHECK(cgihttp::format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
        CHECK(cgihttp::format_http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
        CHECK(cgihttp::format_http_date(1700000000) == "Tue, 14 Nov 2023 22:13:20 GMT");
        CHECK(cgihttp::format_http_date(2147483647) == "Tue, 19 Jan 2038 03:14:07 GMT");
        CHECK(cgihttp::format_http_date(4102444800) == "Fri, 01 Jan 2100 00:00:00 GMT");
    }

    TEST_CASE("format_http_date ignores the local time zone") {
        const tz_override tz("XST-5:30");
        CHECK(cgihttp::format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    TEST_CASE("http_date_now is the current time as an IMF-fixdate") {
        const std::time_t before = std::time(nullptr);
        const std::string now = cgihttp::http_date_now();
        const std::time_t after = std::time(nullptr);
        CHECK(
            (now == cgihttp::format_http_date(before) || now == cgihttp::format_http_date(after)));
        // The cached value is refreshed when the second changes, not frozen.
        CHECK(cgihttp::http_date_now().size() == 29);
    }

    TEST_CASE("format_log_date gives the local time as Python's log_date_time_string") {
        {
            const tz_override tz("UTC0");
            CHECK(cgihttp::format_log_date(784111777) == "06/Nov/1994 08:49:37");
            CHECK(cgihttp::format_log_date(951782400) == "29/Feb/2000 00:00:00");
        }
        {
            const tz_override tz("XST-5:30");
            CHECK(cgihttp::format_log_date(784111777) == "06/Nov/1994 14:19:37");
        }
    }

} // TEST_SUITE

TEST_SUITE("error_page") {

    TEST_CASE("The default error page is Python's, byte for byte") {
        // Python 3.11: send_error(404) on a GET, body as written to wfile.
        const std::string python_404 =
            "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n"
            "        <title>Error response</title>\n    </head>\n    <body>\n"
            "        <h1>Error response</h1>\n        <p>Error code: 404</p>\n"
            "        <p>Message: Not Found.</p>\n"
            "        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n"
            "    </body>\n</html>\n";
        const std::string body = cgihttp::format_error_message(
            cgihttp::default_error_message, 404, "Not Found", "Nothing matches the given URI");
        CHECK(body == python_404);
        CHECK(body.size() == 330);
        CHECK(cgihttp::default_error_content_type == "text/html;charset=utf-8");
    }

    TEST_CASE("format_error_message substitutes Python's keys and %%") {
        CHECK(cgihttp::format_error_message("%(code)d|%(code)s|%(message)s|%(explain)s|%%", 418,
                                            "msg", "why") == "418|418|msg|why|%");
        CHECK(cgihttp::format_error_message("", 500, "m", "e").empty());
        CHECK(cgihttp::format_error_message("no keys", 500, "m", "e") == "no keys");
    }

    TEST_CASE("format_error_message copies unknown keys and stray percent signs") {
        CHECK(cgihttp::format_error_message("%(other)s %d 100% %", 404, "m", "e") ==
              "%(other)s %d 100% %");
        CHECK(cgihttp::format_error_message("%(code", 404, "m", "e") == "%(code");
    }

    TEST_CASE("format_error_message does not expand keys inside substituted text") {
        CHECK(cgihttp::format_error_message("[%(message)s][%(explain)s]", 400, "%(code)d", "%%") ==
              "[%(code)d][%%]");
    }

} // TEST_SUITE

TEST_SUITE("chunked") {

    TEST_CASE("parse_chunk_size_line reads a hexadecimal size") {
        CHECK(cgihttp::parse_chunk_size_line("0") == std::optional<std::uint64_t>(0));
        CHECK(cgihttp::parse_chunk_size_line("a") == std::optional<std::uint64_t>(10));
        CHECK(cgihttp::parse_chunk_size_line("A") == std::optional<std::uint64_t>(10));
        CHECK(cgihttp::parse_chunk_size_line("fF") == std::optional<std::uint64_t>(255));
        CHECK(cgihttp::parse_chunk_size_line("00010") == std::optional<std::uint64_t>(16));
        CHECK(cgihttp::parse_chunk_size_line("1234abcd") ==
              std::optional<std::uint64_t>(0x1234abcd));
        CHECK(cgihttp::parse_chunk_size_line("fffffffffffffff") ==
              std::optional<std::uint64_t>(0xfffffffffffffffULL));
        // Leading zeros do not count towards the limit.
        CHECK(cgihttp::parse_chunk_size_line("000000000000000000001") ==
              std::optional<std::uint64_t>(1));
        static_assert(*cgihttp::parse_chunk_size_line("10") == 16, "usable in constexpr");
    }

    TEST_CASE("parse_chunk_size_line accepts extensions and whitespace around them") {
        for (const std::string_view line :
             {"5;name", "5;name=value", "5 ;name", "5; name = value ", "5;a;b=c;d=\"e\"",
              "5;q=\"quoted ; \\\" string\"", "5;q=\"\"", "5;q=\"tab\there\"", "5\t", "5 "}) {
            CAPTURE(line);
            CHECK(cgihttp::parse_chunk_size_line(line) == std::optional<std::uint64_t>(5));
        }
    }

    TEST_CASE("parse_chunk_size_line refuses malformed lines") {
        using namespace std::string_view_literals;
        for (const std::string_view line : {""sv,
                                            " 5"sv,
                                            ";x"sv,
                                            "g"sv,
                                            "-5"sv,
                                            "+5"sv,
                                            "0x5"sv,
                                            "5;"sv,
                                            "5;=x"sv,
                                            "5;a="sv,
                                            "5 x"sv,
                                            "5x"sv,
                                            "5;a=b c"sv,
                                            "5;a=\"unterminated"sv,
                                            "5;a=\"x\\"sv,
                                            "5;a=\"ctl\x01\""sv,
                                            "5;a=\"del\x7f\""sv,
                                            "5;a=\"\\\r\""sv,   // a quoted-pair is no escape
                                            "5;a=\"\\\x01\""sv, // for a control byte
                                            "5;a=\"\\\0\""sv,
                                            "5;a=@"sv,
                                            "5;a b"sv,
                                            "5\r"sv,
                                            "5\0"sv}) {
            CAPTURE(line);
            CHECK_FALSE(cgihttp::parse_chunk_size_line(line).has_value());
        }
    }

    TEST_CASE("parse_chunk_size_line refuses a size that does not fit in 64 bits") {
        CHECK_FALSE(cgihttp::parse_chunk_size_line("10000000000000000").has_value());
        CHECK_FALSE(cgihttp::parse_chunk_size_line("ffffffffffffffffff").has_value());
    }

    TEST_CASE("parse_chunk_size_line accepts every size that fits in 64 bits") {
        CHECK(cgihttp::parse_chunk_size_line("1000000000000001") ==
              std::optional<std::uint64_t>(0x1000000000000001ULL));
        CHECK(cgihttp::parse_chunk_size_line("ffffffffffffffff") ==
              std::optional<std::uint64_t>(0xffffffffffffffffULL));
    }

    TEST_CASE("The chunked limits are as documented") {
        CHECK(cgihttp::max_chunk_line_length == 4096);
        CHECK(cgihttp::max_trailer_count == 100);
    }

} // TEST_SUITE

TEST_SUITE("detail::strings") {

    using namespace cgihttp::detail;

    TEST_CASE("to_lower and to_upper change ASCII letters only") {
        CHECK(to_lower('A') == 'a');
        CHECK(to_lower('Z') == 'z');
        CHECK(to_lower('a') == 'a');
        CHECK(to_lower('@') == '@');
        CHECK(to_lower('[') == '[');
        CHECK(to_lower('\xc9') == '\xc9');
        CHECK(to_upper('a') == 'A');
        CHECK(to_upper('z') == 'Z');
        CHECK(to_upper('`') == '`');
        CHECK(to_upper('{') == '{');
        CHECK(to_upper('\xe9') == '\xe9');
    }

    TEST_CASE("iequals compares ASCII case-insensitively") {
        CHECK(iequals("Content-Length", "content-LENGTH"));
        CHECK(iequals("", ""));
        CHECK_FALSE(iequals("a", "ab"));
        CHECK_FALSE(iequals("Content-Length", "Content_Length"));
        CHECK_FALSE(iequals("\xc9", "\xe9")); // no locale-dependent folding
        CHECK_FALSE(iequals("@", "`"));
    }

    TEST_CASE("is_space, is_ows and is_tchar classify characters") {
        for (const char c : {' ', '\t', '\n', '\r', '\v', '\f'})
            CHECK_MESSAGE(is_space(c), int(c));
        for (const char c : {'a', '\0', '\x7f', '\xa0', '\x85'})
            CHECK_MESSAGE(!is_space(c), int(c));
        CHECK(is_ows(' '));
        CHECK(is_ows('\t'));
        CHECK_FALSE(is_ows('\n'));
        CHECK_FALSE(is_ows('\r'));
        for (const char c : std::string_view("!#$%&'*+-.^_`|~09azAZ"))
            CHECK_MESSAGE(is_tchar(c), c);
        for (const char c : std::string_view("\"(),/:;<=>?@[\\]{} \t\x7f\x80"))
            CHECK_MESSAGE(!is_tchar(c), int(c));
        CHECK_FALSE(is_tchar('\0'));
    }

    TEST_CASE("is_token needs at least one tchar and nothing else") {
        CHECK(is_token("Content-Type"));
        CHECK(is_token("X"));
        CHECK_FALSE(is_token(""));
        CHECK_FALSE(is_token("Content Type"));
        CHECK_FALSE(is_token("a:b"));
        CHECK_FALSE(is_token("a\r\n"));
    }

    TEST_CASE("trim_ows strips spaces and tabs from both ends only") {
        CHECK(trim_ows("  a b \t") == "a b");
        CHECK(trim_ows("\t\t") == "");
        CHECK(trim_ows("") == "");
        CHECK(trim_ows("\na\n") == "\na\n");
    }

    TEST_CASE("for_each_list_element yields trimmed non-empty elements") {
        CHECK(list_elements("a, b ,c") == std::vector<std::string>{"a", "b", "c"});
        CHECK(list_elements(" , ,a,,\tb\t,") == std::vector<std::string>{"a", "b"});
        CHECK(list_elements("").empty());
        CHECK(list_elements("single") == std::vector<std::string>{"single"});
    }

    TEST_CASE("for_each_list_element stops when the callback returns false") {
        int calls = 0;
        const bool completed = for_each_list_element("a, stop, c", [&](std::string_view e) {
            ++calls;
            return e != "stop";
        });
        CHECK_FALSE(completed);
        CHECK(calls == 2);
        CHECK(for_each_list_element("a, b", [](std::string_view) { return true; }));
    }

    TEST_CASE("list_contains finds a token case-insensitively as a whole element") {
        CHECK(list_contains("keep-alive, Upgrade", "upgrade"));
        CHECK(list_contains("TE, close", "close"));
        CHECK(list_contains("CLOSE", "close"));
        CHECK_FALSE(list_contains("closed", "close"));
        CHECK_FALSE(list_contains("not-close, x", "close"));
        CHECK_FALSE(list_contains("", "close"));
        CHECK_FALSE(list_contains("clo se", "close"));
    }

    TEST_CASE("parse_decimal reads plain ASCII digits") {
        CHECK(parse_decimal("0") == std::optional<std::uint64_t>(0));
        CHECK(parse_decimal("42") == std::optional<std::uint64_t>(42));
        CHECK(parse_decimal("007") == std::optional<std::uint64_t>(7));
        CHECK(parse_decimal("9999999999999999999") ==
              std::optional<std::uint64_t>(9999999999999999999ULL));
        for (const std::string_view s :
             {"", " 1", "1 ", "+1", "-1", "1.0", "0x1", "1a", "\xd9\xa1"}) {
            CAPTURE(s);
            CHECK_FALSE(parse_decimal(s).has_value());
        }
        CHECK_FALSE(parse_decimal("18446744073709551616").has_value()); // 2^64 overflows
        CHECK_FALSE(parse_decimal("99999999999999999999").has_value());
    }

    TEST_CASE("parse_decimal accepts 20-digit numbers that fit in 64 bits") {
        CHECK(parse_decimal("18446744073709551615") ==
              std::optional<std::uint64_t>(18446744073709551615ULL));
        CHECK(parse_decimal("00000000000000000005") == std::optional<std::uint64_t>(5));
    }

    TEST_CASE("append_decimal appends the decimal form") {
        std::string out = "n=";
        append_decimal(out, 0);
        CHECK(out == "n=0");
        out.clear();
        append_decimal(out, 1234567890);
        CHECK(out == "1234567890");
        out.clear();
        append_decimal(out, 18446744073709551615ULL);
        CHECK(out == "18446744073709551615");
    }

    TEST_CASE("python_repr quotes like Python's repr of a str") {
        // Expected values are Python 3.11's repr() of the same text.
        CHECK(python_repr("HTTP/1") == "'HTTP/1'");
        CHECK(python_repr("") == "''");
        CHECK(python_repr(" ~") == "' ~'");
        CHECK(python_repr("a'b") == "\"a'b\"");
        CHECK(python_repr("a\"b") == "'a\"b'");
        CHECK(python_repr("a'b\"c") == "'a\\'b\"c'");
        CHECK(python_repr("\\") == "'\\\\'");
        CHECK(python_repr("\r\n\t") == "'\\r\\n\\t'");
        CHECK(python_repr(std::string_view("\0\x1f\x7f", 3)) == "'\\x00\\x1f\\x7f'");
        CHECK(python_repr("\x80") == "'\\x80'");
    }

    TEST_CASE("python_repr writes every non-ASCII byte as \\xNN") {
        // Python would show printable Latin-1 characters as they are; the library keeps the
        // result ASCII on purpose (see its comment).
        CHECK(python_repr("caf\xe9") == "'caf\\xe9'");
        CHECK(python_repr("\xff\xa0") == "'\\xff\\xa0'");
    }

} // TEST_SUITE
