// cgihttp/cgi_response.hpp - parsing the header block a CGI script writes before its body
// (RFC 3875 section 6), and deciding what kind of response it is.
// Python counterpart: none; Python sends "200 Script output follows" and passes the script's
// output through, so scripts cannot set a status or redirect.
#pragma once

#include "detail/strings.hpp"
#include "request_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cgihttp {

/// Largest header block accepted from a script.
inline constexpr std::size_t default_max_cgi_header_bytes = 64 * 1024;

/// What a script's header block asks for (RFC 3875 section 6.2).
enum class cgi_response_kind {
    document,        ///< a body, with a status (200 unless Status says otherwise)
    local_redirect,  ///< Location: /path and nothing else: the server serves that path
    client_redirect, ///< Location: another URI: the client is redirected (302 by default)
};

/// A parsed header block.
struct cgi_response {
    cgi_response_kind kind = cgi_response_kind::document;
    int status = 200;
    std::string reason; ///< empty: the status table's phrase
    bool status_given = false;
    std::optional<std::string> location;
    std::optional<std::uint64_t> content_length;
    /// Fields to pass on, in order; Status is not among them, nor hop-by-hop fields the
    /// server decides itself (Connection, Keep-Alive, Transfer-Encoding, ...).
    std::vector<std::pair<std::string, std::string>> fields;
};

/// Reads a script's header block incrementally from its output.
class cgi_response_parser {
public:
    enum class result { need_more, done, error };

    explicit cgi_response_parser(std::size_t max_bytes = default_max_cgi_header_bytes) noexcept
        : max_bytes_(max_bytes) {}

    /// Parses what `data` holds of the header block; `consumed` is set to the bytes that
    /// belong to it (the body starts after them once done). Call again with the unconsumed
    /// bytes plus more output while need_more.
    result feed(std::string_view data, std::size_t& consumed) {
        consumed = 0;
        while (true) {
            const std::size_t newline = data.find('\n', consumed);
            if (newline == std::string_view::npos) {
                if (seen_ + (data.size() - consumed) > max_bytes_) // the unfinished line
                    return fail("header block larger than " + std::to_string(max_bytes_) +
                                " bytes");
                return result::need_more;
            }
            const std::string_view line =
                strip_line_terminator(data.substr(consumed, newline + 1 - consumed));
            seen_ += newline + 1 - consumed;
            consumed = newline + 1;
            if (seen_ > max_bytes_)
                return fail("header block larger than " + std::to_string(max_bytes_) + " bytes");
            if (line.empty()) return finish();
            if (const auto r = field(line); r != result::need_more) return r;
        }
    }

    /// The parsed response, valid once feed() returned done.
    const cgi_response& response() const noexcept { return response_; }
    /// Why feed() returned error.
    const std::string& error() const noexcept { return error_; }

private:
    result fail(std::string why) {
        error_ = std::move(why);
        return result::error;
    }

    result field(std::string_view line) {
        const header_line parsed = parse_header_line(line);
        if (parsed.kind != header_line_kind::field)
            return fail("malformed header line " + detail::python_repr(line.substr(0, 100)));
        const std::string_view name = parsed.name;
        const std::string_view value = parsed.value;
        if (detail::iequals(name, "Status")) {
            const auto code = detail::parse_decimal(value.substr(0, 3));
            // 1xx is interim: a script cannot switch protocols or stay pending.
            if (value.size() < 3 || !code || *code < 200 || *code > 999 ||
                (value.size() > 3 && !detail::is_ows(value[3])))
                return fail("malformed Status " + detail::python_repr(value.substr(0, 100)));
            response_.status = static_cast<int>(*code);
            response_.reason = std::string(detail::trim_ows(value.substr(3)));
            response_.status_given = true;
        } else if (detail::iequals(name, "Location")) {
            if (value.empty()) return fail("empty Location");
            response_.location = std::string(value);
            response_.fields.emplace_back(name, value);
        } else if (detail::iequals(name, "Content-Length")) {
            const auto length = detail::parse_decimal(value);
            if (!length)
                return fail("malformed Content-Length " +
                            detail::python_repr(value.substr(0, 100)));
            response_.content_length = length;
        } else if (!hop_by_hop(name)) {
            response_.fields.emplace_back(name, value);
        }
        return result::need_more;
    }

    result finish() {
        if (response_.location) {
            // As Apache does: a local path without a status (or with 200) is served by the
            // server itself; anything else goes to the client, 302 unless Status says.
            const std::string& loc = *response_.location;
            const bool local = loc.front() == '/' && loc.substr(0, 2) != "//";
            if (local && (!response_.status_given || response_.status == 200)) {
                response_.kind = cgi_response_kind::local_redirect;
            } else {
                response_.kind = cgi_response_kind::client_redirect;
                if (!response_.status_given) response_.status = 302;
            }
        } else if (response_.fields.empty() && !response_.status_given) {
            return fail("no Content-Type, Location or Status in the header block");
        }
        return result::done;
    }

    /// Fields about the connection, which the server and not the script decides.
    static bool hop_by_hop(std::string_view name) noexcept {
        for (const char* h : {"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer",
                              "Upgrade", "Proxy-Connection"})
            if (detail::iequals(name, h)) return true;
        return false;
    }

    std::size_t max_bytes_;
    std::size_t seen_ = 0;
    cgi_response response_;
    std::string error_;
};

} // namespace cgihttp
