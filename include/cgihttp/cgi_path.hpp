// cgihttp/cgi_path.hpp - deciding whether a request path names a CGI script, and splitting
// it into script name, extra path and query.
// Python counterpart: http.server._url_collapse_path(), CGIHTTPRequestHandler.is_cgi() and
// the path dissection at the start of run_cgi().
#pragma once

#include "url.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cgihttp {

/// Python's _url_collapse_path(): percent-decodes the path (not the query), drops empty and
/// "." segments, resolves "..", and returns "/head/tail" (with "?query" kept on the tail).
/// Where Python raises IndexError (more ".." than segments) this returns nullopt, unless
/// `clamp_at_root`: then extra ".." stop at the root, as translate_path() treats them.
///
/// Unlike Python, the segments come back percent-encoded again (only the bytes that must
/// be), so that translate_path() decodes them exactly once: Python decodes a second time
/// in run_cgi(), which lets "%252e%252e" climb out of the CGI directory and a "%3F" in a
/// name pass for the query. A fragment is dropped first, as translate_path() drops it, so
/// that both see the same path ("/cgi-bin/x#/../.." is the script x, not a file).
inline std::optional<std::string> url_collapse_path(std::string_view target,
                                                    bool clamp_at_root = false) {
    target = target.substr(0, target.find('#'));
    const std::size_t q = target.find('?');
    const std::string_view query =
        q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    const std::string path = percent_decode(target.substr(0, q));

    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t slash = path.find('/', start);
        parts.push_back(std::string_view(path).substr(
            start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    std::vector<std::string_view> head;
    // ".." drops the previous segment; above the root it fails, or stops there.
    const auto climb = [&] {
        if (head.empty()) return clamp_at_root;
        head.pop_back();
        return true;
    };
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (parts[i] == "..") {
            if (!climb()) return std::nullopt;
        } else if (!parts[i].empty() && parts[i] != ".") {
            head.push_back(parts[i]);
        }
    }
    std::string_view tail = parts.back();
    if (tail == "..") {
        if (!climb()) return std::nullopt;
        tail = {};
    } else if (tail == ".") {
        tail = {};
    }
    // Printable ASCII but the three bytes the next steps would read as syntax.
    constexpr std::string_view path_safe = " !\"$&'()*+,-./:;<=>@[\\]^_`{|}~";
    std::string collapsed = "/";
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (i != 0) collapsed += '/';
        collapsed += percent_encode(head[i], path_safe);
    }
    collapsed += '/';
    collapsed += percent_encode(tail, path_safe);
    if (!query.empty()) {
        collapsed += '?';
        collapsed += query;
    }
    return collapsed;
}

/// Python's is_cgi() on a collapsed path: the shortest leading directory that is one of
/// `cgi_directories`, and the rest after it; nullopt when none matches.
template <class Directories>
std::optional<std::pair<std::string, std::string>>
find_cgi_directory(std::string_view collapsed, const Directories& cgi_directories) {
    for (std::size_t sep = collapsed.find('/', 1); sep != std::string_view::npos && sep > 0;
         sep = collapsed.find('/', sep + 1)) {
        const std::string_view dir = collapsed.substr(0, sep);
        for (const auto& candidate : cgi_directories)
            if (dir == std::string_view(candidate))
                return std::pair<std::string, std::string>(dir, collapsed.substr(sep + 1));
    }
    return std::nullopt;
}

/// The parts of a CGI request path once its script is found.
struct cgi_script_path {
    std::string script_url;  ///< the script's URL path, percent-encoded, for translate_path()
    std::string script_name; ///< SCRIPT_NAME: script_url decoded, "/cgi-bin/sub/script.py"
    std::string path_info;   ///< the extra path after the script, still percent-encoded
    std::string query;       ///< QUERY_STRING: after the first '?'
};

/// Python's run_cgi() dissection: starting from (dir, rest) of a collapsed path, moves
/// directory by directory into `rest` while `is_directory(dir)` holds (nested CGI directories,
/// Python issue 21323), then splits the query at the first '?' and the script from the extra path.
template <class IsDirectory>
cgi_script_path split_cgi_path(std::string dir, std::string rest, IsDirectory&& is_directory) {
    const std::string path = dir + "/" + rest;
    for (std::size_t i = path.find('/', dir.size() + 1); i != std::string::npos;
         i = path.find('/', dir.size() + 1)) {
        std::string next_dir = path.substr(0, i);
        if (!is_directory(next_dir)) break;
        dir = std::move(next_dir);
        rest = path.substr(i + 1);
    }
    cgi_script_path result;
    const std::size_t q = rest.find('?');
    if (q != std::string::npos) {
        result.query = rest.substr(q + 1);
        rest.resize(q);
    }
    const std::size_t slash = rest.find('/');
    const std::string script = rest.substr(0, slash);
    if (slash != std::string::npos) result.path_info = rest.substr(slash);
    result.script_url = dir + "/" + script;
    result.script_name = percent_decode(result.script_url);
    return result;
}

/// RFC 3875 section 4.4: a query without an unencoded '=' is an "indexed" search; its
/// '+'-separated words, percent-decoded, become the script's command-line arguments.
/// Python passes the whole query with '+' turned into spaces as one argument instead.
inline std::vector<std::string> isindex_arguments(std::string_view query) {
    std::vector<std::string> words;
    if (query.empty() || query.find('=') != std::string_view::npos) return words;
    for (std::size_t start = 0;;) {
        const std::size_t plus = query.find('+', start);
        words.push_back(percent_decode(query.substr(
            start, plus == std::string_view::npos ? std::string_view::npos : plus - start)));
        if (plus == std::string_view::npos) break;
        start = plus + 1;
    }
    return words;
}

} // namespace cgihttp
