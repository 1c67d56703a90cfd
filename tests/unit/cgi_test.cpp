// Tests of the CGI pieces: path collapsing and dissection (with Python's test vectors), the
// environment builder, the response-header parser, the process layer, and CGIRequestHandler
// over an in-memory stream.
#include "test_support.hpp"

#include <cgihttp/cgi_request_handler.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <sys/stat.h>

namespace fs = std::filesystem;
using test_support::parse_response;
using test_support::run_request;

// Python's CGIHTTPServerTestCase.test_url_collapse_path, every vector.
TEST_CASE("test_url_collapse_path") {
    const std::map<std::string, std::optional<std::string>> vectors = {
        {"", "//"},
        {"..", std::nullopt},
        {"/.//..", std::nullopt},
        {"/", "//"},
        {"//", "//"},
        {"/\\", "//\\"},
        {"/.//", "//"},
        {"cgi-bin/file1.py", "/cgi-bin/file1.py"},
        {"/cgi-bin/file1.py", "/cgi-bin/file1.py"},
        {"a", "//a"},
        {"/a", "//a"},
        {"//a", "//a"},
        {"./a", "//a"},
        {"./C:/", "/C:/"},
        {"/a/b", "/a/b"},
        {"/a/b/", "/a/b/"},
        {"/a/b/.", "/a/b/"},
        {"/a/b/c/..", "/a/b/"},
        {"/a/b/c/../d", "/a/b/d"},
        {"/a/b/c/../d/e/../f", "/a/b/d/f"},
        {"/a/b/c/../d/e/../../f", "/a/b/f"},
        {"/a/b/c/../d/e/.././././..//f", "/a/b/f"},
        {"../a/b/c/../d/e/.././././..//f", std::nullopt},
        {"/a/b/c/../d/e/../../../f", "/a/f"},
        {"/a/b/c/../d/e/../../../../f", "//f"},
        {"/a/b/c/../d/e/../../../../../f", std::nullopt},
        {"/a/b/c/../d/e/../../../../f/..", "//"},
        {"/a/b/c/../d/e/../../../../f/../.", "//"},
    };
    for (const auto& [path, expected] : vectors)
        CHECK_MESSAGE(cgihttp::url_collapse_path(path) == expected, path);
}

TEST_CASE("url collapsing can stop extra '..' at the root, as translate_path does") {
    CHECK(cgihttp::url_collapse_path("/cgi-bin/../../cgi-bin/x.py", true) == "/cgi-bin/x.py");
    CHECK(cgihttp::url_collapse_path("..", true) == "//");
    CHECK(cgihttp::url_collapse_path("/a/../../..", true) == "//");
}

TEST_CASE("url collapsing decodes the path but not the query") {
    CHECK(cgihttp::url_collapse_path("/cgi-bin%2ffile1.py") == "/cgi-bin/file1.py");
    CHECK(cgihttp::url_collapse_path("/cgi-bin/file4.py?a=b?c=d") == "/cgi-bin/file4.py?a=b?c=d");
    CHECK(cgihttp::url_collapse_path("/x?k=aa%2F%2Fbb") == "//x?k=aa%2F%2Fbb");
}

TEST_CASE("a collapsed path is decoded exactly once on its way to translate_path") {
    // Double-encoded dots stay a name: decoding them again would climb out of cgi-bin.
    CHECK(cgihttp::url_collapse_path("/cgi-bin/%252e%252e/sub/tool.sh") ==
          "/cgi-bin/%252e%252e/sub/tool.sh");
    // An encoded '?' or '#' is part of a name, not the query or a fragment.
    CHECK(cgihttp::url_collapse_path("/cgi-bin/a%3Fb%23c.sh?q=1") == "/cgi-bin/a%3Fb%23c.sh?q=1");
    CHECK(cgihttp::url_collapse_path("/cgi-bin/caf%C3%A9.sh") == "/cgi-bin/caf%C3%A9.sh");
    CHECK(cgihttp::url_collapse_path("/cgi-bin/a%20b%5Cc.sh") == "/cgi-bin/a b\\c.sh");
    const auto never = [](const std::string&) { return false; };
    const auto parts = cgihttp::split_cgi_path("/cgi-bin", "a%3Fb%23c.sh/x%3Fy?q=1", never);
    CHECK(parts.script_url == "/cgi-bin/a%3Fb%23c.sh");
    CHECK(parts.script_name == "/cgi-bin/a?b#c.sh");
    CHECK(parts.path_info == "/x%3Fy");
    CHECK(parts.query == "q=1");
}

TEST_CASE("a fragment is dropped before collapsing, as translate_path drops it") {
    CHECK(cgihttp::url_collapse_path("/cgi-bin/x.sh#/../..", true) == "/cgi-bin/x.sh");
    CHECK(cgihttp::url_collapse_path("/cgi-bin/#/../..", true) == "/cgi-bin/");
    CHECK(cgihttp::url_collapse_path("/cgi-bin/x.sh?a=1#/../..", true) == "/cgi-bin/x.sh?a=1");
}

TEST_CASE("the shortest matching CGI directory is found") {
    const std::vector<std::string> dirs = {"/cgi-bin", "/htbin", "/sub/dir/cgi-bin"};
    auto found = cgihttp::find_cgi_directory("/cgi-bin/file1.py", dirs);
    REQUIRE(found);
    CHECK(found->first == "/cgi-bin");
    CHECK(found->second == "file1.py");
    found = cgihttp::find_cgi_directory("/sub/dir/cgi-bin/file5.py", dirs);
    REQUIRE(found);
    CHECK(found->first == "/sub/dir/cgi-bin");
    CHECK(found->second == "file5.py");
    CHECK_FALSE(cgihttp::find_cgi_directory("/cgi-binx/file.py", dirs));
    CHECK_FALSE(cgihttp::find_cgi_directory("//cgi-bin", dirs));
    found = cgihttp::find_cgi_directory("/cgi-bin/", dirs);
    REQUIRE(found);
    CHECK(found->second.empty());
}

TEST_CASE("a CGI path splits into nested directories, script, extra path and query") {
    const std::set<std::string> directories = {"/cgi-bin/child-dir"};
    const auto is_dir = [&](const std::string& p) { return directories.count(p) != 0; };
    auto parts = cgihttp::split_cgi_path("/cgi-bin", "child-dir/file3.py/a/b?x=1?y", is_dir);
    CHECK(parts.script_name == "/cgi-bin/child-dir/file3.py");
    CHECK(parts.path_info == "/a/b");
    CHECK(parts.query == "x=1?y");
    parts = cgihttp::split_cgi_path("/cgi-bin", "file4.py?k=aa//q//p", is_dir);
    CHECK(parts.script_name == "/cgi-bin/file4.py");
    CHECK(parts.path_info.empty());
    CHECK(parts.query == "k=aa//q//p");
}

TEST_CASE("an ISINDEX query becomes decoded argument words (RFC 3875 4.4)") {
    using v = std::vector<std::string>;
    CHECK(cgihttp::isindex_arguments("") == v{});
    CHECK(cgihttp::isindex_arguments("a=b") == v{});
    CHECK(cgihttp::isindex_arguments("word") == v{"word"});
    CHECK(cgihttp::isindex_arguments("one+two%20three+%2B") == v{"one", "two three", "+"});
}

TEST_CASE("base64 decoding for Basic credentials") {
    CHECK(cgihttp::base64_decode("dXNlcm5hbWU6cGFzcw==") == "username:pass");
    CHECK(cgihttp::base64_decode("YQ==") == "a");
    CHECK(cgihttp::base64_decode("YWI=") == "ab");
    CHECK(cgihttp::base64_decode("YWJj") == "abc");
    CHECK(cgihttp::base64_decode("") == "");
    CHECK_FALSE(cgihttp::base64_decode("YWJ"));
    CHECK_FALSE(cgihttp::base64_decode("Y=Jj"));
    CHECK_FALSE(cgihttp::base64_decode("YW*j"));
    CHECK_FALSE(cgihttp::base64_decode("YQ==YQ=="));
}

TEST_CASE("the environment starts from the server's and request variables override it") {
    const std::vector<std::string> base = {"PATH=/bin", "SERVER_SOFTWARE=outer", "HOME=/root"};
    cgihttp::cgi_environment env(base);
    env.set("SERVER_SOFTWARE", "cgihttp");
    env.set("A", "1");
    env.set("A", "2");
    env.unset("HOME");
    env.set_default("A", "3");
    env.set_default("B", "");
    CHECK(env.get("SERVER_SOFTWARE") == "cgihttp");
    CHECK(env.get("PATH") == "/bin");
    CHECK(env.get("A") == "2");
    CHECK(env.get("B") == "");
    CHECK_FALSE(env.get("HOME"));
    const auto entries = env.entries();
    CHECK(std::set<std::string>(entries.begin(), entries.end()) ==
          std::set<std::string>{"SERVER_SOFTWARE=cgihttp", "A=2", "B=", "PATH=/bin"});
}

TEST_CASE("request headers become HTTP_* except credentials, Proxy and underscored names") {
    cgihttp::headers h;
    h.add("User-Agent", "test");
    h.add("X-Forwarded-For", "1.2.3.4");
    h.add("X_Forwarded_For", "spoofed");
    h.add("Proxy", "http://evil:1");
    h.add("Authorization", "Basic eDp5");
    h.add("Proxy-Authorization", "Basic eDp5");
    h.add("Content-Type", "text/plain");
    h.add("Content-Length", "3");
    h.add("Cookie", "a=1");
    h.add("Cookie", "b=2");
    h.add("X-Multi", "1");
    h.add("x-multi", "2");
    const std::vector<std::string> no_base;
    cgihttp::cgi_environment env(no_base);
    env.add_request_headers(h);
    CHECK(env.get("HTTP_USER_AGENT") == "test");
    CHECK(env.get("HTTP_X_FORWARDED_FOR") == "1.2.3.4");
    CHECK_FALSE(env.get("HTTP_PROXY"));
    CHECK_FALSE(env.get("HTTP_AUTHORIZATION"));
    CHECK_FALSE(env.get("HTTP_PROXY_AUTHORIZATION"));
    CHECK_FALSE(env.get("HTTP_CONTENT_TYPE"));
    CHECK_FALSE(env.get("HTTP_CONTENT_LENGTH"));
    CHECK(env.get("HTTP_COOKIE") == "a=1; b=2");
    CHECK(env.get("HTTP_X_MULTI") == "1, 2");
}

namespace {
cgihttp::cgi_response_parser::result feed_all(cgihttp::cgi_response_parser& p,
                                              std::string_view text, std::string* body = nullptr,
                                              bool byte_by_byte = false) {
    std::string pending;
    auto r = cgihttp::cgi_response_parser::result::need_more;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t n = byte_by_byte ? 1 : text.size();
        pending.append(text.substr(i, n));
        i += n;
        std::size_t consumed = 0;
        r = p.feed(pending, consumed);
        pending.erase(0, consumed);
        if (r != cgihttp::cgi_response_parser::result::need_more) break;
    }
    if (body) *body = pending + std::string(text.substr(i));
    return r;
}
} // namespace

TEST_CASE("a document response: fields in order, body after the blank line") {
    for (const bool bytewise : {false, true}) {
        cgihttp::cgi_response_parser p;
        std::string body;
        REQUIRE(feed_all(p,
                         "Content-Type: text/html\nX-A: 1\r\nSet-Cookie: a\nSet-Cookie: b\n\nBODY",
                         &body, bytewise) == cgihttp::cgi_response_parser::result::done);
        const auto& r = p.response();
        CHECK(r.kind == cgihttp::cgi_response_kind::document);
        CHECK(r.status == 200);
        CHECK(r.fields.size() == 4);
        CHECK(r.fields[0].first == "Content-Type");
        CHECK(r.fields[3].second == "b");
        CHECK(body == "BODY");
    }
}

TEST_CASE("Status sets the status and reason") {
    cgihttp::cgi_response_parser p;
    REQUIRE(feed_all(p, "Status: 404 Not Here\nContent-Type: text/plain\n\n") ==
            cgihttp::cgi_response_parser::result::done);
    CHECK(p.response().status == 404);
    CHECK(p.response().reason == "Not Here");
    cgihttp::cgi_response_parser q;
    REQUIRE(feed_all(q, "Status: 204\n\n") == cgihttp::cgi_response_parser::result::done);
    CHECK(q.response().status == 204);
    CHECK(q.response().reason.empty());
}

TEST_CASE("Location makes a local or a client redirect") {
    cgihttp::cgi_response_parser local;
    REQUIRE(feed_all(local, "Location: /x?y\n\n") == cgihttp::cgi_response_parser::result::done);
    CHECK(local.response().kind == cgihttp::cgi_response_kind::local_redirect);
    CHECK(local.response().location == "/x?y");

    cgihttp::cgi_response_parser client;
    REQUIRE(feed_all(client, "Location: http://example.com/\n\n") ==
            cgihttp::cgi_response_parser::result::done);
    CHECK(client.response().kind == cgihttp::cgi_response_kind::client_redirect);
    CHECK(client.response().status == 302);

    cgihttp::cgi_response_parser see_other;
    REQUIRE(feed_all(see_other, "Status: 303 See Other\nLocation: /done\n\n") ==
            cgihttp::cgi_response_parser::result::done);
    CHECK(see_other.response().kind == cgihttp::cgi_response_kind::client_redirect);
    CHECK(see_other.response().status == 303);

    cgihttp::cgi_response_parser scheme_relative;
    REQUIRE(feed_all(scheme_relative, "Location: //evil.example/\n\n") ==
            cgihttp::cgi_response_parser::result::done);
    CHECK(scheme_relative.response().kind == cgihttp::cgi_response_kind::client_redirect);
}

TEST_CASE("hop-by-hop fields from a script are dropped, Content-Length is checked") {
    cgihttp::cgi_response_parser p;
    REQUIRE(feed_all(p, "Content-Type: a/b\nConnection: close\nTransfer-Encoding: chunked\n"
                        "Content-Length: 12\n\n") == cgihttp::cgi_response_parser::result::done);
    CHECK(p.response().fields.size() == 1);
    CHECK(p.response().content_length == 12u);
    cgihttp::cgi_response_parser bad;
    CHECK(feed_all(bad, "Content-Length: 1x\n\n") == cgihttp::cgi_response_parser::result::error);
}

TEST_CASE("malformed header blocks are errors") {
    for (const char* text :
         {"no colon here\n\n", "Status: abc\n\n", "Status: 99 x\n\n", "Status: 2000\n\n",
          " folded: x\n\n", "Bad Name: x\n\n", "X: a\rb\n\n", "\n", "Location:\n\n"}) {
        cgihttp::cgi_response_parser p;
        CHECK_MESSAGE(feed_all(p, text) == cgihttp::cgi_response_parser::result::error, text);
        CHECK_FALSE(p.error().empty());
    }
    cgihttp::cgi_response_parser big(100);
    CHECK(feed_all(big, "X: " + std::string(200, 'a') + "\n\n") ==
          cgihttp::cgi_response_parser::result::error);
    cgihttp::cgi_response_parser unfinished(100);
    CHECK(feed_all(unfinished, std::string(200, 'a')) ==
          cgihttp::cgi_response_parser::result::error);
}

TEST_CASE("spawn runs a program with its environment, directory and pipes only") {
    auto out = cgihttp::detail::make_pipe();
    std::string program = "/bin/sh";
    std::string flag = "-c";
    std::string script = "echo \"$GREETING\"; pwd; ls /proc/self/fd | wc -l";
    char* argv[] = {program.data(), flag.data(), script.data(), nullptr};
    std::string greeting = "GREETING=hello";
    char* envp[] = {greeting.data(), nullptr};
    cgihttp::detail::spawn_spec spec;
    spec.program = program.c_str();
    spec.argv = argv;
    spec.envp = envp;
    spec.working_directory = "/tmp";
    spec.stdin_fd = cgihttp::detail::dev_null();
    spec.stdout_fd = out.write.get();
    spec.stderr_fd = out.write.get();
    cgihttp::detail::spawn_error error;
    const pid_t pid = cgihttp::detail::spawn(spec, error);
    REQUIRE(pid > 0);
    out.write.reset();
    cgihttp::detail::child_process child(pid);
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(out.read.get(), buf, sizeof buf)) > 0;)
        text.append(buf, std::size_t(n));
    child.wait();
    CHECK(WIFEXITED(child.status()));
    CHECK(WEXITSTATUS(child.status()) == 0);
    // 0, 1, 2 and the directory ls reads: nothing of this process leaked.
    CHECK(text == "hello\n/tmp\n4\n");
}

TEST_CASE("a failed spawn reports the step and the error") {
    std::string program = "/nonexistent/program";
    char* argv[] = {program.data(), nullptr};
    char* envp[] = {nullptr};
    cgihttp::detail::spawn_spec spec;
    spec.program = program.c_str();
    spec.argv = argv;
    spec.envp = envp;
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = cgihttp::detail::dev_null();
    cgihttp::detail::spawn_error error;
    CHECK(cgihttp::detail::spawn(spec, error) == -1);
    CHECK(std::string(error.step) == "execve");
    CHECK(error.error == ENOENT);

    spec.program = "/bin/true";
    spec.working_directory = "/nonexistent/directory";
    error = {};
    CHECK(cgihttp::detail::spawn(spec, error) == -1);
    CHECK(std::string(error.step) == "chdir");
}

TEST_CASE("a child's owner kills its whole group and reaps it") {
    auto out = cgihttp::detail::make_pipe();
    std::string program = "/bin/sh";
    std::string flag = "-c";
    std::string script = "sleep 30 & echo $!; wait";
    char* argv[] = {program.data(), flag.data(), script.data(), nullptr};
    char* envp[] = {nullptr};
    cgihttp::detail::spawn_spec spec;
    spec.program = program.c_str();
    spec.argv = argv;
    spec.envp = envp;
    spec.stdin_fd = cgihttp::detail::dev_null();
    spec.stdout_fd = out.write.get();
    spec.stderr_fd = cgihttp::detail::dev_null();
    cgihttp::detail::spawn_error error;
    const pid_t pid = cgihttp::detail::spawn(spec, error);
    REQUIRE(pid > 0);
    out.write.reset();
    char buf[64] = {};
    REQUIRE(::read(out.read.get(), buf, sizeof buf - 1) > 0);
    const pid_t grandchild = std::atoi(buf);
    {
        cgihttp::detail::child_process child(pid);
        CHECK(child.pidfd() >= 0);
        CHECK_FALSE(child.try_wait());
    }                                              // destroyed: group killed, child reaped
    CHECK(::waitpid(pid, nullptr, WNOHANG) == -1); // already reaped
    // Dead means gone, or a zombie left for init (or a subreaper) to reap.
    const auto alive = [&] {
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string pid_text, comm, state;
        return stat >> pid_text >> comm >> state && state != "Z";
    };
    for (int i = 0; i < 100 && alive(); ++i)
        ::usleep(10000);
    CHECK_FALSE(alive());
}

namespace {
/// A handler running scripts from a temporary directory over an in-memory stream.
struct script_handler : cgihttp::CGIRequestHandler<script_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    void log_message(std::string_view) {}
};

struct cgi_dir {
    fs::path root;
    cgi_dir() {
        char name[] = "/tmp/cgihttp-cgi-XXXXXX";
        root = ::mkdtemp(name);
        fs::create_directory(root / "cgi-bin");
        fs::permissions(root, fs::perms(0755));
        fs::permissions(root / "cgi-bin", fs::perms(0755));
    }
    ~cgi_dir() { fs::remove_all(root); }
    void script(const std::string& name, const std::string& body, int mode = 0755) const {
        std::ofstream(root / "cgi-bin" / name) << "#!/bin/sh\n" << body;
        ::chmod((root / "cgi-bin" / name).c_str(), mode_t(mode));
    }
    test_support::parsed_response request(const std::string& text) const {
        script_handler h;
        h.directory = root.string();
        return parse_response(run_request(h, text));
    }
};
} // namespace

TEST_CASE("a script over an in-memory stream: parsed headers, chunked body") {
    cgi_dir dir;
    dir.script("hello.sh", "printf 'Content-Type: text/plain\\r\\nX-A: 1\\r\\n\\r\\nhi\\n'\n");
    const auto r = dir.request("GET /cgi-bin/hello.sh HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.field("Content-Type") == "text/plain");
    CHECK(r.field("X-A") == "1");
    CHECK(r.field("Transfer-Encoding") == "chunked");
    CHECK(r.body == "3\r\nhi\n\r\n0\r\n\r\n");
}

TEST_CASE("a request body from a stream without a socket is spooled to the script") {
    cgi_dir dir;
    dir.script("echo.sh",
               "printf 'Content-Type: text/plain\\n\\n'; echo \"$CONTENT_LENGTH\"; cat\n");
    auto r = dir.request("POST /cgi-bin/echo.sh HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body == "5\nhello");
    r = dir.request("POST /cgi-bin/echo.sh HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    CHECK(r.body == "5\nabcde");
}

TEST_CASE("Python's error messages for missing, non-executable and non-file scripts") {
    cgi_dir dir;
    dir.script("plain.sh", "echo\n", 0644);
    fs::create_directory(dir.root / "cgi-bin" / "sub");
    CHECK(dir.request("GET /cgi-bin/x HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 404 No such CGI script ('/cgi-bin/x')");
    CHECK(dir.request("GET /cgi-bin/plain.sh HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 403 CGI script is not executable ('/cgi-bin/plain.sh')");
    CHECK(dir.request("GET /cgi-bin/sub HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 403 CGI script is not a plain file ('/cgi-bin/sub')");
    CHECK(dir.request("POST /other.txt HTTP/1.0\r\nContent-Length: 0\r\n\r\n").status_line ==
          "HTTP/1.1 501 Can only POST to CGI scripts");
    // Climbing above the root lands where translate_path() lands: the script, not its source.
    CHECK(dir.request("GET /cgi-bin/../../cgi-bin/plain.sh HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 403 CGI script is not executable ('/cgi-bin/plain.sh')");
}

TEST_CASE("a script without a valid header block is a 502") {
    cgi_dir dir;
    dir.script("none.sh", "exit 0\n");
    dir.script("bad.sh", "echo 'no header line'; echo\n");
    CHECK(dir.request("GET /cgi-bin/none.sh HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 502 Bad Gateway");
    CHECK(dir.request("GET /cgi-bin/bad.sh HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 502 Bad Gateway");
}

TEST_CASE("a local redirect is served as a GET of the new path") {
    cgi_dir dir;
    std::ofstream(dir.root / "page.txt") << "static page";
    dir.script("go.sh", "echo 'Location: /page.txt'; echo\n");
    dir.script("loop.sh", "echo 'Location: /cgi-bin/loop.sh'; echo\n");
    const auto r = dir.request("POST /cgi-bin/go.sh HTTP/1.0\r\nContent-Length: 2\r\n\r\nxy");
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body == "static page");
    CHECK(dir.request("GET /cgi-bin/loop.sh HTTP/1.0\r\n\r\n").status_line ==
          "HTTP/1.1 500 Too many local redirects");
}

TEST_CASE("filter_cgi_environment can remove what the server's environment holds") {
    struct filtering : cgihttp::CGIRequestHandler<filtering> {
        void filter_cgi_environment(cgihttp::cgi_environment& env) {
            env.unset("PATH");
            env.set("EXTRA", "added");
        }
        void log_message(std::string_view) {}
    };
    cgi_dir dir;
    // dash gives itself a default PATH, so ask env(1) what was really passed.
    dir.script("env.sh", "echo 'Content-Type: text/plain'; echo; /usr/bin/env | grep -c '^PATH='; "
                         "echo \"$EXTRA\"\n");
    filtering h;
    h.directory = dir.root.string();
    const auto r = parse_response(run_request(h, "GET /cgi-bin/env.sh HTTP/1.0\r\n\r\n"));
    CHECK(r.body == "0\nadded\n");
}

TEST_CASE("a header block written in pieces is parsed once") {
    cgi_dir dir;
    dir.script("slow.sh", "printf 'Content-Type: text/plain\\n'; sleep 0.1; printf 'X-B: 2\\n'; "
                          "sleep 0.1; printf '\\nbody'\n");
    const auto r = dir.request("GET /cgi-bin/slow.sh HTTP/1.0\r\n\r\n");
    CHECK(r.count("Content-Type") == 1);
    CHECK(r.count("X-B") == 1);
    CHECK(r.body == "body");
}

TEST_CASE("check_basic_credentials decides whether REMOTE_USER is set") {
    struct checking : cgihttp::CGIRequestHandler<checking> {
        bool check_basic_credentials(std::string_view user, std::string_view password) {
            return user == "alice" && password == "secret:with:colons";
        }
        void log_message(std::string_view) {}
    };
    cgi_dir dir;
    dir.script("who.sh",
               "echo 'Content-Type: text/plain'; echo; echo \"$AUTH_TYPE/${REMOTE_USER-none}\"\n");
    const auto ask = [&](const std::string& credentials) {
        checking h;
        h.directory = dir.root.string();
        return parse_response(
                   run_request(h, "GET /cgi-bin/who.sh HTTP/1.0\r\nAuthorization: Basic " +
                                      credentials + "\r\n\r\n"))
            .body;
    };
    CHECK(ask("YWxpY2U6c2VjcmV0OndpdGg6Y29sb25z") == "Basic/alice\n"); // alice:secret:with:colons
    CHECK(ask("YWxpY2U6d3Jvbmc=") == "Basic/none\n");                  // alice:wrong
    CHECK(ask("!!!") == "Basic/none\n");
}

TEST_CASE("a server speaking HTTPS gives scripts REQUEST_SCHEME=https and HTTPS=on") {
    struct quiet : cgihttp::CGIRequestHandler<quiet> {
        void log_message(std::string_view) {}
    };
    cgi_dir dir;
    dir.script("scheme.sh", "echo 'Content-Type: text/plain'; echo; "
                            "echo \"$REQUEST_SCHEME ${HTTPS-unset}\"\n");
    const auto scheme_seen = [&](std::string scheme) {
        cgihttp::server_info info;
        info.scheme = std::move(scheme);
        quiet h;
        h.directory = dir.root.string();
        cgihttp::testing::memory_stream stream("GET /cgi-bin/scheme.sh HTTP/1.0\r\n\r\n");
        h.handle(stream, {"127.0.0.1", 1337}, &info);
        return parse_response(stream.output()).body;
    };
    CHECK(scheme_seen("https") == "https on\n");
    CHECK(scheme_seen("http") == "http unset\n");
}
