// cgihttp/body_reader.hpp - the request body as a stream that ends where the body ends,
// with Content-Length and chunked framing and a size limit.
// Python counterpart: rfile, read by handlers as rfile.read(int(headers['Content-Length'])).
#pragma once

#include "buffered_reader.hpp"
#include "chunked.hpp"
#include "http_error.hpp"
#include "request_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace cgihttp {

/// Reads one request's body and nothing past it, so a handler cannot eat the next request
/// of a keep-alive connection, and a chunked body arrives decoded.
class body_reader {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// Starts a body with this framing; `max_size` of 0 means no limit.
    void reset(buffered_reader* input, const body_framing& framing, std::uint64_t max_size = 0) {
        input_ = input;
        kind_ = framing.kind;
        left_ = framing.kind == body_framing_kind::length ? framing.length : 0;
        length_ = left_;
        max_size_ = max_size;
        read_ = 0;
        done_ = framing.kind == body_framing_kind::none ||
                (kind_ == body_framing_kind::length && left_ == 0);
    }

    /// How the body is framed.
    body_framing_kind framing() const noexcept { return kind_; }

    /// True once the whole body has been read.
    bool at_end() const noexcept { return done_; }

    /// The Content-Length of a length-delimited body (0 otherwise).
    std::uint64_t content_length() const noexcept { return length_; }

    /// Body bytes read so far.
    std::uint64_t bytes_read() const noexcept { return read_; }

    /// Reads at least one byte unless the body is over (then 0). Throws http_error for a
    /// malformed chunked body (400) or one over the limit (413), and std::system_error when
    /// the connection fails or ends before the body does.
    std::size_t read_some(char* out, std::size_t size) {
        if (done_ || size == 0) return 0;
        if (kind_ == body_framing_kind::chunked && left_ == 0 && !next_chunk()) return 0;
        const std::size_t n =
            input_->read_some(out, static_cast<std::size_t>(std::min<std::uint64_t>(size, left_)));
        if (n == 0)
            throw std::system_error(std::make_error_code(std::errc::connection_aborted),
                                    "connection closed before the end of the request body");
        left_ -= n;
        read_ += n;
        if (left_ == 0) {
            if (kind_ == body_framing_kind::length)
                done_ = true;
            else
                expect_chunk_end();
        }
        return n;
    }

    /// Reads up to `size` bytes, fewer only at the end of the body.
    std::size_t read(char* out, std::size_t size) {
        return detail::read_until_full(*this, out, size);
    }

    /// Python's rfile.read(n): up to `size` bytes, or the rest of the body when omitted.
    std::string read(std::size_t size = npos) {
        std::string out;
        char chunk[16 * 1024];
        while (out.size() < size) {
            const std::size_t n = read_some(chunk, std::min(sizeof chunk, size - out.size()));
            if (n == 0) break;
            out.append(chunk, n);
        }
        return out;
    }

    /// Python's rfile.readline(limit): up to and including the next LF.
    std::string readline(std::size_t limit = npos) {
        std::string out;
        char c = 0;
        while (out.size() < limit && c != '\n' && read_some(&c, 1) == 1)
            out.push_back(c);
        return out;
    }

    /// Reads and drops up to `max_bytes` of what is left; true when the body is then over.
    bool discard(std::uint64_t max_bytes) {
        char scratch[16 * 1024];
        while (!done_ && max_bytes > 0) {
            const std::size_t n = read_some(
                scratch,
                static_cast<std::size_t>(std::min<std::uint64_t>(sizeof scratch, max_bytes)));
            if (n == 0) break;
            max_bytes -= n;
        }
        return done_;
    }

private:
    [[noreturn]] static void bad_chunk() { throw http_error(400, "Bad chunked encoding"); }

    /// Reads a chunk-size line; at the last chunk reads the trailer section and returns false.
    bool next_chunk() {
        const std::string_view line = input_->readline(max_chunk_line_length + 1);
        if (line.empty() || line.back() != '\n')
            line.size() > max_chunk_line_length ? bad_chunk() : throw_incomplete();
        const auto size = parse_chunk_size_line(strip_line_terminator(line));
        if (!size) bad_chunk();
        if (*size == 0) {
            skip_trailers();
            done_ = true;
            return false;
        }
        if (max_size_ != 0 && (*size > max_size_ || read_ + *size > max_size_))
            throw http_error(413, "Request body too large");
        left_ = *size;
        return true;
    }

    void expect_chunk_end() {
        const std::string_view line = input_->readline(3);
        if (line != "\r\n" && line != "\n") line.empty() ? throw_incomplete() : bad_chunk();
    }

    void skip_trailers() {
        for (std::size_t count = 0;; ++count) {
            const std::string_view line = input_->readline(max_line_length + 1);
            if (line.empty() || line.back() != '\n')
                line.size() > max_line_length ? bad_chunk() : throw_incomplete();
            const header_line parsed = parse_header_line(line);
            if (parsed.kind == header_line_kind::end) return;
            if (parsed.kind != header_line_kind::field || count == max_trailer_count) bad_chunk();
        }
    }

    [[noreturn]] static void throw_incomplete() {
        throw std::system_error(std::make_error_code(std::errc::connection_aborted),
                                "connection closed before the end of the request body");
    }

    buffered_reader* input_ = nullptr;
    body_framing_kind kind_ = body_framing_kind::none;
    std::uint64_t left_ = 0;
    std::uint64_t length_ = 0;
    std::uint64_t max_size_ = 0;
    std::uint64_t read_ = 0;
    bool done_ = true;
};

} // namespace cgihttp
