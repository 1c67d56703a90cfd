// cgihttp/log.hpp - log-line escaping, so that request data cannot forge log lines or send
// terminal escapes. Python counterpart: BaseHTTPRequestHandler._control_char_table.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cgihttp {

/// Escapes what Python 3.11 escapes in log messages: C0 controls, DEL and C1 controls become
/// \xNN and a backslash becomes \\. Input is taken as UTF-8: valid sequences pass through
/// (so U+00A0 stays as Python writes it), C1 code points are escaped by code point, and a
/// byte that is not part of valid UTF-8 is escaped as \xNN.
inline std::string escape_log_text(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    const auto escape = [&](unsigned value) {
        out += "\\x";
        out.push_back(hex[(value >> 4) & 0xf]);
        out.push_back(hex[value & 0xf]);
    };
    const auto is_continuation = [&](std::size_t i) {
        return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                escape(c);
            else if (c == '\\')
                out += "\\\\";
            else
                out.push_back(char(c));
            ++i;
            continue;
        }
        // Length and smallest code point of a sequence starting with c (rejects overlongs).
        std::size_t len = 0;
        unsigned min = 0;
        unsigned cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, min = 0x80, cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, min = 0x800, cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, min = 0x10000, cp = c & 0x07u;
        }
        bool valid = len != 0;
        for (std::size_t k = 1; valid && k < len; ++k) {
            valid = is_continuation(i + k);
            if (valid) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
        }
        valid = valid && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!valid) {
            escape(c);
            ++i;
        } else if (cp < 0xA0) {
            escape(cp);
            i += len;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

} // namespace cgihttp
