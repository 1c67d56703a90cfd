// cgihttp/response_body.hpp - what send_head() hands to do_GET(): an open file (or a byte
// range of it) to send, an in-memory page, or nothing when the response is complete.
// Python counterpart: the file object returned by SimpleHTTPRequestHandler.send_head().
#pragma once

#include "open_file_cache.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace cgihttp {

/// A response body waiting to be copied to wfile() by copyfile().
class response_body {
public:
    /// Nothing to send: send_head() already answered (an error, a redirect, a 304).
    response_body() = default;

    /// `length` bytes of an open file from `offset`; the file stays open while needed.
    static response_body file(std::shared_ptr<const open_file> file, std::uint64_t offset,
                              std::uint64_t length) {
        response_body body;
        body.file_ = std::move(file);
        body.offset_ = offset;
        body.length_ = length;
        body.present_ = true;
        return body;
    }

    /// A body held in memory, such as a directory listing.
    static response_body memory(std::string data) {
        response_body body;
        body.length_ = data.size();
        body.data_ = std::move(data);
        body.present_ = true;
        return body;
    }

    /// True when there is a body to copy.
    explicit operator bool() const noexcept { return present_; }
    /// The open file, or nullptr for an in-memory body.
    const std::shared_ptr<const open_file>& file() const noexcept { return file_; }
    /// The file's descriptor, or -1 for an in-memory body.
    int fd() const noexcept { return file_ ? file_->fd.get() : -1; }
    std::uint64_t offset() const noexcept { return offset_; }
    std::uint64_t length() const noexcept { return length_; }
    /// The in-memory body (empty for a file).
    const std::string& data() const noexcept { return data_; }

private:
    std::shared_ptr<const open_file> file_;
    std::uint64_t offset_ = 0;
    std::uint64_t length_ = 0;
    std::string data_;
    bool present_ = false;
};

} // namespace cgihttp
