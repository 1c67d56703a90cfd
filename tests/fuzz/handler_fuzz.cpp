// handler_fuzz.cpp - fuzz target for whole handlers: BaseRequestHandler with a small echo
// handler, and SimpleRequestHandler serving a fixed temporary directory (symbolic links
// followed, and confined), each over testing::memory_stream with handle() on the whole
// connection (keep-alive, pipelining, Expect: 100-continue, request bodies).
//
// Input: the bytes a client sends on one connection. The stream hands them over in reads
// of 1, 7 or any number of bytes (chosen by a hash of the input).
//
// Properties, for every handler:
//  1. The output is empty, starts with "HTTP/1." or is the body of an HTTP/0.9 answer (the
//     first request was a simple one and no head was written). A simple request after
//     keep-alive ones (answered as Python does) ends the connection: its body is the tail.
//  2. Every response head is well-formed: "HTTP/1.1 DDD reason" with a code 100..999 and no
//     control character in the reason, "token: value" fields with no CR, LF or NUL in the
//     value, one CRLF per line, one final empty line; at most one Content-Length and no
//     Transfer-Encoding.
//  3. The output is exactly a sequence of responses: heads at the recorded offsets, each
//     followed by a body of exactly Content-Length bytes (none for 1xx, 204, 304 and HEAD);
//     a response without Content-Length, or with "Connection: close", is the last one.
//     (The only exception is a connection error, after which unsent output is dropped.)
//  4. No exception escapes from library code: 500 answers come only from the echo handler's
//     deliberate throws.
// For the file handlers:
//  5. A file body is exactly the announced byte range of the file; 206 carries a
//     Content-Range "bytes a-b/size" consistent with it.
//  6. The confined handler never serves the file behind the symbolic link that leads out
//     of the directory.
//  7. Bodies never contain "<script" or the raw "<x>" of a file name (everything from the
//     request or the file system is escaped); a redirect's Location never starts with "//"
//     or "/\" (a scheme-relative URL to another host); the listing's title is valid UTF-8.
#include "fuzz_support.hpp"

#include <cgihttp/base_request_handler.hpp>
#include <cgihttp/simple_request_handler.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using fuzz_support::escape;

// ---- The served directory, created once ----

constexpr std::string_view outside_secret = "OUTSIDE-SECRET-3f9c";

struct served_tree {
    fs::path top;  ///< the temporary directory
    fs::path root; ///< top/root: what the file handlers serve
    served_tree() {
        // In $TMPDIR (run.sh points it at its working directory), named after the process, and
        // trees of processes that died without cleaning up (a crash skips destructors) go.
        const char* tmp = std::getenv("TMPDIR");
        const fs::path base = tmp && *tmp ? tmp : "/tmp";
        const std::string prefix = "cgihttp-fuzz-tree.";
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(base, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.compare(0, prefix.size(), prefix) != 0) continue;
            const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
            if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
                fs::remove_all(entry.path(), ec);
        }
        top = base / (prefix + std::to_string(::getpid()));
        fs::remove_all(top, ec);
        root = top / "root";
        fs::create_directories(root / "index-dir");
        fs::create_directories(root / "list-dir" / "sub");
        fs::create_directories(root / "evil.com");
        fs::create_directories(root / "\\evil.com");
        fs::create_directories(top / "outside");
        write(root / "hello.txt", "Hello, world!\n");
        write(root / "empty.txt", "");
        std::string big(40000, '\0');
        for (std::size_t i = 0; i < big.size(); ++i)
            big[i] = char((i * 7 + i / 256) & 0xff);
        write(root / "big.bin", big);
        write(root / "page.html", "<p>static page</p>\n");
        write(root / "index-dir" / "index.html", "<h1>index</h1>\n");
        write(root / "list-dir" / "a b.txt", "a b\n");
        write(root / "list-dir" / "<x>&.html", "markup in a name\n");
        write(root / "list-dir" / "caf\xc3\xa9.txt", "utf-8 name\n");
        write(root / "list-dir" / "\xff.bin", "latin-1 name\n");
        write(top / "outside" / "secret.txt", std::string(outside_secret) + "\n");
        fs::create_symlink("../outside/secret.txt", root / "link-out");
        fs::create_symlink("hello.txt", root / "link-in");
        fs::create_directory_symlink("list-dir", root / "dir-link");
        ::mkfifo((root / "fifo").c_str(), 0600);
    }
    ~served_tree() {
        std::error_code ec;
        fs::remove_all(top, ec);
    }
    static void write(const fs::path& p, const std::string& data) {
        std::ofstream(p, std::ios::binary) << data;
    }
};

const served_tree& tree() {
    static const served_tree t;
    return t;
}

// ---- Handlers that record what they write ----

struct head_record {
    std::uint64_t start, end; ///< offsets in the output
    std::string command;      ///< the request's method when the head was written
};

struct copy_record {
    std::uint64_t start, end;
    std::string expected; ///< the bytes the body source holds
    bool from_file;       ///< a file's bytes, not a page made in memory (a listing)
};

/// Silences logging and records every head written through flush_headers(), every request
/// version and every error logged.
template <class Base>
struct observed : Base {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    std::vector<head_record> heads;
    struct request_record {
        std::string version;
        std::uint64_t start; ///< output offset when its response began
    };
    std::vector<request_record> requests;
    std::vector<std::string> errors;

    void log_message(std::string_view) {}
    void log_error(std::string_view message) { errors.emplace_back(message); }
    void flush_headers() {
        const std::uint64_t before = this->wfile().bytes_written();
        Base::flush_headers();
        const std::uint64_t after = this->wfile().bytes_written();
        if (after != before) heads.push_back({before, after, this->command});
    }
    bool parse_request() {
        const std::uint64_t start = this->wfile().bytes_written();
        const bool ok = Base::parse_request();
        requests.push_back({this->request_version, start}); // failed ones are answered too
        return ok;
    }
};

/// A BaseRequestHandler exercising bodies, interim responses, unframed responses and
/// failures.
struct echo_handler : observed<cgihttp::BaseRequestHandler<echo_handler>> {
    static constexpr std::uint64_t max_request_body = 2048;
    static constexpr std::size_t max_request_head = 2048;
    static constexpr std::uint64_t max_discarded_body = 512;

    static auto extra_methods() {
        return std::vector<cgihttp::method_entry<echo_handler>>{{"SPAM", &echo_handler::do_SPAM},
                                                                {"BREW", &echo_handler::do_BREW}};
    }

    void reply(int code, std::string_view body, bool head_only = false) {
        send_response(code);
        send_header("Content-Type", "text/plain");
        send_header("Content-Length", static_cast<std::uint64_t>(body.size()));
        end_headers();
        if (!head_only) wfile().write(body);
    }
    std::string describe() {
        std::string text = command + " " + path + " " + request_version + "\n";
        for (const auto& f : headers)
            text += std::string(f.name) + ": " + std::string(f.value) + "\n";
        return text;
    }
    void do_GET() { reply(200, describe()); }
    void do_HEAD() { reply(200, describe(), true); }
    void do_POST() { reply(200, rfile().read()); } // the whole body, echoed
    void do_PUT() {
        std::size_t lines = 0;
        for (std::string line; !(line = rfile().readline(1 + lines % 50)).empty();)
            ++lines;
        send_response(201);
        send_header("Content-Length", "0");
        end_headers();
    }
    void do_DELETE() { // answers without reading the body: finish_request() deals with it
        send_response(204);
        end_headers();
    }
    void do_OPTIONS() { // reads a little of the body only
        const std::string part = rfile().read(3);
        reply(200, part);
    }
    void do_PATCH() { // no Content-Length: the connection must close after it
        send_response(200);
        end_headers();
        wfile().write("unframed body");
    }
    void do_CONNECT() { // an interim response first
        send_response_only(103);
        send_header("Link", "</style.css>; rel=preload");
        end_headers();
        reply(200, "after early hints");
    }
    void do_TRACE() { throw std::runtime_error("deliberate failure"); }
    void do_SPAM() {} // sends nothing: 500 "Handler sent no response"
    void do_BREW() { throw cgihttp::http_error(418, "I'm a teapot"); }
};

/// Records every body copyfile() sends, with the bytes its source holds.
template <class Derived>
struct file_observed : observed<cgihttp::SimpleRequestHandler<Derived>> {
    static constexpr std::chrono::milliseconds file_cache_validity{0}; // deterministic
    static constexpr bool use_system_mime_types = false;
    std::vector<copy_record> copies;

    void copyfile(cgihttp::response_body& source, cgihttp::buffered_writer& out) {
        std::string expected;
        if (source.fd() >= 0) {
            expected.resize(static_cast<std::size_t>(source.length()));
            const ssize_t n = ::pread(source.fd(), expected.data(), expected.size(),
                                      static_cast<off_t>(source.offset()));
            FUZZ_CHECK(n >= 0 && std::size_t(n) == expected.size());
        } else {
            expected = source.data();
        }
        const std::uint64_t before = out.bytes_written();
        cgihttp::SimpleRequestHandler<Derived>::copyfile(source, out);
        copies.push_back({before, out.bytes_written(), std::move(expected), source.fd() >= 0});
    }
};

struct file_handler : file_observed<file_handler> {};
struct confined_handler : file_observed<confined_handler> {
    static constexpr bool allow_symlinks_outside_directory = false;
};

// ---- Checking the output ----

struct parsed_head {
    int status = 0;
    std::vector<std::pair<std::string_view, std::string_view>> fields;

    std::size_t count(std::string_view name) const {
        std::size_t n = 0;
        for (const auto& f : fields)
            n += cgihttp::detail::iequals(f.first, name) ? 1 : 0;
        return n;
    }
    std::optional<std::string_view> get(std::string_view name) const {
        for (const auto& f : fields)
            if (cgihttp::detail::iequals(f.first, name)) return f.second;
        return std::nullopt;
    }
};

/// Checks property 2 and returns the parts of the head.
parsed_head check_head(std::string_view head, const std::string& where) {
    const std::string w = where + ": head \"" + escape(head) + "\"";
    FUZZ_CHECK_MSG(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n", w);
    for (std::size_t i = 0; i < head.size(); ++i) {
        FUZZ_CHECK_MSG(head[i] != '\0', w);
        if (head[i] == '\r') FUZZ_CHECK_MSG(i + 1 < head.size() && head[i + 1] == '\n', w);
        if (head[i] == '\n') FUZZ_CHECK_MSG(i > 0 && head[i - 1] == '\r', w);
    }
    parsed_head parsed;
    std::string_view rest = head.substr(0, head.size() - 2); // every line keeps its CRLF
    const std::size_t eol = rest.find("\r\n");
    const std::string_view status_line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    FUZZ_CHECK_MSG(status_line.size() >= 13 && status_line.substr(0, 9) == "HTTP/1.1 " &&
                       status_line[12] == ' ',
                   w);
    for (int k = 9; k < 12; ++k)
        FUZZ_CHECK_MSG(status_line[k] >= '0' && status_line[k] <= '9', w);
    parsed.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    FUZZ_CHECK_MSG(parsed.status >= 100 && parsed.status <= 999, w);
    for (const char c : status_line.substr(13)) {
        const auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK_MSG((u >= 0x20 || c == '\t') && u != 0x7f, w);
    }
    while (!rest.empty()) {
        const std::size_t end = rest.find("\r\n");
        FUZZ_CHECK_MSG(end != std::string_view::npos && end > 0, w);
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 2);
        const std::size_t colon = line.find(": ");
        FUZZ_CHECK_MSG(
            colon != std::string_view::npos && cgihttp::detail::is_token(line.substr(0, colon)), w);
        parsed.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    FUZZ_CHECK_MSG(parsed.count("Content-Length") <= 1, w);
    FUZZ_CHECK_MSG(parsed.count("Transfer-Encoding") == 0, w);
    if (const auto location = parsed.get("Location")) {
        FUZZ_CHECK_MSG(!(location->size() >= 2 && (*location)[0] == '/' &&
                         ((*location)[1] == '/' || (*location)[1] == '\\')),
                       w);
    }
    return parsed;
}

bool valid_utf8(std::string_view s) {
    return cgihttp::utf8_or_replacement(s) == s; // url_fuzz checks the function itself
}

void check_copies(const std::string& output, const std::vector<copy_record>& copies,
                  bool connection_error, const std::string& where);

struct check_options {
    bool file_handler = false;
    bool confined = false;
};

template <class Handler>
void check_output(const std::string& input, const std::string& output, const Handler& h,
                  const check_options& opt, const char* name) {
    const std::string where = std::string(name) + ", input \"" + escape(input) + "\"";
    bool connection_error = false;
    for (const std::string& e : h.errors) {
        connection_error = connection_error || e.rfind("Connection error", 0) == 0;
        // Property 4: only the echo handler's deliberate exceptions reach the catch-all.
        if (e.rfind("Exception while handling the request", 0) == 0)
            FUZZ_CHECK_MSG(!opt.file_handler && e.find("deliberate failure") != std::string::npos,
                           where + ": logged \"" + escape(e) + "\"");
    }

    // An HTTP/0.9 request (a simple one, or one whose request line says HTTP/0.9) is answered
    // with a body alone, so it must close the connection; it may come after keep-alive
    // requests (as in Python): its answer is the tail of the output, and the responses
    // before it end where it starts.
    std::uint64_t size = output.size();
    std::vector<std::uint64_t> simple_answers; // where HTTP/0.9 answers start
    for (std::size_t i = 0; i < h.requests.size(); ++i) {
        if (h.requests[i].version != "HTTP/0.9") continue;
        simple_answers.push_back(h.requests[i].start);
        // Seed http09-keep-alive: "Connection: keep-alive" once kept the connection open
        // after an HTTP/0.9 answer, whose end the client cannot find.
        FUZZ_CHECK_MSG(i + 1 == h.requests.size(),
                       where + ": a request after an HTTP/0.9 one (its answer has no end)");
        size = std::min<std::uint64_t>(size, h.requests[i].start);
        for (const head_record& rec : h.heads)
            FUZZ_CHECK_MSG(rec.end <= h.requests[i].start,
                           where + ": a head in an HTTP/0.9 answer");
    }

    // Property 1.
    if (h.heads.empty()) {
        FUZZ_CHECK_MSG(output.empty() || (!simple_answers.empty() && simple_answers.front() == 0),
                       where + ": output without a head \"" + escape(output) + "\"");
        return;
    }
    const bool starts_simple = !simple_answers.empty() && simple_answers.front() == 0;
    FUZZ_CHECK_MSG(h.heads.front().start == 0 || starts_simple, where);
    FUZZ_CHECK_MSG(output.empty() || starts_simple || output.compare(0, 7, "HTTP/1.") == 0, where);

    // Properties 2 and 3.
    for (std::size_t i = 0; i < h.heads.size(); ++i) {
        const head_record& rec = h.heads[i];
        if (i > 0) FUZZ_CHECK(h.heads[i - 1].end <= rec.start);
        if (rec.start >= size) {
            FUZZ_CHECK_MSG(connection_error, where + ": a head was never sent");
            break;
        }
        if (rec.end > size) { // cut off by a connection error
            FUZZ_CHECK_MSG(connection_error, where + ": a head was cut off");
            break;
        }
        const std::string hw = where + ", response " + std::to_string(i);
        const parsed_head head = check_head(
            std::string_view(output).substr(static_cast<std::size_t>(rec.start),
                                            static_cast<std::size_t>(rec.end - rec.start)),
            hw);
        const bool last = i + 1 == h.heads.size();
        std::uint64_t next = last ? size : std::min(h.heads[i + 1].start, size);
        for (const std::uint64_t simple : simple_answers)
            if (simple >= rec.end) next = std::min(next, simple);
        const bool complete = last ? !connection_error : h.heads[i + 1].start <= size;
        const std::uint64_t body = next - rec.end;
        const auto length = head.get("Content-Length");
        const std::string bw = hw + " (status " + std::to_string(head.status) + ", body " +
                               std::to_string(body) + " bytes)";
        if (head.status < 200 || head.status == 204 || head.status == 304 ||
            rec.command == "HEAD") {
            FUZZ_CHECK_MSG(body == 0, bw);
        } else if (length) {
            const auto n = cgihttp::detail::parse_decimal(*length);
            FUZZ_CHECK_MSG(n.has_value(), bw);
            FUZZ_CHECK_MSG(complete ? body == *n : body <= *n, bw);
        } else {
            FUZZ_CHECK_MSG(last, bw + ": a response without Content-Length is not the last");
        }
        if (const auto connection = head.get("Connection"))
            if (cgihttp::detail::iequals(*connection, "close"))
                FUZZ_CHECK_MSG(last, bw + ": a response after Connection: close");
        if (head.status == 500) FUZZ_CHECK_MSG(!opt.file_handler, bw);
        if (head.status == 206) {
            // Property 5: Content-Range agrees with Content-Length.
            const auto range = head.get("Content-Range");
            FUZZ_CHECK_MSG(range && length, bw);
            unsigned long long a = 0, b = 0, total = 0;
            FUZZ_CHECK_MSG(std::sscanf(std::string(*range).c_str(), "bytes %llu-%llu/%llu", &a, &b,
                                       &total) == 3,
                           bw);
            FUZZ_CHECK_MSG(
                a <= b && b < total && cgihttp::detail::parse_decimal(*length) == b - a + 1, bw);
        }
        // Property 7, on bodies.
        if (opt.file_handler) {
            const std::string_view content = std::string_view(output).substr(
                static_cast<std::size_t>(rec.end), static_cast<std::size_t>(body));
            FUZZ_CHECK_MSG(content.find("<script") == std::string_view::npos &&
                               content.find("<x>") == std::string_view::npos,
                           bw + ": unescaped markup in \"" + escape(content) + "\"");
            const std::size_t title = content.find("<title>Directory listing for ");
            if (title != std::string_view::npos) {
                const std::size_t end = content.find("</title>", title);
                FUZZ_CHECK_MSG(end != std::string_view::npos &&
                                   valid_utf8(content.substr(title, end - title)),
                               bw);
            }
        }
    }
    if constexpr (!std::is_same_v<Handler, echo_handler>) {
        const std::string_view tail =
            std::string_view(output).substr(static_cast<std::size_t>(size));
        FUZZ_CHECK_MSG(tail.find("<script") == std::string_view::npos &&
                           tail.find("<x>") == std::string_view::npos,
                       where + ": unescaped markup in an HTTP/0.9 answer");
        check_copies(output, h.copies, connection_error, where);
        // Property 6 (on what was read from files: the request itself may hold anything).
        for (const copy_record& c : h.copies)
            if (opt.confined && c.from_file)
                FUZZ_CHECK_MSG(c.expected.find(outside_secret) == std::string::npos,
                               where +
                                   ": the confined handler served a file outside its directory");
    }
}

/// Property 5: bodies are exactly their source's bytes.
void check_copies(const std::string& output, const std::vector<copy_record>& copies,
                  bool connection_error, const std::string& where) {
    const std::uint64_t size = output.size();
    for (const copy_record& c : copies) {
        if (c.end > size) {
            FUZZ_CHECK_MSG(connection_error, where + ": a body was never sent");
            continue;
        }
        FUZZ_CHECK_MSG(c.end - c.start == c.expected.size() &&
                           output.compare(static_cast<std::size_t>(c.start), c.expected.size(),
                                          c.expected) == 0,
                       where + ": a body differs from its file");
    }
}

template <class Handler>
void run(const std::string& input, std::size_t max_read, const check_options& opt,
         const char* name) {
    Handler handler;
    if constexpr (!std::is_same_v<Handler, echo_handler>) handler.directory = tree().root.string();
    cgihttp::testing::memory_stream stream(input, max_read);
    handler.handle(stream, cgihttp::socket_address{"192.0.2.1", 4242});
    check_output(input, stream.output(), handler, opt, name);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    tree(); // create the directory before the first input
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(bytes), size);
    const std::uint64_t h = fuzz_support::hash(input);
    const std::size_t max_reads[] = {static_cast<std::size_t>(-1), 1, 7};
    const std::size_t max_read = max_reads[h % 3];
    run<echo_handler>(input, max_read, {false, false}, "echo_handler");
    run<file_handler>(input, max_read, {true, false}, "file_handler");
    run<confined_handler>(input, max_read, {true, true}, "confined_handler");
    return 0;
}
