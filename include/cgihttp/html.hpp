// cgihttp/html.hpp - HTML escaping for error pages and directory listings.
// Python counterpart: html.escape().
#pragma once

#include <string>
#include <string_view>

namespace cgihttp {

/// Escapes &, < and >, and with `quote` also " and ' (as &quot; and &#x27;), like Python's
/// html.escape(s, quote).
inline std::string html_escape(std::string_view s, bool quote = true) {
    std::string out;
    out.reserve(s.size() + s.size() / 8);
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            quote ? void(out += "&quot;") : out.push_back(c);
            break;
        case '\'':
            quote ? void(out += "&#x27;") : out.push_back(c);
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

} // namespace cgihttp
