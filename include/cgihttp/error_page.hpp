// cgihttp/error_page.hpp - the HTML page of error responses and its %-style template.
// Python counterpart: DEFAULT_ERROR_MESSAGE, DEFAULT_ERROR_CONTENT_TYPE in http.server.
#pragma once

#include "detail/strings.hpp"

#include <string>
#include <string_view>

namespace cgihttp {

/// Python 3.11's error page; %(code)d, %(message)s and %(explain)s are substituted.
inline constexpr std::string_view default_error_message = R"(<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: %(code)d</p>
        <p>Message: %(message)s.</p>
        <p>Error code explanation: %(code)s - %(explain)s.</p>
    </body>
</html>
)";

/// The Content-Type of the default error page.
inline constexpr std::string_view default_error_content_type = "text/html;charset=utf-8";

/// Fills a Python-style template: %(code)d and %(code)s become the code, %(message)s and
/// %(explain)s the given (already escaped) texts, %% a percent sign. Anything else is copied.
inline std::string format_error_message(std::string_view format, int code, std::string_view message,
                                        std::string_view explain) {
    std::string out;
    out.reserve(format.size() + message.size() + explain.size());
    for (std::size_t i = 0; i < format.size(); ++i) {
        const std::string_view rest = format.substr(i);
        const auto substitute = [&](std::string_view key, auto&& append) {
            if (rest.substr(0, key.size()) != key) return false;
            append();
            i += key.size() - 1;
            return true;
        };
        const auto append_code = [&] { detail::append_decimal(out, static_cast<unsigned>(code)); };
        if (substitute("%(code)d", append_code) || substitute("%(code)s", append_code) ||
            substitute("%(message)s", [&] { out += message; }) ||
            substitute("%(explain)s", [&] { out += explain; }) ||
            substitute("%%", [&] { out += '%'; }))
            continue;
        out += format[i];
    }
    return out;
}

} // namespace cgihttp
