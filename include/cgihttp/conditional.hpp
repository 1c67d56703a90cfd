// cgihttp/conditional.hpp - validators of a file (ETag, Last-Modified) and the conditional
// request headers that use them (RFC 9110 section 13).
// Python counterpart: the If-Modified-Since check in SimpleHTTPRequestHandler.send_head().
#pragma once

#include "date.hpp"
#include "detail/strings.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <sys/stat.h>

namespace cgihttp {

/// A strong entity tag for a file: inode, size and modification time to the nanosecond,
/// so that any write the file system can see changes it.
inline std::string file_etag(const struct stat& st) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx%09ld\"",
                  static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
    return buf;
}

namespace detail {
/// Calls f(tag, weak) for each entity-tag of an If-None-Match / If-Match list; the tag keeps
/// its quotes. Stops (and returns true) when f returns true.
template <class F>
bool any_entity_tag(std::string_view list, F&& f) {
    return !for_each_list_element(list, [&](std::string_view element) {
        const bool weak = element.substr(0, 2) == "W/";
        if (weak) element.remove_prefix(2);
        return !f(element, weak);
    });
}
} // namespace detail

/// If-None-Match: true when `etag` matches the list under weak comparison (or the list is
/// "*"), i.e. when a GET or HEAD should be answered 304.
inline bool if_none_match(std::string_view list, std::string_view etag) {
    if (detail::trim_ows(list) == "*") return true;
    return detail::any_entity_tag(list, [&](std::string_view tag, bool) { return tag == etag; });
}

/// If-Modified-Since: true when the header is a valid date and the file was not modified
/// after it (compared in whole seconds, as Last-Modified carries them).
inline bool not_modified_since(std::string_view header, std::time_t mtime) {
    const auto since = parse_http_date(header);
    return since && mtime <= *since;
}

/// If-Range: true when the range may be served, i.e. the validator is the file's strong
/// ETag, or a date equal to its Last-Modified (RFC 9110 section 13.1.5).
inline bool if_range_matches(std::string_view value, std::string_view etag, std::time_t mtime) {
    value = detail::trim_ows(value);
    if (value.substr(0, 2) == "W/") return false; // weak tags never match strongly
    if (!value.empty() && value.front() == '"') return value == etag;
    const auto date = parse_http_date(value);
    return date && *date == mtime;
}

} // namespace cgihttp
