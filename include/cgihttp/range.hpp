// cgihttp/range.hpp - the Range request header (RFC 9110 section 14.2), single byte ranges.
// Python counterpart: none; http.server always sends whole files.
#pragma once

#include "detail/strings.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cgihttp {

/// What a Range header asks of a representation of a given size.
enum class range_kind {
    none,          ///< no usable Range (absent, malformed, another unit): send it all (200)
    single,        ///< one satisfiable range: send it (206)
    unsatisfiable, ///< no range overlaps the representation (416)
    multiple,      ///< several ranges: may be answered with the whole representation (200)
};

/// The outcome of evaluating a Range header; first and last are inclusive byte positions.
struct byte_range {
    range_kind kind = range_kind::none;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

/// Evaluates "bytes=a-b", "bytes=a-" and "bytes=-n" (and lists of them) against `size`.
/// A syntax error anywhere makes the header ignored, as RFC 9110 asks.
constexpr byte_range evaluate_range(std::string_view header, std::uint64_t size) noexcept {
    byte_range result;
    const std::size_t eq = header.find('=');
    if (eq == std::string_view::npos ||
        !detail::iequals(detail::trim_ows(header.substr(0, eq)), "bytes"))
        return result;
    std::size_t specs = 0;
    std::size_t satisfiable = 0;
    bool valid = true;
    detail::for_each_list_element(header.substr(eq + 1), [&](std::string_view spec) {
        const std::size_t dash = spec.find('-');
        if (dash == std::string_view::npos) return valid = false;
        const std::string_view first_text = detail::trim_ows(spec.substr(0, dash));
        const std::string_view last_text = detail::trim_ows(spec.substr(dash + 1));
        const auto first = detail::parse_decimal(first_text);
        const auto last = detail::parse_decimal(last_text);
        ++specs;
        if (first_text.empty()) { // suffix range: the last n bytes
            if (!last) return valid = false;
            if (*last > 0 && size > 0) {
                ++satisfiable;
                result.first = *last >= size ? 0 : size - *last;
                result.last = size - 1;
            }
            return true;
        }
        if (!first || (!last_text.empty() && (!last || *last < *first))) return valid = false;
        if (*first < size) {
            ++satisfiable;
            result.first = *first;
            result.last = last && *last < size ? *last : size - 1;
        }
        return true;
    });
    if (!valid || specs == 0) return byte_range{};
    result.kind = satisfiable == 0 ? range_kind::unsatisfiable
                  : specs == 1     ? range_kind::single
                                   : range_kind::multiple;
    return result;
}

} // namespace cgihttp
