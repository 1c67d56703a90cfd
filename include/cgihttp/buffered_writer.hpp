// cgihttp/buffered_writer.hpp - response output with one buffer, so that a status line,
// headers and a small body leave in a single system call.
// Python counterpart: StreamRequestHandler.wfile (unbuffered there: one send per write).
#pragma once

#include "stream.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace cgihttp {

/// Buffered writes to a stream_ref. Errors throw std::system_error: a handler cannot do
/// anything useful once the client is gone, and the exception unwinds it at once.
class buffered_writer {
public:
    explicit buffered_writer(std::size_t capacity = 16 * 1024) : capacity_(capacity) {}

    /// Sets the stream written to; pending output is dropped.
    void attach(stream_ref* stream) noexcept {
        stream_ = stream;
        buffer_.clear();
        deferred_.reset();
    }

    /// A large file's tail left for the server loop to send (see allow_deferred_files()).
    struct deferred_file {
        std::shared_ptr<const void> owner; ///< keeps the file open
        int fd = -1;
        std::uint64_t offset = 0;
        std::uint64_t count = 0;
    };

    /// Appends data; flushes when the buffer fills. Large writes bypass the buffer.
    void write(std::string_view data) {
        complete_deferred_file();
        written_ += data.size();
        if (buffer_.size() + data.size() <= capacity_) {
            buffer_.append(data);
            return;
        }
        if (buffer_.size() + data.size() <= 2 * capacity_) {
            buffer_.append(data);
            flush();
            return;
        }
        flush();
        send(data.data(), data.size(), false);
    }

    /// Sends everything buffered. `more` tells the stream that more output follows at once.
    void flush(bool more = false) {
        if (buffer_.empty()) return;
        send(buffer_.data(), buffer_.size(), more);
        buffer_.clear();
    }

    /// Sends `count` bytes of a file from `offset`: zero-copy when the stream can (sendfile on
    /// a socket), otherwise read in pieces through the buffer. Throws on read or write errors;
    /// a file shorter than expected throws too, as the response length is already promised.
    /// With deferred files allowed and an `owner` keeping the file open, a large file on a
    /// socket is left for the server loop instead (take_deferred_file()).
    void write_file(int file_fd, std::uint64_t offset, std::uint64_t count,
                    std::shared_ptr<const void> owner = {}) {
        complete_deferred_file();
        written_ += count;
        if (defer_files_ && owner && count > capacity_ && stream_ &&
            stream_->native_handle() >= 0) {
            deferred_ = deferred_file{std::move(owner), file_fd, offset, count};
            return;
        }
        send_file(file_fd, offset, count);
    }

    /// Lets write_file() leave a large file to the server loop: for a loop that sends it when
    /// the socket is writable, so that no thread waits for a slow client.
    void allow_deferred_files(bool allow) noexcept { defer_files_ = allow; }

    /// The file left by write_file(), if any, to send after what is buffered.
    std::optional<deferred_file> take_deferred_file() {
        std::optional<deferred_file> taken = std::move(deferred_);
        deferred_.reset();
        return taken;
    }

    /// Sends a deferred file now (something else is to follow it).
    void complete_deferred_file() {
        if (!deferred_) return;
        const deferred_file file = std::move(*deferred_);
        deferred_.reset();
        send_file(file.fd, file.offset, file.count);
    }

    /// Bytes handed to write() and write_file() since attach() (sent or still buffered).
    std::uint64_t bytes_written() const noexcept { return written_; }

    /// Bytes waiting in the buffer.
    std::size_t pending() const noexcept { return buffer_.size(); }

private:
    void send_file(int file_fd, std::uint64_t offset, std::uint64_t count) {
        if (count > capacity_ && stream_) {
            flush(true);
            std::error_code ec;
            while (count > 0) {
                const std::size_t n = stream_->send_file(file_fd, offset, clamp(count), ec);
                if (ec == std::errc::operation_not_supported) break;
                if (ec) throw std::system_error(ec, "sendfile");
                if (n == 0) throw_truncated();
                count -= n;
            }
        }
        while (count > 0) {
            if (buffer_.size() == capacity_) flush();
            const std::size_t old = buffer_.size();
            const std::size_t want = std::min<std::uint64_t>(count, capacity_ - old);
            buffer_.resize(old + want);
            const ssize_t n = ::pread(file_fd, buffer_.data() + old, want, off_t(offset));
            if (n < 0 && errno == EINTR) {
                buffer_.resize(old);
                continue;
            }
            if (n <= 0) {
                buffer_.resize(old);
                n < 0 ? throw std::system_error(errno, std::system_category(), "pread")
                      : throw_truncated();
            }
            buffer_.resize(old + std::size_t(n));
            offset += std::uint64_t(n);
            count -= std::uint64_t(n);
        }
    }

    static std::size_t clamp(std::uint64_t n) noexcept {
        return static_cast<std::size_t>(std::min<std::uint64_t>(n, std::uint64_t(1) << 30));
    }

    [[noreturn]] static void throw_truncated() {
        throw std::system_error(std::make_error_code(std::errc::io_error),
                                "file shorter than its announced length");
    }

    void send(const char* data, std::size_t size, bool more) {
        if (!stream_) throw std::system_error(std::make_error_code(std::errc::not_connected));
        std::error_code ec;
        while (size > 0) {
            const std::size_t n = stream_->write_some(data, size, ec, more);
            if (ec) throw std::system_error(ec, "write");
            data += n;
            size -= n;
        }
    }

    stream_ref* stream_ = nullptr;
    std::optional<deferred_file> deferred_;
    bool defer_files_ = false;
    std::size_t capacity_;
    std::string buffer_;
    std::uint64_t written_ = 0;
};

} // namespace cgihttp
