// SimpleRequestHandler over an in-memory stream, against a temporary directory: files,
// listings, redirects, validators, conditional requests, ranges and the symlink switch.
#include "test_support.hpp"

#include <cgihttp/simple_request_handler.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using test_support::parse_response;
using test_support::run_request;

struct file_handler : cgihttp::SimpleRequestHandler<file_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    void log_message(std::string_view) {}
};

struct confined_handler : cgihttp::SimpleRequestHandler<confined_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    static constexpr bool allow_symlinks_outside_directory = false;
    void log_message(std::string_view) {}
};

/// A handler whose extensions_map replaces Python's default one.
struct markdown_as_text : cgihttp::SimpleRequestHandler<markdown_as_text> {
    static inline const std::unordered_map<std::string, std::string> extensions_map = {
        {".md", "text/plain; charset=utf-8"}};
};

/// A temporary served directory, removed afterwards.
struct served_dir {
    fs::path root;
    served_dir() {
        char name[] = "/tmp/cgihttp-simple-XXXXXX";
        root = ::mkdtemp(name);
        write("test", "We are the knights who say Ni!");
    }
    ~served_dir() { fs::remove_all(root); }
    void write(const std::string& name, const std::string& data) const {
        std::ofstream(root / name, std::ios::binary) << data;
    }
    std::string path() const { return root.string(); }
};

template <class Handler = file_handler>
test_support::parsed_response get(const served_dir& dir, const std::string& target,
                                  const std::string& extra_headers = "",
                                  const std::string& method = "GET") {
    Handler handler;
    handler.directory = dir.path();
    return parse_response(
        run_request(handler, method + " " + target + " HTTP/1.1\r\n" + extra_headers + "\r\n"),
        method == "HEAD");
}

std::string last_modified(const served_dir& dir, const std::string& name) {
    struct stat st {};
    ::stat((dir.root / name).c_str(), &st);
    return cgihttp::format_http_date(st.st_mtim.tv_sec);
}

} // namespace

TEST_CASE("a file is served with its type, length, date and validators") {
    served_dir dir;
    dir.write("page.html", "<p>hi</p>");
    const auto r = get(dir, "/page.html");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.field("Content-type") == "text/html");
    CHECK(r.field("Content-Length") == "9");
    CHECK(r.field("Last-Modified") == last_modified(dir, "page.html"));
    CHECK(r.field("Accept-Ranges") == "bytes");
    CHECK(r.field("ETag").value_or("").size() > 2);
    CHECK(r.body == "<p>hi</p>");
}

TEST_CASE("HEAD sends exactly the GET headers and no body") {
    served_dir dir;
    const auto g = get(dir, "/test");
    const auto h = get(dir, "/test", "", "HEAD");
    CHECK(h.status_line == g.status_line);
    REQUIRE(h.fields.size() == g.fields.size());
    for (std::size_t i = 0; i < g.fields.size(); ++i)
        if (g.fields[i].first != "Date") CHECK(h.fields[i] == g.fields[i]);
    CHECK(h.body.empty());
    CHECK(h.field("Content-type") == "application/octet-stream");
}

TEST_CASE("missing files and file paths with a trailing slash are 404 File not found") {
    served_dir dir;
    CHECK(get(dir, "/ThisDoesNotExist").status_line == "HTTP/1.1 404 File not found");
    CHECK(get(dir, "/ThisDoesNotExist/").status_line == "HTTP/1.1 404 File not found");
    CHECK(get(dir, "/test/").status_line == "HTTP/1.1 404 File not found");
}

TEST_CASE("a directory without its slash is redirected, query kept") {
    served_dir dir;
    fs::create_directory(dir.root / "sub");
    auto r = get(dir, "/sub");
    CHECK(r.status_line == "HTTP/1.1 301 Moved Permanently");
    CHECK(r.field("Location") == "/sub/");
    CHECK(r.field("Content-Length") == "0");
    r = get(dir, "/sub?hi=1");
    CHECK(r.field("Location") == "/sub/?hi=1");
    r = get(dir, "sub?hi=1"); // no leading slash, as Python's test_path_without_leading_slash
    CHECK(r.field("Location") == "sub/?hi=1");
}

TEST_CASE("a redirect never starts with two slashes, backslash included") {
    served_dir dir;
    fs::create_directory(dir.root / "\\evil.com");
    const auto r = get(dir, "/\\evil.com");
    CHECK(r.status_line == "HTTP/1.1 301 Moved Permanently");
    CHECK(r.field("Location") == "/evil.com/");
}

TEST_CASE("index.html is served for a directory, a directory named index.html is not") {
    served_dir dir;
    fs::create_directories(dir.root / "spam" / "index.html");
    auto r = get(dir, "/spam/");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body.find("Directory listing for /spam/") != std::string::npos);
    dir.write("index.htm", "Dummy index file\r\n");
    r = get(dir, "/");
    CHECK(r.body == "Dummy index file\r\n");
    CHECK(r.field("Content-type") == "text/html");
    dir.write("index.html", "preferred");
    CHECK(get(dir, "/").body == "preferred");
}

TEST_CASE("a listing is Python's page: sorted, marked, escaped and encoded") {
    served_dir dir;
    dir.write("b <&>.txt", "");
    dir.write("A.txt", "");
    dir.write("\xc3\xa9t\xc3\xa9 x.txt", "");
    fs::create_directory(dir.root / "sub");
    fs::create_symlink("sub", dir.root / "linkdir");
    fs::create_symlink("test", dir.root / "linkfile");
    const auto r = get(dir, "/?q=%41");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.field("Content-type") == "text/html; charset=utf-8");
    CHECK(r.field("Content-Length") == std::to_string(r.body.size()));
    const std::string expected =
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>Directory listing for /?q=A</title>\n</head>\n<body>\n"
        "<h1>Directory listing for /?q=A</h1>\n<hr>\n<ul>\n"
        "<li><a href=\"A.txt\">A.txt</a></li>\n"
        "<li><a href=\"b%20%3C%26%3E.txt\">b &lt;&amp;&gt;.txt</a></li>\n"
        "<li><a href=\"linkdir/\">linkdir@</a></li>\n"
        "<li><a href=\"linkfile\">linkfile@</a></li>\n"
        "<li><a href=\"sub/\">sub/</a></li>\n"
        "<li><a href=\"test\">test</a></li>\n"
        "<li><a href=\"%C3%A9t%C3%A9%20x.txt\">\xc3\xa9t\xc3\xa9 x.txt</a></li>\n"
        "</ul>\n<hr>\n</body>\n</html>\n";
    CHECK(r.body == expected);
}

// Python's test_undecodable_parameter.
TEST_CASE("test_undecodable_parameter") {
    served_dir dir;
    CHECK(get(dir, "/?x=123").body.find("listing for /?x=123") != std::string::npos);
    CHECK(get(dir, "/?x=%bb").body.find("listing for /?x=\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("single ranges are answered 206, others as RFC 9110 says") {
    served_dir dir;
    auto r = get(dir, "/test", "Range: bytes=3-5\r\n");
    CHECK(r.status_line == "HTTP/1.1 206 Partial Content");
    CHECK(r.field("Content-Range") == "bytes 3-5/30");
    CHECK(r.field("Content-Length") == "3");
    CHECK(r.body == "are");
    r = get(dir, "/test", "Range: bytes=-3\r\n");
    CHECK(r.body == "Ni!");
    r = get(dir, "/test", "Range: bytes=30-\r\n");
    CHECK(r.status_line == "HTTP/1.1 416 Requested Range Not Satisfiable");
    CHECK(r.field("Content-Range") == "bytes */30");
    r = get(dir, "/test", "Range: bytes=0-1,4-5\r\n");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body.size() == 30);
    r = get(dir, "/test", "Range: bytes=x\r\n");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    const auto h = get(dir, "/test", "Range: bytes=4-6\r\n", "HEAD");
    CHECK(h.status_line == "HTTP/1.1 206 Partial Content");
    CHECK(h.body.empty());
}

TEST_CASE("If-Range lets a range through only for the current file") {
    served_dir dir;
    const std::string etag = *get(dir, "/test").field("ETag");
    CHECK(get(dir, "/test", "Range: bytes=0-1\r\nIf-Range: " + etag + "\r\n").status_line ==
          "HTTP/1.1 206 Partial Content");
    CHECK(get(dir, "/test", "Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n").status_line ==
          "HTTP/1.1 200 OK");
    CHECK(get(dir, "/test", "Range: bytes=0-1\r\nIf-Range: " + last_modified(dir, "test") + "\r\n")
              .status_line == "HTTP/1.1 206 Partial Content");
}

TEST_CASE("conditional requests get 304 and 412 as RFC 9110 orders them") {
    served_dir dir;
    const std::string etag = *get(dir, "/test").field("ETag");
    const std::string date = last_modified(dir, "test");
    auto r = get(dir, "/test", "If-None-Match: " + etag + "\r\n");
    CHECK(r.status_line == "HTTP/1.1 304 Not Modified");
    CHECK(r.field("ETag") == etag);
    CHECK(r.body.empty());
    CHECK(get(dir, "/test", "If-None-Match: \"other\"\r\n").status_line == "HTTP/1.1 200 OK");
    CHECK(get(dir, "/test", "If-Modified-Since: " + date + "\r\n").status_line ==
          "HTTP/1.1 304 Not Modified");
    CHECK(get(dir, "/test", "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n").status_line ==
          "HTTP/1.1 200 OK");
    // test_browser_cache_with_If_None_Match_header: If-None-Match wins over IMS.
    CHECK(get(dir, "/test", "If-Modified-Since: " + date + "\r\nIf-None-Match: \"other\"\r\n")
              .status_line == "HTTP/1.1 200 OK");
    CHECK(get(dir, "/test", "If-Match: \"other\"\r\n").status_line ==
          "HTTP/1.1 412 Precondition Failed");
    CHECK(get(dir, "/test", "If-Match: " + etag + "\r\n").status_line == "HTTP/1.1 200 OK");
    CHECK(get(dir, "/test", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n").status_line ==
          "HTTP/1.1 412 Precondition Failed");
}

TEST_CASE("symbolic links out of the directory are followed, or refused when switched off") {
    served_dir dir;
    served_dir outside;
    outside.write("secret", "outside");
    fs::create_symlink(outside.root / "secret", dir.root / "out");
    fs::create_symlink(outside.root, dir.root / "outdir");
    fs::create_symlink("test", dir.root / "in");
    CHECK(get(dir, "/out").body == "outside"); // Python's behaviour
    CHECK(get<confined_handler>(dir, "/out").status_line == "HTTP/1.1 404 File not found");
    CHECK(get<confined_handler>(dir, "/outdir/secret").status_line ==
          "HTTP/1.1 404 File not found");
    CHECK(get<confined_handler>(dir, "/in").body == "We are the knights who say Ni!");
    CHECK(get<confined_handler>(dir, "/test").status_line == "HTTP/1.1 200 OK");
    CHECK(get<confined_handler>(dir, "/").status_line == "HTTP/1.1 200 OK");
}

TEST_CASE("encoded traversal, NUL and special files never reach outside or hang") {
    served_dir dir;
    CHECK(get(dir, "/%2e%2e/%2e%2e/etc/passwd").status_line == "HTTP/1.1 404 File not found");
    CHECK(get(dir, "/..%2f..%2fetc%2fpasswd").status_line == "HTTP/1.1 404 File not found");
    CHECK(get(dir, "/test%00.txt").status_line == "HTTP/1.1 400 Bad request path");
    REQUIRE(::mkfifo((dir.root / "fifo").c_str(), 0600) == 0);
    CHECK(get(dir, "/fifo").status_line == "HTTP/1.1 404 File not found");
}

TEST_CASE("a large file arrives intact through the buffered copy") {
    served_dir dir;
    std::string data(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7 + i / 251);
    dir.write("big.bin", data);
    const auto r = get(dir, "/big.bin");
    CHECK(r.field("Content-Length") == std::to_string(data.size()));
    CHECK(r.body == data);
    CHECK(get(dir, "/big.bin", "Range: bytes=1000000-1000009\r\n").body ==
          data.substr(1000000, 10));
}

TEST_CASE("guess_type uses extensions_map first, case-insensitively") {
    file_handler handler;
    CHECK(handler.guess_type("x.gz") == "application/gzip");
    CHECK(handler.guess_type("x.tar.GZ") == "application/gzip");
    CHECK(handler.guess_type("x.Z") == "application/octet-stream");
    CHECK(handler.guess_type("x.html") == "text/html");
    CHECK(handler.guess_type("x.PNG") == "image/png");
    CHECK(handler.guess_type("noext") == "application/octet-stream");

    markdown_as_text c;
    CHECK(c.guess_type("README.md") == "text/plain; charset=utf-8");
    // Without the default map, ".gz" is only a content coding to mimetypes: no type.
    CHECK(c.guess_type("x.gz") == "application/octet-stream");
}

TEST_CASE("the served directory may be a data member, a static member or a function") {
    served_dir dir;
    static std::string shared_root;
    shared_root = dir.path();
    struct from_function : cgihttp::SimpleRequestHandler<from_function> {
        std::string_view directory() const { return shared_root; }
        void log_message(std::string_view) {}
    };
    from_function handler;
    const auto r = parse_response(run_request(handler, "GET /test HTTP/1.0\r\n\r\n"));
    CHECK(r.body == "We are the knights who say Ni!");
}

TEST_CASE("only GET and HEAD are served") {
    served_dir dir;
    CHECK(get(dir, "/test", "Content-Length: 0\r\n", "POST").status_line ==
          "HTTP/1.1 501 Unsupported method ('POST')");
    CHECK(get(dir, "/test", "", "PUT").status_line == "HTTP/1.1 501 Unsupported method ('PUT')");
}
