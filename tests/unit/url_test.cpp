// Tests of url.hpp: percent coding, URL splitting, normalisation and translate_path, with
// the ports of Python's SimpleHTTPRequestHandlerTestCase (translate_path cases).
#include <cgihttp/url.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using cgihttp::percent_decode;
using cgihttp::percent_encode;
using cgihttp::translate_request_path;

TEST_CASE("percent_decode turns escapes into bytes and leaves broken escapes alone") {
    CHECK(percent_decode("/a%20b") == "/a b");
    CHECK(percent_decode("%2e%2E") == "..");
    CHECK(percent_decode("%c3%A9") == "\xc3\xa9");
    CHECK(percent_decode("%00") == std::string(1, '\0'));
    CHECK(percent_decode("100%") == "100%");
    CHECK(percent_decode("%4") == "%4");
    CHECK(percent_decode("%zz%41") == "%zzA");
    CHECK(percent_decode("%%41") == "%A");
    CHECK(percent_decode("+") == "+"); // not a form decoder
}

TEST_CASE("percent_encode keeps what Python's quote keeps") {
    CHECK(percent_encode("a-b_c.d~e/f") == "a-b_c.d~e/f");
    CHECK(percent_encode("a b&c<d>.html") == "a%20b%26c%3Cd%3E.html");
    CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
    CHECK(percent_encode("\xe7w") == "%E7w");
    CHECK(percent_encode("a/b", "") == "a%2Fb");
    CHECK(percent_encode("?#%") == "%3F%23%25");
}

TEST_CASE("utf8_or_replacement replaces invalid bytes as Python's errors='replace'") {
    CHECK(cgihttp::utf8_or_replacement("plain") == "plain");
    CHECK(cgihttp::utf8_or_replacement("\xc3\xa9") == "\xc3\xa9");
    CHECK(cgihttp::utf8_or_replacement("x=\xbb") == "x=\xef\xbf\xbd");
    CHECK(cgihttp::utf8_or_replacement("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(cgihttp::utf8_or_replacement("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");
}

TEST_CASE("url_split finds the parts Python's urlsplit finds") {
    auto p = cgihttp::url_split("/dir?x=1#frag");
    CHECK(p.scheme.empty());
    CHECK(p.path == "/dir");
    CHECK(p.query == "x=1");
    CHECK(p.fragment == "frag");

    p = cgihttp::url_split("https://pypi.org/a/b?q");
    CHECK(p.scheme == "https");
    CHECK(p.netloc == "pypi.org");
    CHECK(p.path == "/a/b");
    CHECK(p.query == "q");

    p = cgihttp::url_split("/python.org/..%2f../x");
    CHECK(p.netloc.empty());
    CHECK(p.path == "/python.org/..%2f../x");

    p = cgihttp::url_split("tmpdir?hi=1");
    CHECK(p.path == "tmpdir");
    CHECK(p.query == "hi=1");

    p = cgihttp::url_split("/a:b/c"); // ':' after a '/' is not a scheme
    CHECK(p.scheme.empty());
    CHECK(p.path == "/a:b/c");
}

TEST_CASE("url_unsplit rebuilds what urlunsplit rebuilds") {
    auto p = cgihttp::url_split("/dir?hi=1");
    p.path = "/dir/";
    CHECK(cgihttp::url_unsplit(p) == "/dir/?hi=1");
    p = cgihttp::url_split("https://pypi.org/x");
    p.path = "/x/";
    CHECK(cgihttp::url_unsplit(p) == "https://pypi.org/x/");
    p = cgihttp::url_split("/dir?"); // empty query dropped, as Python does
    p.path = "/dir/";
    CHECK(cgihttp::url_unsplit(p) == "/dir/");
}

TEST_CASE("normalize_path_components behaves like posixpath.normpath") {
    const auto join = [](std::string_view path) {
        bool absolute = false;
        std::string out;
        for (auto c : cgihttp::normalize_path_components(path, absolute))
            out += "/" + std::string(c);
        return (absolute ? "abs:" : "rel:") + out;
    };
    CHECK(join("/a/./b//c/") == "abs:/a/b/c");
    CHECK(join("/a/../../b") == "abs:/b");
    CHECK(join("/../..") == "abs:");
    CHECK(join("a/../../b") == "rel:/../b");
    CHECK(join("../../x") == "rel:/../../x");
    CHECK(join("") == "rel:");
}

// Python's SimpleHTTPRequestHandlerTestCase.test_query_arguments.
TEST_CASE("test_query_arguments") {
    for (const std::string dir : {"/srv/www", "foo", "bar"}) {
        const std::string expected = dir + "/filename";
        CHECK(translate_request_path(dir, "/filename") == expected);
        CHECK(translate_request_path(dir, "/filename?foo=bar") == expected);
        CHECK(translate_request_path(dir, "/filename?a=b&spam=eggs#zot") == expected);
    }
}

// Python's SimpleHTTPRequestHandlerTestCase.test_start_with_double_slash.
TEST_CASE("test_start_with_double_slash") {
    for (const std::string dir : {"/srv/www", "foo", "bar"}) {
        const std::string expected = dir + "/filename";
        CHECK(translate_request_path(dir, "//filename") == expected);
        CHECK(translate_request_path(dir, "//filename?foo=bar") == expected);
    }
}

// test_windows_colon swaps in ntpath; on POSIX "c:" and "\" are ordinary name characters, so
// the POSIX property is checked instead: such names stay inside the directory.
TEST_CASE("drive letters and backslashes are plain name characters on POSIX") {
    CHECK(translate_request_path("/srv", "c:c:c:foo/filename") == "/srv/c:c:c:foo/filename");
    CHECK(translate_request_path("/srv", "\\c:../filename") == "/srv/\\c:../filename");
    CHECK(translate_request_path("/srv", "/..\\..\\etc\\passwd") == "/srv/..\\..\\etc\\passwd");
}

TEST_CASE("translate_path keeps a trailing slash and drops dot segments") {
    CHECK(translate_request_path("/srv", "/") == "/srv/");
    CHECK(translate_request_path("/srv", "/dir/") == "/srv/dir/");
    CHECK(translate_request_path("/srv", "/dir/?x=/") == "/srv/dir/");
    CHECK(translate_request_path("/srv", "/a/./b/../c") == "/srv/a/c");
    CHECK(translate_request_path("/srv/", "/x") == "/srv/x");
}

TEST_CASE("encoded traversal never leaves the directory") {
    CHECK(translate_request_path("/srv", "/%2e%2e/%2e%2e/etc/passwd") == "/srv/etc/passwd");
    CHECK(translate_request_path("/srv", "/..%2f..%2f..%2fetc/passwd") == "/srv/etc/passwd");
    CHECK(translate_request_path("/srv", "/%252e%252e/x") == "/srv/%2e%2e/x");
    CHECK(translate_request_path("/srv", "/%c0%ae%c0%ae/x") == "/srv/\xc0\xae\xc0\xae/x");
    CHECK(translate_request_path("/srv", "/a%00b") == std::string("/srv/a\0b", 8));
}

TEST_CASE("no random request path maps outside the directory") {
    std::mt19937 rng(20261125);
    const std::string alphabet[] = {"/",   ".", "..", "%2e", "%2f", "%2E%2E", "a",  "\\",
                                    "%00", "%", "?",  "#",   "//",  "%5c",    "b.c"};
    for (int i = 0; i < 20000; ++i) {
        std::string target;
        const int parts = 1 + static_cast<int>(rng() % 12);
        for (int k = 0; k < parts; ++k)
            target += alphabet[rng() % std::size(alphabet)];
        const std::string result = translate_request_path("/srv/root", target);
        REQUIRE_MESSAGE(result.rfind("/srv/root", 0) == 0, target);
        // No component of what follows the root may be "..".
        const std::string rest = "/" + result.substr(9) + "/";
        REQUIRE_MESSAGE(rest.find("/../") == std::string::npos, target);
    }
}
