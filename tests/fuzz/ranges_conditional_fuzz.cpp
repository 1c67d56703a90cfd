// ranges_conditional_fuzz.cpp - fuzz target for cgihttp/range.hpp, cgihttp/date.hpp and
// cgihttp/conditional.hpp: Range, the HTTP date formats, If-None-Match, If-Range,
// If-Modified-Since.
//
// Input: a header value (Range, a date, an entity-tag list). The sizes, times and tags it is
// evaluated against are fixed edge cases plus values derived from a hash of the input.
//
// Properties:
//  1. evaluate_range(input, size): single means first <= last < size; the result equals a
//     reference of RFC 9110 14.1-14.2 as range.hpp documents it (a syntax error anywhere
//     ignores the header; one spec: single or unsatisfiable; several: multiple or
//     unsatisfiable).
//  2. parse_http_date() never fails on the three formats it formats: for any time from year
//     1 to 9999, format_http_date(t) (IMF-fixdate) and its asctime form parse back to t; and
//     any date it accepts formats to a date that parses back to the same time.
//  3. if_none_match("*"-less list + etag) is true, also as a weak tag; "*" is true; a list
//     that does not hold the tag is false (checked by a reference).
//  4. if_range_matches(): the strong etag itself and the exact Last-Modified date match;
//     weak tags never do; the input agrees with a reference.
//  5. not_modified_since() agrees with parse_http_date().
#include "fuzz_support.hpp"

#include <cgihttp/conditional.hpp>
#include <cgihttp/date.hpp>
#include <cgihttp/range.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cgihttp;
using fuzz_support::escape;
using fuzz_support::ref_decimal;
using fuzz_support::ref_iequals;
using fuzz_support::ref_list;
using fuzz_support::ref_trim;

constexpr std::int64_t min_time = -62135596800; // 0001-01-01T00:00:00Z
constexpr std::int64_t max_time = 253402300799; // 9999-12-31T23:59:59Z

// ---- References ----

/// RFC 9110 14.1.1: ranges-specifier = range-unit "=" range-set; range-set = 1#range-spec;
/// int-range = first-pos "-" [ last-pos ] (last >= first); suffix-range = "-" suffix-length.
/// Satisfiable: int-range with first < size; suffix-range with length > 0 and size > 0.
byte_range ref_evaluate_range(std::string_view header, std::uint64_t size) {
    const std::size_t eq = header.find('=');
    if (eq == std::string_view::npos || !ref_iequals(ref_trim(header.substr(0, eq)), "bytes"))
        return {};
    const auto specs = ref_list(header.substr(eq + 1));
    if (specs.empty()) return {};
    std::size_t satisfiable = 0;
    byte_range one;
    for (const auto spec : specs) {
        const std::size_t dash = spec.find('-');
        if (dash == std::string_view::npos) return {};
        const std::string_view a = ref_trim(spec.substr(0, dash));
        const std::string_view b = ref_trim(spec.substr(dash + 1));
        if (a.empty()) {
            const auto n = ref_decimal(b);
            if (!n) return {};
            if (*n > 0 && size > 0) {
                ++satisfiable;
                one.first = *n >= size ? 0 : size - *n;
                one.last = size - 1;
            }
            continue;
        }
        const auto first = ref_decimal(a);
        if (!first) return {};
        std::optional<std::uint64_t> last;
        if (!b.empty()) {
            last = ref_decimal(b);
            if (!last || *last < *first) return {};
        }
        if (*first < size) {
            ++satisfiable;
            one.first = *first;
            one.last = last && *last < size ? *last : size - 1;
        }
    }
    one.kind = satisfiable == 0    ? range_kind::unsatisfiable
               : specs.size() == 1 ? range_kind::single
                                   : range_kind::multiple;
    return one;
}

/// RFC 9110 13.1.2 with weak comparison: "*" matches; otherwise any listed entity-tag
/// with the same opaque-tag, "W/" ignored on either side.
bool ref_if_none_match(std::string_view list, std::string_view etag) {
    if (ref_trim(list) == "*") return true;
    for (auto tag : ref_list(list)) {
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        if (tag == etag) return true;
    }
    return false;
}

// ---- Checks ----

void check_range(std::string_view header, std::uint64_t size) {
    const byte_range got = evaluate_range(header, size);
    const byte_range want = ref_evaluate_range(header, size);
    const std::string where = "evaluate_range(\"" + escape(header) + "\", " + std::to_string(size) +
                              ") = kind " + std::to_string(int(got.kind)) + " " +
                              std::to_string(got.first) + "-" + std::to_string(got.last) +
                              ", reference kind " + std::to_string(int(want.kind)) + " " +
                              std::to_string(want.first) + "-" + std::to_string(want.last);
    FUZZ_CHECK_MSG(got.kind == want.kind, where);
    if (got.kind == range_kind::single) {
        FUZZ_CHECK_MSG(got.first <= got.last && got.last < size, where);
        FUZZ_CHECK_MSG(got.first == want.first && got.last == want.last, where);
    }
}

std::string asctime_form(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %d", weekday_names[tm.tm_wday],
                  month_names[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  tm.tm_year + 1900);
    return buf;
}

void check_date_round_trip(std::time_t t) {
    const std::string imf = format_http_date(t);
    const auto back = parse_http_date(imf);
    FUZZ_CHECK_MSG(back && *back == t, "format_http_date(" + std::to_string(t) + ") = \"" + imf +
                                           "\" parses to " +
                                           (back ? std::to_string(*back) : "nothing"));
    const std::string asc = asctime_form(t);
    const auto asc_back = parse_http_date(asc);
    FUZZ_CHECK_MSG(asc_back && *asc_back == t,
                   "asctime \"" + asc + "\" of " + std::to_string(t) + " parses to " +
                       (asc_back ? std::to_string(*asc_back) : "nothing"));
}

void check_date(std::string_view input, fuzz_support::rng& rng) {
    // Any time from year 1 to 9999 survives formatting and parsing.
    const std::int64_t span = max_time - min_time + 1;
    check_date_round_trip(static_cast<std::time_t>(min_time + std::int64_t(rng.below(span))));
    check_date_round_trip(static_cast<std::time_t>(rng.below(4102444800))); // 1970..2100
    // Whatever the input parses to is stable.
    const auto parsed = parse_http_date(input);
    if (parsed && *parsed >= min_time && *parsed <= max_time) {
        check_date_round_trip(*parsed);
        FUZZ_CHECK(not_modified_since(input, *parsed));
        FUZZ_CHECK(!not_modified_since(input, *parsed + 1));
    } else if (!parsed) {
        FUZZ_CHECK(!not_modified_since(input, 0));
    }
}

void check_conditionals(std::string_view input, fuzz_support::rng& rng) {
    // Tags: a typical file etag, one taken from the input, odd ones.
    std::vector<std::string> etags = {"\"1a2b-400-6553f1002a1b2c3d\"", "\"\"", "\"x\""};
    if (!input.empty()) {
        const std::size_t a = rng.below(input.size());
        etags.push_back(std::string(input.substr(a, rng.below(input.size() - a + 1))));
    }
    for (const std::string& etag : etags) {
        const std::string where = "etag \"" + escape(etag) + "\", header \"" + escape(input) + "\"";
        FUZZ_CHECK_MSG(if_none_match(input, etag) == ref_if_none_match(input, etag), where);
        FUZZ_CHECK(if_none_match("*", etag));
        FUZZ_CHECK(if_none_match(" * ", etag));
        if (etag.find(',') == std::string::npos && etag.compare(0, 2, "W/") != 0 &&
            !ref_trim(etag).empty() && ref_trim(etag) == etag) {
            FUZZ_CHECK_MSG(if_none_match(std::string(input) + "," + etag, etag), where);
            FUZZ_CHECK_MSG(if_none_match("W/" + etag + ", " + std::string(input), etag), where);
        }
        // If-Range: strong comparison, or the exact date.
        const std::time_t mtime = static_cast<std::time_t>(rng.below(4102444800));
        if (!etag.empty() && etag.front() == '"' && ref_trim(etag) == etag) {
            FUZZ_CHECK_MSG(if_range_matches(etag, etag, mtime), where);
            FUZZ_CHECK_MSG(!if_range_matches("W/" + etag, etag, mtime), where);
        }
        FUZZ_CHECK(if_range_matches(format_http_date(mtime), etag, mtime));
        FUZZ_CHECK(!if_range_matches(format_http_date(mtime + 1), etag, mtime));
        const std::string_view v = ref_trim(input);
        bool want;
        if (v.substr(0, 2) == "W/") {
            want = false;
        } else if (!v.empty() && v.front() == '"') {
            want = v == etag;
        } else {
            const auto date = parse_http_date(v);
            want = date && *date == mtime;
        }
        FUZZ_CHECK_MSG(if_range_matches(input, etag, mtime) == want, where);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(bytes), size);
    fuzz_support::rng rng(fuzz_support::hash(input));
    for (const std::uint64_t file_size :
         {std::uint64_t(0), std::uint64_t(1), std::uint64_t(2), std::uint64_t(100),
          std::uint64_t(1) << 63, UINT64_MAX - 1, UINT64_MAX, rng.below(1000), rng.next()})
        check_range(input, file_size);
    check_date(input, rng);
    check_conditionals(input, rng);
    return 0;
}
