// cgihttp/chunked.hpp - the chunked transfer coding of request bodies (RFC 9112 section 7.1).
// Python counterpart: none; http.server cannot read a chunked request body.
#pragma once

#include "detail/strings.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cgihttp {

/// Longest chunk-size line accepted, extensions included; longer lines are an attack.
inline constexpr std::size_t max_chunk_line_length = 4096;
/// Most trailer fields accepted after the last chunk (they are read and dropped).
inline constexpr std::size_t max_trailer_count = 100;

/// Parses a chunk-size line (terminator already removed): hexadecimal size, then optional
/// extensions `;name[=token|"quoted"]`. Returns nullopt for anything malformed, including
/// an empty size, a size that does not fit in 64 bits and control characters.
constexpr std::optional<std::uint64_t> parse_chunk_size_line(std::string_view line) noexcept {
    std::uint64_t size = 0;
    std::size_t i = 0;
    for (; i < line.size(); ++i) {
        const char c = line[i];
        unsigned digit = 0;
        if (c >= '0' && c <= '9')
            digit = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = unsigned(c - 'A' + 10);
        else
            break;
        if (size >> 60) return std::nullopt;
        size = size * 16 + digit;
    }
    if (i == 0) return std::nullopt;
    // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] )
    const auto skip_ows = [&] {
        while (i < line.size() && detail::is_ows(line[i]))
            ++i;
    };
    const auto token = [&] {
        const std::size_t start = i;
        while (i < line.size() && detail::is_tchar(line[i]))
            ++i;
        return i > start;
    };
    const auto quoted = [&] {
        if (i >= line.size() || line[i] != '"') return false;
        // qdtext / quoted-pair: escaped or not, a control byte (but HTAB) is invalid.
        for (++i; i < line.size(); ++i) {
            auto c = static_cast<unsigned char>(line[i]);
            if (c == '\\' && i + 1 < line.size())
                c = static_cast<unsigned char>(line[++i]);
            else if (c == '"')
                return ++i, true;
            if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
        }
        return false;
    };
    while (true) {
        skip_ows();
        if (i == line.size()) return size;
        if (line[i] != ';') return std::nullopt;
        ++i;
        skip_ows();
        if (!token()) return std::nullopt;
        skip_ows();
        if (i < line.size() && line[i] == '=') {
            ++i;
            skip_ows();
            if (!token() && !quoted()) return std::nullopt;
        }
    }
}

} // namespace cgihttp
