// test_support.hpp - helpers shared by the unit tests: running a handler over an in-memory
// stream, splitting output like Python's readlines(), capturing stderr.
#pragma once

#include <cgihttp/base_request_handler.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <cstdio>
#include <string>
#include <string_view>
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

} // namespace test_support
