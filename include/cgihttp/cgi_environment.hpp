// cgihttp/cgi_environment.hpp - the environment of a CGI script (RFC 3875 section 4.1).
// Python counterpart: the env dictionary built in CGIHTTPRequestHandler.run_cgi().
#pragma once

#include "detail/strings.hpp"
#include "headers.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
extern char** environ; // POSIX: the process environment
}

namespace cgihttp {

/// The server's own environment, copied once (the first time a script runs): scripts get a
/// copy of it, as in Python, and the server's own is never changed.
inline const std::vector<std::string>& server_environment() {
    static const std::vector<std::string> snapshot = [] {
        std::vector<std::string> entries;
        for (char** e = environ; e && *e; ++e)
            entries.emplace_back(*e);
        return entries;
    }();
    return snapshot;
}

/// Decodes standard base64 (RFC 4648 section 4); nullopt on malformed input.
inline std::optional<std::string> base64_decode(std::string_view in) {
    const auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    };
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        int v[4];
        int padding = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = in[i + std::size_t(k)];
            const bool last_group = i + 4 == in.size();
            if (c == '=' && last_group && k >= 2 && (k == 3 || in[i + 3] == '=')) {
                v[k] = 0;
                ++padding;
            } else if (padding != 0 || (v[k] = value(c)) < 0) {
                return std::nullopt;
            }
        }
        const unsigned bits =
            unsigned(v[0]) << 18 | unsigned(v[1]) << 12 | unsigned(v[2]) << 6 | unsigned(v[3]);
        out.push_back(char(bits >> 16));
        if (padding < 2) out.push_back(char((bits >> 8) & 0xff));
        if (padding < 1) out.push_back(char(bits & 0xff));
    }
    return out;
}

/// A script's environment under construction: the server's environment, overridden by the
/// variables set for the request. Keeps its entries as "NAME=value" strings ready for execve.
class cgi_environment {
public:
    /// Starts from `base` ("NAME=value" entries), e.g. server_environment().
    explicit cgi_environment(const std::vector<std::string>& base) : base_(&base) {}
    /// The base is referred to, not copied: a temporary would dangle.
    explicit cgi_environment(std::vector<std::string>&&) = delete;

    /// Sets a variable, replacing the server's value and any earlier one.
    void set(std::string_view name, std::string_view value) {
        for (std::string& entry : vars_) {
            if (name_of(entry) == name) {
                entry.resize(name.size() + 1);
                entry += value;
                return;
            }
        }
        std::string entry(name);
        entry += '=';
        entry += value;
        vars_.push_back(std::move(entry));
    }

    /// Sets a variable unless it is already set for the request (Python's setdefault()).
    void set_default(std::string_view name, std::string_view value) {
        if (!get_set(name)) set(name, value);
    }

    /// Removes a variable, including one inherited from the server's environment.
    void unset(std::string_view name) {
        for (std::size_t i = 0; i < vars_.size(); ++i) {
            if (name_of(vars_[i]) == name) {
                vars_.erase(vars_.begin() + std::ptrdiff_t(i));
                break;
            }
        }
        removed_.emplace_back(name);
    }

    /// The value a script will see, or nullopt.
    std::optional<std::string_view> get(std::string_view name) const {
        if (const auto v = get_set(name)) return v;
        for (const std::string& r : removed_)
            if (r == name) return std::nullopt;
        for (const std::string& entry : *base_)
            if (name_of(entry) == name) return std::string_view(entry).substr(name.size() + 1);
        return std::nullopt;
    }

    /// Passes request header fields as HTTP_* variables (RFC 3875 4.1.18): upper-cased, '-'
    /// to '_', repeated fields joined with ", " (Cookie with "; "). Left out: Content-Type and
    /// Content-Length (they are CONTENT_*), Authorization and Proxy-Authorization (credentials
    /// stay with the server), Proxy (HTTP_PROXY would redirect the script's own outgoing
    /// requests: httpoxy, CVE-2016-5385), and names with '_' (which would pass for the dashed
    /// name, a spoofing trick, as Apache and nginx refuse).
    void add_request_headers(const headers& fields) {
        for (const header_field& f : fields) {
            if (detail::iequals(f.name, "Content-Type") ||
                detail::iequals(f.name, "Content-Length") ||
                detail::iequals(f.name, "Authorization") ||
                detail::iequals(f.name, "Proxy-Authorization") ||
                detail::iequals(f.name, "Proxy") || f.name.find('_') != std::string_view::npos)
                continue;
            std::string name = "HTTP_";
            for (const char c : f.name)
                name += c == '-' ? '_' : detail::to_upper(c);
            if (const auto existing = get_set(name)) {
                const char* separator = detail::iequals(f.name, "Cookie") ? "; " : ", ";
                set(name, std::string(*existing) + separator + std::string(f.value));
            } else {
                set(name, f.value);
            }
        }
    }

    /// The entries for execve(): the request's variables, then the server's environment
    /// minus what they override or what was unset.
    std::vector<std::string> entries() const {
        std::vector<std::string> all = vars_;
        for (const std::string& entry : *base_) {
            const std::string_view name = name_of(entry);
            bool hidden = get_set(name).has_value();
            for (const std::string& r : removed_)
                hidden = hidden || r == name;
            if (!hidden) all.push_back(entry);
        }
        return all;
    }

private:
    static std::string_view name_of(std::string_view entry) noexcept {
        return entry.substr(0, entry.find('='));
    }

    std::optional<std::string_view> get_set(std::string_view name) const {
        for (const std::string& entry : vars_)
            if (name_of(entry) == name) return std::string_view(entry).substr(name.size() + 1);
        return std::nullopt;
    }

    const std::vector<std::string>* base_;
    std::vector<std::string> vars_;
    std::vector<std::string> removed_;
};

} // namespace cgihttp
