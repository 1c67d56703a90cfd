// Tests of mime_types.hpp, range.hpp, conditional.hpp and HTTP date parsing.
#include <cgihttp/conditional.hpp>
#include <cgihttp/date.hpp>
#include <cgihttp/mime_types.hpp>
#include <cgihttp/range.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include <sys/stat.h>

using cgihttp::range_kind;

TEST_CASE("the built-in media-type table is sorted, as lookups bisect it") {
    const auto* begin = std::begin(cgihttp::builtin_mime_types);
    const auto* end = std::end(cgihttp::builtin_mime_types);
    CHECK(std::is_sorted(begin, end,
                         [](const auto& a, const auto& b) { return a.extension < b.extension; }));
    CHECK(std::adjacent_find(begin, end, [](const auto& a, const auto& b) {
              return a.extension == b.extension;
          }) == end);
}

TEST_CASE("path_extension follows posixpath.splitext") {
    CHECK(cgihttp::path_extension("/a/b.txt") == ".txt");
    CHECK(cgihttp::path_extension("/a.d/b") == "");
    CHECK(cgihttp::path_extension(".profile") == "");
    CHECK(cgihttp::path_extension("x.tar.gz") == ".gz");
    CHECK(cgihttp::path_extension("..x.gz") == ".gz");
    CHECK(cgihttp::path_extension("dir/") == "");
}

TEST_CASE("the built-in table answers as Python's defaults, updated for the web") {
    const cgihttp::mime_types db;
    CHECK(db.guess("x.html") == "text/html");
    CHECK(db.guess("x.HTML") == "text/html");
    CHECK(db.guess("x.css") == "text/css");
    CHECK(db.guess("x.js") == "text/javascript");
    CHECK(db.guess("x.json") == "application/json");
    CHECK(db.guess("x.png") == "image/png");
    CHECK(db.guess("x.JPG") == "image/jpeg");
    CHECK(db.guess("x.svg") == "image/svg+xml");
    CHECK(db.guess("x.wasm") == "application/wasm");
    CHECK(db.guess("x.woff2") == "font/woff2");
    CHECK(db.guess("x.webp") == "image/webp");
    CHECK(db.guess("x.txt") == "text/plain");
    CHECK(db.guess("x.tar.gz") == "application/x-tar"); // encoding suffix skipped
    CHECK(db.guess("x.tgz") == "application/x-tar");    // suffix alias expanded
    CHECK(db.guess("x.svgz") == "image/svg+xml");
    CHECK(db.guess("x.gz").empty());
    CHECK(db.guess("README").empty());
    CHECK(db.guess("x.unknownext").empty());
}

TEST_CASE("a loaded mime.types file overrides the built-in table") {
    const std::string file = "/tmp/cgihttp-test-mime.types";
    {
        std::ofstream out(file);
        out << "# comment\napplication/x-custom  cst custom\ntext/x-c  c\n";
    }
    cgihttp::mime_types db;
    CHECK(db.load(file));
    CHECK(db.guess("a.cst") == "application/x-custom");
    CHECK(db.guess("a.custom") == "application/x-custom");
    CHECK(db.guess("a.c") == "text/x-c");
    CHECK(db.guess("a.html") == "text/html");
    CHECK_FALSE(db.load("/nonexistent/mime.types"));
    std::remove(file.c_str());
}

TEST_CASE("the system database agrees with Python's mimetypes on this machine") {
    // Python 3.11 reads /etc/mime.types too; these are its answers on Debian 12.
    const cgihttp::mime_types& db = cgihttp::mime_types::system();
    if (!std::ifstream("/etc/mime.types")) return;
    CHECK(db.guess("x.js") == "text/javascript");
    CHECK(db.guess("x.md") == "text/markdown");
    CHECK(db.guess("x.c") == "text/x-csrc");
    CHECK(db.guess("x.xml") == "application/xml");
    CHECK(db.guess("x.py") == "text/x-python");
}

TEST_CASE("single byte ranges are satisfied and clamped") {
    auto r = cgihttp::evaluate_range("bytes=0-0", 10);
    CHECK(r.kind == range_kind::single);
    CHECK(r.first == 0);
    CHECK(r.last == 0);
    r = cgihttp::evaluate_range("bytes=2-", 10);
    CHECK((r.kind == range_kind::single && r.first == 2 && r.last == 9));
    r = cgihttp::evaluate_range("bytes=-3", 10);
    CHECK((r.kind == range_kind::single && r.first == 7 && r.last == 9));
    r = cgihttp::evaluate_range("bytes=-30", 10);
    CHECK((r.kind == range_kind::single && r.first == 0 && r.last == 9));
    r = cgihttp::evaluate_range("bytes=5-100", 10);
    CHECK((r.kind == range_kind::single && r.first == 5 && r.last == 9));
    r = cgihttp::evaluate_range("Bytes = 1 - 2", 10);
    CHECK((r.kind == range_kind::single && r.first == 1 && r.last == 2));
}

TEST_CASE("ranges past the end are unsatisfiable") {
    CHECK(cgihttp::evaluate_range("bytes=10-", 10).kind == range_kind::unsatisfiable);
    CHECK(cgihttp::evaluate_range("bytes=10-20", 10).kind == range_kind::unsatisfiable);
    CHECK(cgihttp::evaluate_range("bytes=-0", 10).kind == range_kind::unsatisfiable);
    CHECK(cgihttp::evaluate_range("bytes=0-", 0).kind == range_kind::unsatisfiable);
    CHECK(cgihttp::evaluate_range("bytes=-5", 0).kind == range_kind::unsatisfiable);
}

TEST_CASE("malformed or foreign ranges are ignored") {
    for (const char* header : {"bytes=", "bytes=a-b", "bytes=5-2", "bytes=1-2,x", "items=0-1",
                               "bytes", "bytes=--1", "bytes=1", "bytes=-", "bytes=+1-2"})
        CHECK_MESSAGE(cgihttp::evaluate_range(header, 10).kind == range_kind::none, header);
}

TEST_CASE("several ranges are reported as multiple, however many") {
    CHECK(cgihttp::evaluate_range("bytes=0-1,3-4", 10).kind == range_kind::multiple);
    std::string many = "bytes=0-0";
    for (int i = 1; i < 5000; ++i)
        many += "," + std::to_string(i % 10) + "-" + std::to_string(i % 10);
    CHECK(cgihttp::evaluate_range(many, 10).kind == range_kind::multiple);
    CHECK(cgihttp::evaluate_range("bytes=20-30,0-1", 10).kind == range_kind::multiple);
    CHECK(cgihttp::evaluate_range("bytes=20-30,40-50", 10).kind == range_kind::unsatisfiable);
}

TEST_CASE("the three HTTP date formats parse to the same time") {
    const std::time_t expected = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT
    CHECK(cgihttp::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
    CHECK(cgihttp::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
    CHECK(cgihttp::parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
    CHECK(cgihttp::parse_http_date("Sun, 06 Nov 1994 08:49:37 +0000") == expected);
    CHECK(cgihttp::parse_http_date("06 Nov 1994 08:49:37 GMT") == expected);
    CHECK(cgihttp::format_http_date(expected) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_CASE("dates in other zones or malformed are not dates") {
    for (const char* text :
         {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 +0100", "Sun, 06 Nov 1994 08:49 GMT",
          "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun Nov  6 08:49:37 1994 junk"})
        CHECK_MESSAGE(!cgihttp::parse_http_date(text), text);
}

TEST_CASE("impossible days and seconds are not dates (timegm would move them)") {
    for (const char* text : {"Tue, 31 Feb 2026 00:00:00 GMT", "Thu, 29 Feb 2024 00:00:60 GMT",
                             "Wed, 31 Apr 2026 00:00:00 GMT", "Sat, 29 Feb 2025 00:00:00 GMT",
                             "Sun, 00 Nov 1994 08:49:37 GMT", "Tue Feb 30 00:00:00 2026"})
        CHECK_MESSAGE(!cgihttp::parse_http_date(text), text);
    CHECK(cgihttp::parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT") == 1709251199);
    CHECK(cgihttp::parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT") == 951782400);
    CHECK(cgihttp::parse_http_date("Sat, 31 Dec 2050 00:00:00 GMT") == 2556057600);
}

TEST_CASE("a file's ETag changes with its size, time and inode") {
    struct stat st {};
    st.st_ino = 10;
    st.st_size = 20;
    st.st_mtim.tv_sec = 30;
    st.st_mtim.tv_nsec = 40;
    const std::string tag = cgihttp::file_etag(st);
    CHECK(tag.front() == '"');
    CHECK(tag.back() == '"');
    struct stat other = st;
    other.st_mtim.tv_nsec = 41;
    CHECK(cgihttp::file_etag(other) != tag);
    other = st;
    other.st_size = 21;
    CHECK(cgihttp::file_etag(other) != tag);
    other = st;
    other.st_ino = 11;
    CHECK(cgihttp::file_etag(other) != tag);
}

TEST_CASE("If-None-Match compares weakly and understands *") {
    CHECK(cgihttp::if_none_match("\"abc\"", "\"abc\""));
    CHECK(cgihttp::if_none_match("W/\"abc\"", "\"abc\""));
    CHECK(cgihttp::if_none_match("\"x\", \"abc\"", "\"abc\""));
    CHECK(cgihttp::if_none_match(" * ", "\"abc\""));
    CHECK_FALSE(cgihttp::if_none_match("\"abd\"", "\"abc\""));
    CHECK_FALSE(cgihttp::if_none_match("abc", "\"abc\""));
}

TEST_CASE("If-Modified-Since compares whole seconds") {
    CHECK(cgihttp::not_modified_since("Sun, 06 Nov 1994 08:49:37 GMT", 784111777));
    CHECK(cgihttp::not_modified_since("Sun, 06 Nov 1994 08:49:38 GMT", 784111777));
    CHECK_FALSE(cgihttp::not_modified_since("Sun, 06 Nov 1994 08:49:36 GMT", 784111777));
    CHECK_FALSE(cgihttp::not_modified_since("garbage", 784111777));
}

TEST_CASE("If-Range matches a strong ETag or the exact Last-Modified date") {
    CHECK(cgihttp::if_range_matches("\"abc\"", "\"abc\"", 0));
    CHECK_FALSE(cgihttp::if_range_matches("W/\"abc\"", "\"abc\"", 0));
    CHECK_FALSE(cgihttp::if_range_matches("\"abd\"", "\"abc\"", 0));
    CHECK(cgihttp::if_range_matches("Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", 784111777));
    CHECK_FALSE(cgihttp::if_range_matches("Sun, 06 Nov 1994 08:49:38 GMT", "\"x\"", 784111777));
}
