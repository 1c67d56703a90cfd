// cgihttp/request_parser.hpp - the request line, header lines, message framing and the
// detection of a complete request head. Knows nothing of sockets or handlers.
// Python counterpart: BaseHTTPRequestHandler.parse_request(), http.client.parse_headers().
#pragma once

#include "detail/strings.hpp"
#include "headers.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cgihttp {

/// Longest request or header line, terminator included (http.client._MAXLINE).
inline constexpr std::size_t max_line_length = 65536;
/// Most header fields in one request (http.client._MAXHEADERS).
inline constexpr std::size_t max_header_count = 100;
/// Default cap on a whole request head; Python has none, so 100 lines of 64 KiB could hold
/// 6.5 MiB per connection. Larger than one maximal line, so Python's own limits trip first.
inline constexpr std::size_t default_max_request_head = 128 * 1024;

/// An HTTP version number; HTTP/0.9 is the version of a simple request.
struct http_version {
    std::uint64_t major = 0;
    std::uint64_t minor = 9;

    friend constexpr bool operator<(http_version a, http_version b) noexcept {
        return a.major != b.major ? a.major < b.major : a.minor < b.minor;
    }
    friend constexpr bool operator>=(http_version a, http_version b) noexcept { return !(a < b); }
    friend constexpr bool operator==(http_version a, http_version b) noexcept {
        return a.major == b.major && a.minor == b.minor;
    }
};

/// Parses "HTTP/<major>.<minor>" as Python 3.11 does: exactly one dot, both parts ASCII
/// digits of at most 10 characters, leading zeros ignored; anything else is nullopt.
constexpr std::optional<http_version> parse_http_version(std::string_view word) noexcept {
    constexpr std::string_view prefix = "HTTP/";
    if (word.substr(0, prefix.size()) != prefix) return std::nullopt;
    const std::string_view number = word.substr(prefix.size());
    const std::size_t dot = number.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const std::string_view major = number.substr(0, dot);
    const std::string_view minor = number.substr(dot + 1);
    if (major.size() > 10 || minor.size() > 10) return std::nullopt;
    const auto ma = detail::parse_decimal(major);
    const auto mi = detail::parse_decimal(minor);
    if (!ma || !mi) return std::nullopt;
    return http_version{*ma, *mi};
}

/// Why a request line was refused; each maps to one of Python's error responses.
enum class request_line_error {
    none,
    empty,               ///< only whitespace: nothing to answer (Python closes silently)
    bad_version,         ///< 400 Bad request version (%r)
    unsupported_version, ///< 505 Invalid HTTP version (%s)
    bad_syntax,          ///< 400 Bad request syntax (%r)
    bad_simple_request,  ///< 400 Bad HTTP/0.9 request type (%r)
};

/// The parts of a request line; views point into the parsed line.
struct request_line {
    request_line_error error = request_line_error::none;
    std::string_view command;
    std::string_view path;
    std::string_view version; ///< as sent, e.g. "HTTP/1.1"; empty for a simple request
    http_version number;      ///< 0.9 for a simple request
    /// The word the error is about: the version word, or its number for 505, or the command.
    std::string_view offending;
};

/// Parses a request line whose trailing CR/LF characters were removed. Words are split on
/// ASCII whitespace as Python's str.split() does; the checks run in Python 3.11's order.
constexpr request_line parse_request_line(std::string_view line) noexcept {
    request_line result;
    std::string_view words[3];
    std::string_view last;
    std::size_t count = 0;
    for (std::size_t i = 0; i < line.size();) {
        if (detail::is_space(line[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < line.size() && !detail::is_space(line[end]))
            ++end;
        last = line.substr(i, end - i);
        if (count < 3) words[count] = last;
        ++count;
        i = end;
    }
    if (count == 0) {
        result.error = request_line_error::empty;
        return result;
    }
    if (count >= 3) {
        const auto version = parse_http_version(last);
        if (!version) {
            result.error = request_line_error::bad_version;
            result.offending = last;
            return result;
        }
        if (version->major >= 2) {
            result.error = request_line_error::unsupported_version;
            result.offending = last.substr(5);
            return result;
        }
        result.version = last;
        result.number = *version;
    }
    if (count < 2 || count > 3) {
        result.error = request_line_error::bad_syntax;
        return result;
    }
    result.command = words[0];
    result.path = words[1];
    // RFC 9112 3.2: a target has no control bytes; Python passes NUL and DEL on to handlers.
    if (detail::has_control_byte(result.path)) {
        result.error = request_line_error::bad_syntax;
        return result;
    }
    if (count == 2 && result.command != "GET") {
        result.error = request_line_error::bad_simple_request;
        result.offending = result.command;
    }
    return result;
}

/// Removes the line terminator: a final LF and at most one CR before it.
constexpr std::string_view strip_line_terminator(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\n') {
        line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    }
    return line;
}

/// What one line of the header section is.
enum class header_line_kind {
    field,     ///< name: value
    end,       ///< the empty line that ends the section
    obs_fold,  ///< a continuation line (RFC 9112 5.2): refused, as smuggling relies on it
    malformed, ///< no colon, a bad name, space before the colon, NUL or a bare CR
};

/// One parsed header line; name and value point into the line.
struct header_line {
    header_line_kind kind = header_line_kind::malformed;
    std::string_view name;
    std::string_view value;
};

/// Parses one header line (terminator included or already removed). Stricter than Python's
/// email parser, as RFC 9112 section 5 asks: a field name is a token directly followed by a
/// colon, and NUL or CR inside a line is an error rather than data.
constexpr header_line parse_header_line(std::string_view raw) noexcept {
    header_line result;
    const std::string_view line = strip_line_terminator(raw);
    if (line.empty()) {
        result.kind = header_line_kind::end;
        return result;
    }
    if (detail::is_ows(line.front())) {
        result.kind = header_line_kind::obs_fold;
        return result;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !detail::is_token(line.substr(0, colon))) return result;
    const std::string_view value = line.substr(colon + 1);
    for (char c : value)
        if (c == '\0' || c == '\r') return result;
    result.kind = header_line_kind::field;
    result.name = line.substr(0, colon);
    result.value = detail::trim_ows(value);
    return result;
}

/// How the request body is delimited (RFC 9112 section 6.3).
enum class body_framing_kind { none, length, chunked };

/// The framing of a request body, or the error response that refuses the request.
struct body_framing {
    body_framing_kind kind = body_framing_kind::none;
    std::uint64_t length = 0;         ///< for body_framing_kind::length
    int error_status = 0;             ///< 0, or the status to answer with
    std::string_view error_message{}; ///< reason for the error response
};

/// Decides the body framing from Content-Length and Transfer-Encoding, refusing what request
/// smuggling relies on: both fields at once, differing or malformed lengths, a coding list
/// that does not end in a single "chunked", and Transfer-Encoding in an HTTP/1.0 request.
inline body_framing determine_body_framing(const headers& fields, http_version version) {
    body_framing result;
    bool has_length = false;
    bool has_coding = false;
    std::uint64_t length = 0;
    bool length_ok = true;
    bool chunked_last = false;
    bool chunked_twice = false;
    bool other_coding = false;
    for (const header_field& f : fields) {
        if (detail::iequals(f.name, "Content-Length")) {
            // A list of identical values ("5, 5") is allowed by RFC 9110 8.6; anything else
            // is refused, including an empty value.
            bool any = false;
            const bool parsed = detail::for_each_list_element(f.value, [&](std::string_view e) {
                const auto n = detail::parse_decimal(e);
                if (!n || (has_length && *n != length)) return false;
                length = *n;
                has_length = any = true;
                return true;
            });
            length_ok = length_ok && parsed && any;
        } else if (detail::iequals(f.name, "Transfer-Encoding")) {
            has_coding = true;
            detail::for_each_list_element(f.value, [&](std::string_view coding) {
                if (chunked_last)
                    chunked_twice = chunked_twice || detail::iequals(coding, "chunked");
                chunked_last = detail::iequals(coding, "chunked");
                other_coding = other_coding || !chunked_last;
                return true;
            });
        }
    }
    const auto refuse = [&](int status, std::string_view message) {
        result.error_status = status;
        result.error_message = message;
        return result;
    };
    if (has_coding) {
        if (has_length || !length_ok)
            return refuse(400, "Both Content-Length and Transfer-Encoding");
        if (version < http_version{1, 1})
            return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (!chunked_last || chunked_twice) return refuse(400, "Bad Transfer-Encoding");
        if (other_coding) return refuse(501, "Unsupported Transfer-Encoding");
        result.kind = body_framing_kind::chunked;
        return result;
    }
    if (!length_ok) return refuse(400, "Bad Content-Length");
    if (has_length) {
        result.kind = body_framing_kind::length;
        result.length = length;
    }
    return result;
}

/// Finds out, from the bytes buffered so far, whether a whole request head has arrived, so
/// that a server loop can wait for it without holding a thread and then run the handler
/// without blocking. It follows the handler's reading rules exactly: up to one line's worth
/// of empty lines before the request line are skipped; a simple (HTTP/0.9) or malformed
/// request line ends the head; so do an over-long line, one line too many or an over-large
/// head, because the handler answers them with an error without reading further.
class head_scanner {
public:
    explicit head_scanner(std::size_t max_head = default_max_request_head) noexcept
        : max_head_(max_head) {}

    /// Forgets all progress, for the next request.
    void reset() noexcept { *this = head_scanner(max_head_); }

    /// Scans `data` (all bytes buffered for this request, from its first byte) onward from
    /// where the last call stopped. True once the handler can run.
    bool complete(std::string_view data) noexcept {
        while (!done_) {
            const std::size_t newline = data.find('\n', line_start_);
            if (newline == std::string_view::npos) {
                // readline() returns an unfinished line only once it exceeds the limit.
                done_ = data.size() - line_start_ > max_line_length;
                return done_;
            }
            const std::size_t length = newline + 1 - line_start_;
            on_line(data.substr(line_start_, length));
            line_start_ = newline + 1;
        }
        return true;
    }

private:
    void on_line(std::string_view raw) noexcept {
        const std::string_view line = strip_line_terminator(raw);
        if (raw.size() > max_line_length) {
            done_ = true; // 414 or 431 "Line too long"
            return;
        }
        if (!seen_request_line_) {
            if ((raw == "\r\n" || raw == "\n") && skipped_ < max_line_length) {
                skipped_ += raw.size(); // RFC 9112 2.2: empty lines before the request line
                return;
            }
            seen_request_line_ = true;
            head_size_ = raw.size();
            const request_line parsed = parse_request_line(line);
            done_ = parsed.error != request_line_error::none || parsed.version.empty();
            return;
        }
        head_size_ += raw.size();
        done_ = head_size_ > max_head_ || ++lines_ > max_header_count || line.empty();
    }

    std::size_t max_head_;
    std::size_t line_start_ = 0;
    std::size_t skipped_ = 0;
    std::size_t head_size_ = 0;
    std::size_t lines_ = 0;
    bool seen_request_line_ = false;
    bool done_ = false;
};

} // namespace cgihttp
