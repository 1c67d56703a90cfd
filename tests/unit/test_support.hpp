// test_support.hpp - helpers shared by the unit tests: running a handler over an in-memory
// stream, splitting output like Python's readlines(), capturing stderr.
#pragma once

#include <cgihttp/base_request_handler.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace test_support {

/// Splits after each LF, like Python's bytes.readlines().
inline std::vector<std::string> readlines(std::string_view data) {
    std::vector<std::string> lines;
    while (!data.empty()) {
        const std::size_t end = data.find('\n');
        const std::size_t n = end == std::string_view::npos ? data.size() : end + 1;
        lines.emplace_back(data.substr(0, n));
        data.remove_prefix(n);
    }
    return lines;
}

/// Attaches `handler` to a memory stream holding `input`, runs one handle_one_request()
/// (or handle() with `whole_connection`), and returns what was written.
template <class Handler>
std::string run_request(Handler& handler, std::string input, bool whole_connection = false,
                        std::size_t max_read = static_cast<std::size_t>(-1)) {
    cgihttp::testing::memory_stream stream(std::move(input), max_read);
    auto ref = cgihttp::make_stream_ref(stream);
    handler.connection_input().reset();
    handler.attach(ref, {"127.0.0.1", 1337}, nullptr);
    if (whole_connection)
        handler.handle();
    else
        handler.handle_one_request();
    return stream.output();
}

/// Captures what is written to file descriptor 2 while alive.
class stderr_capture {
public:
    stderr_capture() : file_(std::tmpfile()), saved_(::dup(2)) {
        std::fflush(stderr);
        ::dup2(fileno(file_), 2);
    }
    ~stderr_capture() {
        restore();
        std::fclose(file_);
    }
    /// Restores stderr and returns everything captured.
    std::string text() {
        restore();
        std::string out;
        std::rewind(file_);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;)
            out.append(buf, n);
        return out;
    }

private:
    void restore() {
        if (saved_ >= 0) {
            std::fflush(stderr);
            ::dup2(saved_, 2);
            ::close(saved_);
            saved_ = -1;
        }
    }
    std::FILE* file_;
    int saved_;
};

/// One HTTP response split into its parts (see parse_responses()).
struct parsed_response {
    std::string status_line; ///< without CRLF
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;

    /// The first value of a field (case-sensitive name match is enough for our output).
    std::optional<std::string> field(std::string_view name) const {
        for (const auto& f : fields)
            if (f.first == name) return f.second;
        return std::nullopt;
    }
    /// How many fields carry this name.
    std::size_t count(std::string_view name) const {
        std::size_t n = 0;
        for (const auto& f : fields)
            n += f.first == name ? 1 : 0;
        return n;
    }
};

/// Splits the output of a connection into responses: each head ends at an empty line and its
/// body is Content-Length bytes long (none when absent, or the rest of the output when
/// `rest_is_body` and there is no Content-Length). Heads of responses to HEAD requests must
/// be marked in `head_only` (by index). Throws std::runtime_error on malformed output.
inline std::vector<parsed_response>
parse_responses(std::string_view out, std::vector<bool> head_only = {}, bool rest_is_body = false) {
    std::vector<parsed_response> responses;
    while (!out.empty()) {
        const std::size_t end = out.find("\r\n\r\n");
        if (end == std::string_view::npos) throw std::runtime_error("incomplete response head");
        std::string_view head = out.substr(0, end + 2);
        out.remove_prefix(end + 4);
        parsed_response r;
        const std::size_t first = head.find("\r\n");
        r.status_line = std::string(head.substr(0, first));
        head.remove_prefix(first + 2);
        while (!head.empty()) {
            const std::size_t eol = head.find("\r\n");
            const std::string_view line = head.substr(0, eol);
            head.remove_prefix(eol + 2);
            const std::size_t colon = line.find(": ");
            if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
            r.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        }
        const bool no_body = responses.size() < head_only.size() && head_only[responses.size()];
        const auto length = r.field("Content-Length");
        if (!no_body && length) {
            const std::size_t n = std::stoul(*length);
            if (n > out.size()) throw std::runtime_error("body shorter than Content-Length");
            r.body = std::string(out.substr(0, n));
            out.remove_prefix(n);
        } else if (!no_body && rest_is_body) {
            r.body = std::string(out);
            out = {};
        }
        responses.push_back(std::move(r));
    }
    return responses;
}

/// Parses output that must hold exactly one response (see parse_responses()).
inline parsed_response parse_response(std::string_view out, bool head_only = false) {
    auto all = parse_responses(out, {head_only}, true);
    if (all.size() != 1) throw std::runtime_error("expected exactly one response");
    return all.front();
}

/// A temporary file with the given content, removed on destruction.
class temp_file {
public:
    explicit temp_file(std::string_view content) {
        char name[] = "/tmp/cgihttp-unit-XXXXXX";
        fd_ = ::mkstemp(name);
        if (fd_ < 0) throw std::runtime_error("mkstemp failed");
        path_ = name;
        for (std::string_view rest = content; !rest.empty();) {
            const ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n <= 0) throw std::runtime_error("write failed");
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    ~temp_file() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;

    int fd() const noexcept { return fd_; }
    const std::string& path() const noexcept { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

} // namespace test_support
