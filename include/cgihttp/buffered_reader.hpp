// cgihttp/buffered_reader.hpp - request input with one growable buffer: line reads for the
// head, block reads for the body, and raw access for a server loop filling it asynchronously.
// Python counterpart: StreamRequestHandler.rfile (a buffered socket file).
#pragma once

#include "buffered_writer.hpp"
#include "stream.hpp"

#include <asio/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>

namespace cgihttp {
namespace detail {
/// Calls reader.read_some() until `size` bytes have come or it returns 0 (the end).
template <class Reader>
std::size_t read_until_full(Reader& reader, char* out, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
        const std::size_t n = reader.read_some(out + total, size - total);
        if (n == 0) break;
        total += n;
    }
    return total;
}
} // namespace detail

/// Buffered reads from a stream_ref. Before it would wait for the peer it flushes the paired
/// writer, as C stdio flushes stdout before reading stdin: a "100 Continue" or a response
/// written before reading the body then reaches the client that waits for it.
class buffered_reader {
public:
    explicit buffered_reader(std::size_t initial_capacity = 8 * 1024)
        : capacity_(initial_capacity == 0 ? 1 : initial_capacity) {} // grows by doubling

    /// Sets the stream read from and the writer flushed before waiting; buffered data stays.
    void attach(stream_ref* stream, buffered_writer* paired_writer = nullptr) noexcept {
        stream_ = stream;
        paired_writer_ = paired_writer;
        eof_ = false;
    }

    /// Drops buffered data (a new connection).
    void reset() noexcept { begin_ = end_ = 0, eof_ = false; }

    /// The bytes read from the stream and not consumed yet.
    std::string_view buffered() const noexcept { return {data_.get() + begin_, end_ - begin_}; }

    /// Marks `n` buffered bytes as consumed.
    void consume(std::size_t n) noexcept { begin_ += std::min(n, end_ - begin_); }

    /// Records that the stream has ended (a server loop saw it while filling the buffer).
    void mark_eof() noexcept { eof_ = true; }

    /// True once the stream reported its end.
    bool at_eof() const noexcept { return eof_; }

    /// Reads up to and including the next LF, or `limit` bytes, or to the end of the stream,
    /// like Python's readline(limit). The view is valid until the next call on this reader.
    std::string_view readline(std::size_t limit) {
        std::size_t scanned = 0;
        while (true) {
            const std::string_view data = buffered();
            const std::size_t window = std::min(data.size(), limit);
            const auto newline = data.substr(0, window).find('\n', scanned);
            if (newline != std::string_view::npos || window == limit || eof_) {
                const std::size_t n = newline != std::string_view::npos ? newline + 1 : window;
                begin_ += n;
                return data.substr(0, n);
            }
            scanned = window;
            fill();
        }
    }

    /// Reads up to `size` bytes, fewer only at the end of the stream.
    std::size_t read(char* out, std::size_t size) {
        return detail::read_until_full(*this, out, size);
    }

    /// Reads what is buffered, or else waits for one read from the stream; 0 at the end.
    std::size_t read_some(char* out, std::size_t size) {
        if (begin_ == end_) {
            if (eof_) return 0;
            if (size >= capacity_) // large reads skip the buffer
                return stream_read(out, size);
            fill();
            if (begin_ == end_) return 0;
        }
        const std::size_t n = std::min(size, end_ - begin_);
        std::memcpy(out, data_.get() + begin_, n);
        begin_ += n;
        return n;
    }

    /// Free space of at least `min_free` bytes after the buffered data, for a server loop's
    /// asynchronous read; call commit() with the bytes it received.
    asio::mutable_buffer prepare(std::size_t min_free) {
        reserve(min_free);
        return asio::buffer(data_.get() + end_, capacity_ - end_);
    }

    /// Adds `n` bytes received into the space given by prepare().
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    /// Makes room for `min_free` more bytes: moves unread data to the front, then grows.
    void reserve(std::size_t min_free) {
        if (!data_) data_ = std::make_unique<char[]>(capacity_);
        if (capacity_ - end_ >= min_free) return;
        if (begin_ != 0) {
            std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (capacity_ - end_ >= min_free) return;
        std::size_t grown = capacity_;
        while (grown - end_ < min_free)
            grown *= 2;
        auto bigger = std::make_unique<char[]>(grown);
        std::memcpy(bigger.get(), data_.get(), end_);
        data_ = std::move(bigger);
        capacity_ = grown;
    }

    /// Reads once from the stream into the buffer, growing it when it is nearly full.
    void fill() {
        reserve(1024);
        end_ += stream_read(data_.get() + end_, capacity_ - end_);
    }

    std::size_t stream_read(char* out, std::size_t size) {
        if (!stream_) throw std::system_error(std::make_error_code(std::errc::not_connected));
        if (paired_writer_) paired_writer_->flush();
        std::error_code ec;
        const std::size_t n = stream_->read_some(out, size, ec);
        if (ec == asio::error::eof)
            eof_ = true;
        else if (ec)
            throw std::system_error(ec, "read");
        return n;
    }

    stream_ref* stream_ = nullptr;
    buffered_writer* paired_writer_ = nullptr;
    std::unique_ptr<char[]> data_;
    std::size_t capacity_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
};

} // namespace cgihttp
