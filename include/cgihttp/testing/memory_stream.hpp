// cgihttp/testing/memory_stream.hpp - an in-memory stream for testing handlers without
// sockets: scripted input, captured output, a count of writes.
// Python counterpart: the BytesIO rfile/wfile of test_httpservers.SocketlessRequestHandler.
#pragma once

#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace cgihttp::testing {

/// A synchronous stream (read_some/write_some) over strings. Reads return the scripted input,
/// at most `max_read` bytes at a time (to exercise partial reads), then eof.
class memory_stream {
public:
    explicit memory_stream(std::string input = {},
                           std::size_t max_read = static_cast<std::size_t>(-1))
        : input_(std::move(input)), max_read_(max_read) {}

    /// Appends to the input still to be read.
    void feed(std::string_view more) { input_.append(more); }

    std::size_t read_some(asio::mutable_buffer buffer, std::error_code& ec) {
        ec.clear();
        if (read_pos_ == input_.size()) {
            ec = asio::error::eof;
            return 0;
        }
        const std::size_t n = std::min({buffer.size(), input_.size() - read_pos_, max_read_});
        input_.copy(static_cast<char*>(buffer.data()), n, read_pos_);
        read_pos_ += n;
        return n;
    }

    std::size_t write_some(asio::const_buffer buffer, std::error_code& ec) {
        ec.clear();
        output_.append(static_cast<const char*>(buffer.data()), buffer.size());
        ++writes_;
        return buffer.size();
    }

    /// Everything written so far.
    const std::string& output() const noexcept { return output_; }
    /// How many write_some() calls were made.
    std::size_t write_count() const noexcept { return writes_; }
    /// Input bytes not read yet.
    std::size_t unread() const noexcept { return input_.size() - read_pos_; }
    /// Forgets the output and the write count.
    void clear_output() {
        output_.clear();
        writes_ = 0;
    }

private:
    std::string input_;
    std::size_t read_pos_ = 0;
    std::size_t max_read_;
    std::string output_;
    std::size_t writes_ = 0;
};

} // namespace cgihttp::testing
