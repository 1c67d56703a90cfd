// cgihttp/date.hpp - HTTP dates (IMF-fixdate) and the log's local-time stamp.
// Python counterpart: email.utils.formatdate(usegmt=True) and parsedate_to_datetime(),
// log_date_time_string().
#pragma once

#include "detail/strings.hpp"

#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace cgihttp {

inline constexpr const char* weekday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
inline constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Formats a time as an RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". The last
/// result is kept per thread: a file's Last-Modified is formatted again and again.
inline std::string format_http_date(std::time_t t) {
    thread_local std::time_t last = -1;
    thread_local std::string formatted;
    if (t == last) return formatted;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", weekday_names[tm.tm_wday],
                  tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    formatted = buf;
    last = t;
    return formatted;
}

/// The current time as an IMF-fixdate, formatted at most once per second per thread: every
/// response carries a Date header, and formatting it is measurable at high request rates.
inline const std::string& http_date_now() {
    thread_local std::time_t cached_second = -1;
    thread_local std::string cached;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached = format_http_date(now);
        cached_second = now;
    }
    return cached;
}

/// The local time as the access log shows it: "25/Nov/2026 18:57:49".
inline std::string format_log_date(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%02d/%s/%04d %02d:%02d:%02d", tm.tm_mday,
                  month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

/// Parses the three HTTP date formats of RFC 9110 section 5.6.7: IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
/// ("Sun Nov  6 08:49:37 1994"). The zone must be GMT, UTC, UT, +0000 or -0000 (or absent,
/// for asctime); Python ignores other zones in If-Modified-Since, and so do we.
inline std::optional<std::time_t> parse_http_date(std::string_view s) {
    std::size_t i = 0;
    const auto skip_spaces = [&] {
        while (i < s.size() && s[i] == ' ')
            ++i;
    };
    const auto number = [&](int max_digits) -> std::optional<int> {
        const std::size_t start = i;
        int value = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && int(i - start) < max_digits)
            value = value * 10 + (s[i++] - '0');
        return i == start ? std::nullopt : std::optional<int>(value);
    };
    const auto word = [&] {
        const std::size_t start = i;
        while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            ++i;
        return s.substr(start, i - start);
    };
    const auto month = [](std::string_view name) {
        for (int m = 0; m < 12; ++m)
            if (detail::iequals(name, month_names[m])) return m;
        return -1;
    };
    const auto expect = [&](char c) { return i < s.size() && s[i] == c ? (++i, true) : false; };
    const auto time_of_day = [&](std::tm& tm) {
        const auto h = number(2);
        if (!h || !expect(':')) return false;
        const auto m = number(2);
        if (!m || !expect(':')) return false;
        const auto sec = number(2);
        if (!sec) return false;
        tm.tm_hour = *h, tm.tm_min = *m, tm.tm_sec = *sec;
        return true;
    };

    std::tm tm{};
    skip_spaces();
    word(); // weekday: not checked, as Python does not check it
    expect(',');
    skip_spaces();
    if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        const auto day = number(2);
        const bool dashed = expect('-');
        if (!dashed) skip_spaces();
        tm.tm_mon = month(word());
        if (!day || tm.tm_mon < 0 || (dashed && !expect('-'))) return std::nullopt;
        skip_spaces();
        const std::size_t year_start = i;
        auto year = number(4);
        if (!year) return std::nullopt;
        if (i - year_start <= 2) { // RFC 850: a two-digit year is not in the far future
            std::tm now{};
            const std::time_t t = std::time(nullptr);
            gmtime_r(&t, &now);
            const int century = (now.tm_year + 1900) / 100 * 100;
            *year += century;
            if (*year > now.tm_year + 1900 + 50) *year -= 100;
        }
        tm.tm_mday = *day;
        tm.tm_year = *year - 1900;
        skip_spaces();
        if (!time_of_day(tm)) return std::nullopt;
        skip_spaces();
        const std::string_view zone = s.substr(i);
        std::string_view z = zone;
        while (!z.empty() && z.back() == ' ')
            z.remove_suffix(1);
        if (!(detail::iequals(z, "GMT") || detail::iequals(z, "UTC") || detail::iequals(z, "UT") ||
              z == "+0000" || z == "-0000" || z == "Z"))
            return std::nullopt;
    } else { // asctime: month day time year
        tm.tm_mon = month(word());
        skip_spaces();
        const auto day = number(2);
        skip_spaces();
        if (tm.tm_mon < 0 || !day || !time_of_day(tm)) return std::nullopt;
        skip_spaces();
        const auto year = number(4);
        skip_spaces();
        if (!year || i != s.size()) return std::nullopt;
        tm.tm_mday = *day;
        tm.tm_year = *year - 1900;
    }
    // An impossible date (31 Feb, second 60) is invalid, hence ignored, as in Python; timegm()
    // would quietly move it to another day.
    static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int full_year = tm.tm_year + 1900;
    const bool leap = (full_year % 4 == 0 && full_year % 100 != 0) || full_year % 400 == 0;
    const int last_day = month_days[tm.tm_mon] + (tm.tm_mon == 1 && leap ? 1 : 0);
    if (tm.tm_mday < 1 || tm.tm_mday > last_day || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 59)
        return std::nullopt;
    return timegm(&tm);
}

} // namespace cgihttp
