// cgihttp/date.hpp - HTTP dates (IMF-fixdate) and the log's local-time stamp.
// Python counterpart: email.utils.formatdate(usegmt=True), log_date_time_string().
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

namespace cgihttp {

inline constexpr const char* weekday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
inline constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Formats a time as an RFC 9110 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
inline std::string format_http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", weekday_names[tm.tm_wday],
                  tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
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

} // namespace cgihttp
