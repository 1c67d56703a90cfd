// url_fuzz.cpp - fuzz target for cgihttp/url.hpp and cgihttp/cgi_path.hpp: percent coding,
// path normalisation, mapping request targets onto the served directory, splitting CGI
// paths; plus html_escape (cgihttp/html.hpp), which listings apply to the same paths.
//
// Input: a request target as it appears in a request line (any bytes).
//
// Properties:
//  1. translate_request_path("/srv/root", input) starts with "/srv/root", continues with
//     '/' if longer, and no component after it is "..", "." or empty (but for a final
//     trailing slash); the same with "/" and "/srv/root/" as the directory. It equals a
//     reference of Python 3.11's SimpleHTTPRequestHandler.translate_path() (on bytes).
//  2. url_collapse_path(input) equals a reference of Python 3.11's _url_collapse_path()
//     with cgihttp's documented changes (fragment dropped, segments encoded again; nullopt
//     where Python raises IndexError); with clamp_at_root it never fails; neither form
//     leaves a "." or ".." segment, and collapsing the result again changes nothing (the
//     path is decoded exactly once).
//  3. percent_decode() equals a reference of Python's unquote_to_bytes();
//     percent_decode(percent_encode(x, safe)) == x for any safe set without '%', and the
//     encoding holds only unreserved characters, safe ASCII ones and %XX escapes.
//  4. utf8_or_replacement() returns valid UTF-8, is idempotent and keeps valid UTF-8 as is.
//  5. url_split() returns views into the input whose parts, re-joined, give the input
//     back; url_unsplit() equals Python's urlunsplit() for the schemes in uses_netloc.
//  6. split_cgi_path() keeps every byte (script URL + path info [+ ? + query] is the path,
//     the script name is the URL decoded), isindex_arguments() and find_cgi_directory()
//     behave as documented.
//  7. html_escape() leaves no markup character and is reversed by unescaping.
#include "fuzz_support.hpp"

#include <cgihttp/cgi_path.hpp>
#include <cgihttp/html.hpp>
#include <cgihttp/url.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cgihttp;
using fuzz_support::escape;

// ---- References, from Python 3.11's source ----

int ref_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// urllib.parse.unquote_to_bytes(): split on '%'; each piece after the first starts with
/// two hex digits (decoded) or keeps its '%'.
std::string ref_unquote(std::string_view s) {
    std::vector<std::string_view> bits;
    std::size_t start = 0;
    while (true) {
        const std::size_t p = s.find('%', start);
        bits.push_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
        if (p == std::string_view::npos) break;
        start = p + 1;
    }
    std::string out(bits[0]);
    for (std::size_t i = 1; i < bits.size(); ++i) {
        const std::string_view item = bits[i];
        if (item.size() >= 2 && ref_hex(item[0]) >= 0 && ref_hex(item[1]) >= 0) {
            out.push_back(char(ref_hex(item[0]) * 16 + ref_hex(item[1])));
            out.append(item.substr(2));
        } else {
            out.push_back('%');
            out.append(item);
        }
    }
    return out;
}

std::vector<std::string> ref_split(std::string_view s, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t p = s.find(sep, start);
        parts.emplace_back(s.substr(start, p == std::string_view::npos ? s.npos : p - start));
        if (p == std::string_view::npos) return parts;
        start = p + 1;
    }
}

/// cgihttp re-encodes collapsed segments: every byte but printable ASCII, and '%', '?', '#'.
std::string ref_quote_segment(std::string_view segment) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : segment) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '%' && c != '?' && c != '#') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

/// http.server._url_collapse_path(); IndexError (popping an empty head) is nullopt unless
/// `clamp`, where the pop is skipped. As cgihttp documents its differences: a fragment is
/// dropped first, and the segments are percent-encoded again (ref_quote_segment).
std::optional<std::string> ref_url_collapse_path(std::string_view target, bool clamp) {
    target = target.substr(0, target.find('#'));
    const std::size_t q = target.find('?');
    const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    const std::string path = ref_unquote(target.substr(0, q));
    std::vector<std::string> path_parts = ref_split(path, '/');
    std::vector<std::string> head_parts;
    const auto pop = [&] {
        if (head_parts.empty()) return clamp;
        head_parts.pop_back();
        return true;
    };
    for (std::size_t i = 0; i + 1 < path_parts.size(); ++i) {
        const std::string& part = path_parts[i];
        if (part == "..") {
            if (!pop()) return std::nullopt;
        } else if (!part.empty() && part != ".") {
            head_parts.push_back(part);
        }
    }
    std::string tail_part = path_parts.back();
    if (!tail_part.empty()) {
        if (tail_part == "..") {
            if (!pop()) return std::nullopt;
            tail_part.clear();
        } else if (tail_part == ".") {
            tail_part.clear();
        }
    }
    tail_part = ref_quote_segment(tail_part);
    if (!query.empty()) tail_part = tail_part + "?" + std::string(query);
    std::string joined;
    for (std::size_t i = 0; i < head_parts.size(); ++i)
        joined += (i ? "/" : "") + ref_quote_segment(head_parts[i]);
    return "/" + joined + "/" + tail_part;
}

/// posixpath.normpath() on bytes.
std::string ref_normpath(const std::string& path) {
    if (path.empty()) return ".";
    int initial_slashes = path[0] == '/' ? 1 : 0;
    if (initial_slashes && path.compare(0, 2, "//") == 0 && path.compare(0, 3, "///") != 0)
        initial_slashes = 2;
    std::vector<std::string> comps;
    for (const std::string& comp : ref_split(path, '/')) {
        if (comp.empty() || comp == ".") continue;
        if (comp != ".." || (!initial_slashes && comps.empty()) ||
            (!comps.empty() && comps.back() == ".."))
            comps.push_back(comp);
        else if (!comps.empty())
            comps.pop_back();
    }
    std::string out(static_cast<std::size_t>(initial_slashes), '/');
    for (std::size_t i = 0; i < comps.size(); ++i)
        out += (i ? "/" : "") + comps[i];
    return out.empty() ? "." : out;
}

/// The ASCII whitespace of str.rstrip() that cgihttp uses (see detail::is_space).
bool ref_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           (c >= '\x1c' && c <= '\x1f');
}

/// SimpleHTTPRequestHandler.translate_path() with `directory`.
std::string ref_translate_path(std::string_view directory, std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    path = path.substr(0, path.find('#'));
    std::string_view stripped = path;
    while (!stripped.empty() && ref_space(stripped.back()))
        stripped.remove_suffix(1);
    const bool trailing_slash = !stripped.empty() && stripped.back() == '/';
    const std::string normalized = ref_normpath(ref_unquote(path));
    std::string result(directory);
    for (const std::string& word : ref_split(normalized, '/')) {
        if (word.empty() || word == "." || word == "..") continue;
        if (!result.empty() && result.back() != '/') result += '/'; // os.path.join
        result += word;
    }
    if (trailing_slash) result += '/';
    return result;
}

/// urllib.parse.uses_netloc, compared case-insensitively (urlsplit lower-cases schemes).
bool ref_uses_netloc(std::string_view scheme) {
    std::string lower(scheme);
    for (char& c : lower)
        c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    for (const char* s :
         {"",        "ftp",   "http",  "gopher", "nntp",     "telnet", "imap",  "wais",  "file",
          "mms",     "https", "shttp", "snews",  "prospero", "rtsp",   "rtspu", "rsync", "svn",
          "svn+ssh", "sftp",  "nfs",   "git",    "git+ssh",  "ws",     "wss"})
        if (lower == s) return true;
    return false;
}

/// urllib.parse.urlunsplit().
std::string ref_urlunsplit(const url_parts& p) {
    std::string url(p.path);
    if (!p.netloc.empty() ||
        (!p.scheme.empty() && ref_uses_netloc(p.scheme) && url.compare(0, 2, "//") != 0)) {
        if (!url.empty() && url[0] != '/') url = "/" + url;
        url = "//" + std::string(p.netloc) + url;
    }
    if (!p.scheme.empty()) url = std::string(p.scheme) + ":" + url;
    if (!p.query.empty()) url += "?" + std::string(p.query);
    if (!p.fragment.empty()) url += "#" + std::string(p.fragment);
    return url;
}

/// Valid UTF-8 (RFC 3629): no overlongs, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n;
    }
    return true;
}

std::string html_unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        bool replaced = false;
        for (const auto& [entity, c] :
             std::array<std::pair<std::string_view, char>, 5>{{{"&amp;", '&'},
                                                               {"&lt;", '<'},
                                                               {"&gt;", '>'},
                                                               {"&quot;", '"'},
                                                               {"&#x27;", '\''}}}) {
            if (s.compare(i, entity.size(), entity) == 0) {
                out += c;
                i += entity.size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out += s[i++];
    }
    return out;
}

// ---- Checks ----

void check_translate(std::string_view directory, std::string_view target) {
    const std::string got = translate_request_path(directory, target);
    const std::string want = ref_translate_path(directory, target);
    const std::string where = "translate_request_path(\"" + escape(directory) + "\", \"" +
                              escape(target) + "\") = \"" + escape(got) + "\"";
    FUZZ_CHECK_MSG(got == want, where + ", reference \"" + escape(want) + "\"");
    // The safety property: never above the directory, lexically.
    FUZZ_CHECK_MSG(got.compare(0, directory.size(), directory) == 0, where);
    std::string_view rest = std::string_view(got).substr(directory.size());
    if (!rest.empty() && directory.back() != '/') {
        FUZZ_CHECK_MSG(rest.front() == '/', where);
        rest.remove_prefix(1);
    }
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1); // the trailing slash
    if (rest.empty()) return;
    for (const std::string& component : ref_split(rest, '/'))
        FUZZ_CHECK_MSG(component != ".." && component != "." && !component.empty(),
                       where + ": component \"" + escape(component) + "\"");
}

void check_collapse(std::string_view target) {
    for (const bool clamp : {false, true}) {
        const auto got = url_collapse_path(target, clamp);
        const auto want = ref_url_collapse_path(target, clamp);
        const std::string where = "url_collapse_path(\"" + escape(target) + "\", " +
                                  (clamp ? "true" : "false") +
                                  ") = " + (got ? "\"" + escape(*got) + "\"" : "nullopt") +
                                  ", reference " + (want ? "\"" + escape(*want) + "\"" : "nullopt");
        FUZZ_CHECK_MSG(got == want, where);
        if (clamp) FUZZ_CHECK_MSG(got.has_value(), where);
        if (!got) continue;
        FUZZ_CHECK_MSG(got->size() >= 2 && (*got)[0] == '/', where);
        // Segments are encoded again, so that the path is decoded exactly once: collapsing
        // the result changes nothing.
        FUZZ_CHECK_MSG(url_collapse_path(*got, clamp) == got,
                       where + "; collapsed again: " +
                           escape(url_collapse_path(*got, clamp).value_or("nullopt")));
        // The path part is "/" head "/" tail: no head segment is empty, "." or "..", and the
        // tail is neither "." nor "..".
        const std::string_view no_fragment = target.substr(0, target.find('#'));
        const std::size_t q = no_fragment.find('?');
        std::string_view path = *got;
        if (q != std::string_view::npos && q + 1 < no_fragment.size())
            path.remove_suffix(no_fragment.size() - q); // "?" + query
        FUZZ_CHECK_MSG(path.find_first_of("?#") == std::string_view::npos, where);
        const auto segments = ref_split(path.substr(1), '/');
        for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
            const bool root_only = segments.size() == 2 && segments[0].empty();
            FUZZ_CHECK_MSG(root_only ||
                               (!segments[i].empty() && segments[i] != "." && segments[i] != ".."),
                           where);
        }
        FUZZ_CHECK_MSG(segments.back() != "." && segments.back() != "..", where);
    }
}

void check_percent(std::string_view input, fuzz_support::rng& rng) {
    const std::string decoded = percent_decode(input);
    FUZZ_CHECK_MSG(decoded == ref_unquote(input), "percent_decode(\"" + escape(input) + "\")");
    // A safe set from the input's bytes, '%' excluded.
    std::string safe = "/";
    for (std::size_t k = 0, n = rng.below(6); k < n && !input.empty(); ++k) {
        const char c = input[rng.below(input.size())];
        if (c != '%') safe += c;
    }
    for (const std::string_view s :
         {std::string_view("/"), std::string_view(""), std::string_view(safe)}) {
        for (const std::string_view x : {input, std::string_view(decoded)}) {
            const std::string encoded = percent_encode(x, s);
            const std::string where = "percent_encode(\"" + escape(x) + "\", \"" + escape(s) +
                                      "\") = \"" + escape(encoded) + "\"";
            FUZZ_CHECK_MSG(percent_decode(encoded) == x, where);
            for (std::size_t i = 0; i < encoded.size(); ++i) {
                const char c = encoded[i];
                const auto u = static_cast<unsigned char>(c);
                const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                        (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                                        c == '-' || c == '~';
                if (c == '%') {
                    FUZZ_CHECK_MSG(i + 2 < encoded.size() && ref_hex(encoded[i + 1]) >= 0 &&
                                       ref_hex(encoded[i + 2]) >= 0,
                                   where);
                    FUZZ_CHECK_MSG(!(encoded[i + 1] >= 'a' && encoded[i + 1] <= 'f') &&
                                       !(encoded[i + 2] >= 'a' && encoded[i + 2] <= 'f'),
                                   where);
                    i += 2;
                    continue;
                }
                FUZZ_CHECK_MSG(unreserved || (u < 0x80 && s.find(c) != std::string_view::npos),
                               where);
            }
        }
    }
}

void check_utf8(std::string_view input) {
    const std::string decoded = percent_decode(input);
    for (const std::string_view s : {input, std::string_view(decoded)}) {
        const std::string cleaned = utf8_or_replacement(s);
        const std::string where =
            "utf8_or_replacement(\"" + escape(s) + "\") = \"" + escape(cleaned) + "\"";
        FUZZ_CHECK_MSG(valid_utf8(cleaned), where);
        FUZZ_CHECK_MSG(utf8_or_replacement(cleaned) == cleaned, where);
        if (valid_utf8(s)) FUZZ_CHECK_MSG(cleaned == s, where);
    }
}

bool is_view_into(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

void check_split(std::string_view input) {
    const url_parts parts = url_split(input);
    const std::string where = "url_split(\"" + escape(input) + "\")";
    for (const std::string_view p :
         {parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment})
        FUZZ_CHECK_MSG(is_view_into(p, input), where);
    FUZZ_CHECK_MSG(parts.netloc.find_first_of("/?#") == std::string_view::npos, where);
    FUZZ_CHECK_MSG(parts.path.find_first_of("?#") == std::string_view::npos, where);
    FUZZ_CHECK_MSG(parts.query.find('#') == std::string_view::npos, where);
    // Everything is accounted for: the parts in order with their delimiters.
    std::string rebuilt;
    if (!parts.scheme.empty()) rebuilt += std::string(parts.scheme) + ":";
    const std::size_t after_scheme = rebuilt.size();
    if (input.compare(after_scheme, 2, "//") == 0) rebuilt += "//" + std::string(parts.netloc);
    rebuilt += parts.path;
    if (rebuilt.size() < input.size() && input[rebuilt.size()] == '?')
        rebuilt += "?" + std::string(parts.query);
    if (rebuilt.size() < input.size() && input[rebuilt.size()] == '#')
        rebuilt += "#" + std::string(parts.fragment);
    FUZZ_CHECK_MSG(rebuilt == input, where + " rebuilt as \"" + escape(rebuilt) + "\"");
    // url_unsplit() is Python's urlunsplit() for the schemes Python knows to have a netloc
    // (not idempotent: "////x" gives "//x", as in Python; the handler guards against that).
    if (ref_uses_netloc(parts.scheme)) {
        const std::string got = url_unsplit(parts);
        const std::string want = ref_urlunsplit(parts);
        FUZZ_CHECK_MSG(got == want, where + ": url_unsplit \"" + escape(got) + "\", reference \"" +
                                        escape(want) + "\"");
    }
}

void check_cgi_path(std::string_view input, fuzz_support::rng& rng) {
    const std::vector<std::string> cgi_directories = {"/cgi-bin", "/htbin", "/cgi-bin/sub"};
    if (const auto collapsed = url_collapse_path(input)) {
        if (const auto found = find_cgi_directory(*collapsed, cgi_directories)) {
            const auto& [dir, rest] = *found;
            FUZZ_CHECK(*collapsed == dir + "/" + rest);
            FUZZ_CHECK(dir == "/cgi-bin" || dir == "/htbin" || dir == "/cgi-bin/sub");
            // A directory is whatever a coin per prefix length says.
            const std::uint64_t coin = rng.next();
            const auto result = split_cgi_path(dir, rest, [&](const std::string& d) {
                return ((coin >> (d.size() % 64)) & 1) != 0;
            });
            const std::string path = dir + "/" + rest;
            const std::string joined = result.script_url + result.path_info;
            const std::string where =
                "split_cgi_path(\"" + escape(dir) + "\", \"" + escape(rest) + "\")";
            FUZZ_CHECK_MSG(joined + "?" + result.query == path ||
                               (result.query.empty() && joined == path),
                           where);
            FUZZ_CHECK_MSG(result.script_url.compare(0, dir.size(), dir) == 0, where);
            FUZZ_CHECK_MSG(result.script_name == percent_decode(result.script_url), where);
            FUZZ_CHECK_MSG(result.path_info.empty() || result.path_info[0] == '/', where);
        }
    }
    const auto words = isindex_arguments(input);
    if (input.empty() || input.find('=') != std::string_view::npos) {
        FUZZ_CHECK(words.empty());
    } else {
        std::size_t plus = 0;
        for (const char c : input)
            plus += c == '+';
        FUZZ_CHECK(words.size() == plus + 1);
    }
}

void check_html(std::string_view input) {
    for (const bool quote : {false, true}) {
        const std::string escaped = html_escape(input, quote);
        const std::string where = "html_escape(\"" + escape(input) + "\")";
        FUZZ_CHECK_MSG(escaped.find_first_of("<>") == std::string::npos, where);
        if (quote) FUZZ_CHECK_MSG(escaped.find_first_of("\"'") == std::string::npos, where);
        FUZZ_CHECK_MSG(html_unescape(escaped) == input, where);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(bytes), size);
    fuzz_support::rng rng(fuzz_support::hash(input));
    for (const std::string_view directory : {"/srv/root", "/", "/srv/root/"})
        check_translate(directory, input);
    check_collapse(input);
    check_percent(input, rng);
    check_utf8(input);
    check_split(input);
    check_cgi_path(input, rng);
    check_html(input);
    return 0;
}
