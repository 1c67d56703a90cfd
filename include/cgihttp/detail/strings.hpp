// cgihttp/detail/strings.hpp - ASCII string helpers shared by the parsers and handlers.
// Python counterpart: str.lower(), str.split(), str.strip() as the http.server code uses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cgihttp::detail {

/// ASCII lower-casing; HTTP tokens are ASCII, so locale must not matter.
constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

/// ASCII upper-casing.
constexpr char to_upper(char c) noexcept {
    return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
}

/// Case-insensitive ASCII comparison (header names, tokens).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}

/// Python's str.isspace() restricted to ASCII: the separators of str.split(), which include
/// the information separators \x1c-\x1f. (Latin-1 \x85 and \xa0 are left out: a byte of a
/// UTF-8 path must never split a request line.)
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           (c >= '\x1c' && c <= '\x1f');
}

/// Whether `s` holds an ASCII control byte (CTL of RFC 5234: 0x00-0x1F and DEL).
constexpr bool has_control_byte(std::string_view s) noexcept {
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') return true;
    return false;
}

/// Optional whitespace of RFC 9110 (SP / HTAB).
constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// RFC 9110 tchar: the characters of a token (method, header name, coding).
constexpr bool is_tchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/// True when s is a non-empty RFC 9110 token.
constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

/// Strips optional whitespace (SP / HTAB) from both ends.
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

/// Calls f(element) for each trimmed, non-empty element of a comma-separated list
/// (RFC 9110 section 5.6.1); stops early and returns false when f returns false.
template <class F>
constexpr bool for_each_list_element(std::string_view list, F&& f) {
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view element = trim_ows(list.substr(0, comma));
        if (!element.empty() && !f(element)) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

/// True when the comma-separated list holds the token, compared case-insensitively.
constexpr bool list_contains(std::string_view list, std::string_view token) noexcept {
    return !for_each_list_element(list, [&](std::string_view e) { return !iequals(e, token); });
}

/// Parses a run of ASCII digits as an unsigned number; empty, non-digit or overflowing
/// input gives nullopt (no sign, no whitespace: Content-Length must be exactly 1*DIGIT).
constexpr std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = std::uint64_t(c - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

/// Appends the decimal form of an unsigned number without a temporary string.
inline void append_decimal(std::string& out, std::uint64_t value) {
    char digits[20];
    std::size_t n = 0;
    do {
        digits[n++] = char('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n != 0)
        out.push_back(digits[--n]);
}

/// Python's repr() of a str decoded from latin-1, as the error messages of http.server show
/// it ("Bad request version ('HTTP/1')"). Non-ASCII bytes are written as \xNN, so the result
/// is plain ASCII and safe in a status line and in HTML once escaped.
inline std::string python_repr(std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = (has_single && !has_double) ? '"' : '\'';
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back(quote);
    for (unsigned char c : s) {
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
            out.push_back('\\');
            out.push_back(char(c));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        } else {
            out.push_back(char(c));
        }
    }
    out.push_back(quote);
    return out;
}

} // namespace cgihttp::detail
