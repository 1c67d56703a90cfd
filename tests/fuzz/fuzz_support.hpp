// fuzz_support.hpp - what the fuzz targets share: a property check that survives NDEBUG, a
// deterministic random source derived from the input, printable escaping for reports, and
// the RFC 9110 building blocks their reference implementations are written with.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Checks a property; on failure prints it and aborts, which libFuzzer reports as a crash
/// and saves the input. Unlike assert() it stays on in release builds.
#define FUZZ_CHECK(condition)                                                                      \
    ((condition) ? (void)0 : ::fuzz_support::property_failed(#condition, __FILE__, __LINE__, {}))

/// FUZZ_CHECK with a detail string (built only when the check fails).
#define FUZZ_CHECK_MSG(condition, detail)                                                          \
    ((condition) ? (void)0                                                                         \
                 : ::fuzz_support::property_failed(#condition, __FILE__, __LINE__, (detail)))

namespace fuzz_support {

[[noreturn]] inline void property_failed(const char* what, const char* file, int line,
                                         const std::string& detail) {
    std::fprintf(stderr, "\n==FUZZ PROPERTY VIOLATED== %s:%d: %s\n", file, line, what);
    if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
    std::fflush(stderr);
    std::abort();
}

/// Bytes as a C string literal body (\r, \n, \xNN), for failure details.
inline std::string escape(std::string_view s, std::size_t max = 400) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\\' || c == '"')
            out += '\\', out += char(c);
        else if (c < 0x20 || c >= 0x7f)
            out += "\\x", out += hex[c >> 4], out += hex[c & 15];
        else
            out += char(c);
    }
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

/// FNV-1a: a stable hash of the input, to seed choices the input does not spell out.
inline std::uint64_t hash(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : s)
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h;
}

/// splitmix64: small, fast and good enough to pick split points and read sizes.
class rng {
public:
    explicit rng(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// A number in [0, n); 0 when n is 0.
    std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }

private:
    std::uint64_t state_;
};

/// Sorted, distinct cut points in (0, size): where to split an input into pieces.
inline std::vector<std::size_t> random_cuts(rng& r, std::size_t size, std::size_t max_cuts) {
    std::vector<std::size_t> cuts;
    if (size < 2) return cuts;
    const std::size_t n = static_cast<std::size_t>(r.below(max_cuts + 1));
    for (std::size_t i = 0; i < n; ++i)
        cuts.push_back(1 + static_cast<std::size_t>(r.below(size - 1)));
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    return cuts;
}

/// Every cut point 1..size-1: the input fed one byte at a time.
inline std::vector<std::size_t> every_cut(std::size_t size) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < size; ++i)
        cuts.push_back(i);
    return cuts;
}

// ---- RFC 9110 building blocks for the references (independent of the library) ----

/// OWS: SP or HTAB.
inline bool ref_ows(char c) {
    return c == ' ' || c == '\t';
}

/// tchar (5.6.2).
inline bool ref_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
}

/// `s` without OWS at either end.
inline std::string_view ref_trim(std::string_view s) {
    while (!s.empty() && ref_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ref_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

/// List elements (5.6.1): split on ',', trimmed of OWS, empty ones dropped.
inline std::vector<std::string_view> ref_list(std::string_view value) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = value.find(',', start);
        const std::string_view e = ref_trim(
            value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (!e.empty()) out.push_back(e);
        if (comma == std::string_view::npos) return out;
        start = comma + 1;
    }
}

/// 1*DIGIT as a number, nullopt when empty, not all digits, or over 2^64 - 1.
inline std::optional<std::uint64_t> ref_decimal(std::string_view s) {
    if (s.empty()) return std::nullopt;
    unsigned __int128 v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + unsigned(c - '0');
        if (v > UINT64_MAX) return std::nullopt;
    }
    return static_cast<std::uint64_t>(v);
}

/// ASCII case-insensitive equality.
inline bool ref_iequals(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

} // namespace fuzz_support
