// cgihttp/url.hpp - request targets: percent-decoding and -encoding, splitting, and mapping
// a URL path onto the served directory without ever leaving it.
// Python counterpart: urllib.parse.unquote/quote/urlsplit/urlunsplit, posixpath.normpath,
// SimpleHTTPRequestHandler.translate_path().
#pragma once

#include "detail/strings.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cgihttp {

namespace detail {
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
} // namespace detail

/// Decodes %XX escapes to bytes; a '%' not followed by two hex digits stays as it is
/// (Python's urllib.parse.unquote_to_bytes).
inline std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = detail::hex_value(s[i + 1]);
            const int lo = detail::hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

/// Percent-encodes every byte except ASCII letters, digits, "_.-~" and those in `safe`
/// (Python's urllib.parse.quote(s, safe='/')).
inline std::string percent_encode(std::string_view bytes, std::string_view safe = "/") {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size());
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
                                c == '~';
        if (unreserved || (u < 0x80 && safe.find(c) != std::string_view::npos)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        }
    }
    return out;
}

/// Replaces bytes that are not valid UTF-8 by U+FFFD, as Python's decode(errors='replace')
/// does, so that a page declared UTF-8 stays valid.
inline std::string utf8_or_replacement(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80                   ? 1
                          : (c >= 0xC2 && c <= 0xDF) ? 2
                          : (c >= 0xE0 && c <= 0xEF) ? 3
                          : (c >= 0xF0 && c <= 0xF4) ? 4
                                                     : 0;
        bool valid = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (valid && len >= 3) { // no overlongs, surrogates or code points past U+10FFFF
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) &&
                    !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (valid) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

/// The five parts of a URL, as Python's urllib.parse.urlsplit() finds them; views into the
/// split string. `has_query`/`has_fragment` tell an empty part from an absent one.
struct url_parts {
    std::string_view scheme;
    std::string_view netloc;
    std::string_view path;
    std::string_view query;
    std::string_view fragment;
};

/// Splits like Python's urlsplit (scheme lower-casing aside): scheme only when the text
/// before the first ':' is a valid scheme, netloc after a leading "//".
constexpr url_parts url_split(std::string_view url) noexcept {
    url_parts parts;
    const std::size_t colon = url.find(':');
    if (colon != std::string_view::npos && colon > 0 &&
        ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z'))) {
        bool scheme_chars = true;
        for (const char c : url.substr(0, colon))
            scheme_chars =
                scheme_chars && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                 (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
        if (scheme_chars) {
            parts.scheme = url.substr(0, colon);
            url.remove_prefix(colon + 1);
        }
    }
    if (url.substr(0, 2) == "//") {
        const std::size_t end = url.find_first_of("/?#", 2);
        parts.netloc =
            url.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
        url.remove_prefix(end == std::string_view::npos ? url.size() : end);
    }
    if (const std::size_t hash = url.find('#'); hash != std::string_view::npos) {
        parts.fragment = url.substr(hash + 1);
        url = url.substr(0, hash);
    }
    if (const std::size_t q = url.find('?'); q != std::string_view::npos) {
        parts.query = url.substr(q + 1);
        url = url.substr(0, q);
    }
    parts.path = url;
    return parts;
}

/// Joins parts like Python's urlunsplit (empty query and fragment are left out).
inline std::string url_unsplit(const url_parts& parts) {
    std::string url(parts.path);
    if (!parts.netloc.empty() || (!parts.scheme.empty() && url.substr(0, 2) != "//")) {
        if (!url.empty() && url.front() != '/') url.insert(0, "/");
        url.insert(0, "//" + std::string(parts.netloc));
    }
    if (!parts.scheme.empty()) url.insert(0, std::string(parts.scheme) + ":");
    if (!parts.query.empty()) url += "?" + std::string(parts.query);
    if (!parts.fragment.empty()) url += "#" + std::string(parts.fragment);
    return url;
}

/// Python's posixpath.normpath() as a list of components: "." and empty components go,
/// ".." removes the previous component and is kept only where nothing precedes it in a
/// relative path. Whether the path was absolute is returned in `absolute`.
inline std::vector<std::string_view> normalize_path_components(std::string_view path,
                                                               bool& absolute) {
    absolute = !path.empty() && path.front() == '/';
    std::vector<std::string_view> components;
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view c = path.substr(0, slash);
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
        if (c.empty() || c == ".") continue;
        if (c != ".." || (!absolute && components.empty()) ||
            (!components.empty() && components.back() == ".."))
            components.push_back(c);
        else if (!components.empty())
            components.pop_back();
    }
    return components;
}

/// Maps a request target onto a file under `directory`, as Python's translate_path() does:
/// query and fragment dropped, percent-decoded, normalised, "." and ".." components
/// dropped, a trailing slash kept. The result cannot name anything outside `directory`
/// lexically (symbolic links are the file system's business: see the handlers).
inline std::string translate_request_path(std::string_view directory, std::string_view target) {
    target = target.substr(0, target.find('?'));
    target = target.substr(0, target.find('#'));
    std::string_view trimmed = target;
    while (!trimmed.empty() && detail::is_space(trimmed.back()))
        trimmed.remove_suffix(1);
    const bool trailing_slash = !trimmed.empty() && trimmed.back() == '/';
    const std::string decoded = percent_decode(target);
    bool absolute = false;
    std::string result(directory);
    for (const std::string_view word : normalize_path_components(decoded, absolute)) {
        if (word == "." || word == "..") continue;
        if (!result.empty() && result.back() != '/') result.push_back('/');
        result.append(word);
    }
    if (trailing_slash) result.push_back('/');
    return result;
}

} // namespace cgihttp
