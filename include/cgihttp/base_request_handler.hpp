// cgihttp/base_request_handler.hpp - BaseRequestHandler<Derived>: reads requests, parses
// them, calls Derived::do_<METHOD>() and writes responses.
// Python counterpart: http.server.BaseHTTPRequestHandler (Python 3.11).
//
// A handler derives from it through CRTP and redefines what Python's subclasses override:
//     struct hello : cgihttp::BaseRequestHandler<hello> {
//         void do_GET() { send_response(200); send_header("Content-Length", 2); end_headers();
//                         wfile().write("hi"); }
//     };
// Every hook is called through self(), so a member of the same name in Derived replaces the
// base's. Class attributes (protocol_version, server_version, ...) may be redefined as static
// members, data members or member functions (see detail/class_attribute.hpp).
#pragma once

#include "body_reader.hpp"
#include "buffered_reader.hpp"
#include "buffered_writer.hpp"
#include "connection_info.hpp"
#include "date.hpp"
#include "detail/class_attribute.hpp"
#include "detail/method_dispatch.hpp"
#include "detail/resource_shortage.hpp"
#include "detail/strings.hpp"
#include "error_page.hpp"
#include "headers.hpp"
#include "html.hpp"
#include "http_error.hpp"
#include "log.hpp"
#include "request_parser.hpp"
#include "status.hpp"
#include "stream.hpp"
#include "version.hpp"

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace cgihttp {

template <class Derived>
class BaseRequestHandler {
public:
    // ---- Class attributes: redefine in Derived (static, data member or member function) ----

    /// Python/x.y in Python; empty here, so version_string() is server_version alone.
    static constexpr std::string_view sys_version = "";
    /// The Server header's product token.
    static constexpr std::string_view server_version = "cgihttp/" CGIHTTP_VERSION_STRING;
    /// Template of error pages, with Python's %(code)d, %(message)s, %(explain)s.
    static constexpr std::string_view error_message_format = default_error_message;
    /// Content-Type of error pages.
    static constexpr std::string_view error_content_type = default_error_content_type;
    /// Version assumed until the request line is parsed, i.e. for answering a malformed one.
    /// Python's "HTTP/0.9" would send such errors without a status line; a simple request
    /// ("GET /path") still gets an HTTP/0.9 answer, as its version is known to be 0.9.
    static constexpr std::string_view default_request_version = "HTTP/1.0";
    /// The version this server speaks; "HTTP/1.1" enables keep-alive.
    static constexpr std::string_view protocol_version = "HTTP/1.0";
    /// Timeout of each read or write on a socket given to handle(); zero waits forever.
    static constexpr std::chrono::milliseconds timeout{0};
    /// Largest request body accepted (413 beyond it); zero means no limit.
    static constexpr std::uint64_t max_request_body = 0;
    /// Largest request head (request line and header section) accepted (431 beyond it).
    static constexpr std::size_t max_request_head = default_max_request_head;
    /// Unread body bytes read and dropped after a response to keep a connection alive.
    static constexpr std::uint64_t max_discarded_body = 256 * 1024;

    // ---- Instance attributes, as in Python ----

    socket_address client_address;       ///< the peer: (host, port)
    const server_info* server = nullptr; ///< the accepting server, when there is one
    std::string raw_requestline;         ///< the request line as received, terminator included
    std::string requestline;             ///< the request line without its terminator
    std::string command;                 ///< the method, e.g. "GET"
    std::string path;                    ///< the request target, e.g. "/index.html?q=1"
    std::string request_version;         ///< e.g. "HTTP/1.1"
    cgihttp::headers headers;            ///< the request's header fields
    bool close_connection = true;        ///< whether the connection ends after this request

    // ---- Connection handling ----

    /// Serves every request of a connected stream until the connection is to be closed:
    /// the entry point for a user's own server loop. Asio sockets get timeouts (see
    /// `timeout`) and sendfile; the client's address is taken from the socket when not given.
    /// A stream_ref (socket_stream, tls_stream) is used as it is.
    template <class Stream>
    void handle(Stream& stream, socket_address client = {}, const server_info* info = nullptr);

    /// Python's handle(): handle_one_request() until close_connection is set.
    void handle();

    /// Reads, parses and answers one request; Python's handle_one_request().
    void handle_one_request();

    /// Parses raw_requestline and the header section; sends the error response and returns
    /// false on failure. Python's parse_request().
    bool parse_request();

    /// Answers "Expect: 100-continue"; return false after sending an error to refuse the
    /// request. Python's handle_expect_100().
    bool handle_expect_100();

    // ---- Writing the response ----

    /// Sends an error response with an HTML page and logs it; Python's send_error().
    void send_error(int code, std::optional<std::string_view> message = std::nullopt,
                    std::optional<std::string_view> explain = std::nullopt);

    /// Buffers the status line plus Server and Date, and logs the request; send_response().
    void send_response(int code, std::optional<std::string_view> message = std::nullopt);

    /// Buffers the status line only; Python's send_response_only().
    void send_response_only(int code, std::optional<std::string_view> message = std::nullopt);

    /// Buffers a header line. Throws std::invalid_argument for a name that is not a token
    /// or a value holding CR, LF or NUL (header injection). Python's send_header().
    void send_header(std::string_view keyword, std::string_view value);

    /// send_header() with a number, e.g. Content-Length.
    void send_header(std::string_view keyword, std::uint64_t value);

    /// Ends the header section and flushes it to wfile(); Python's end_headers().
    void end_headers();

    /// Moves buffered header lines to wfile(); Python's flush_headers().
    void flush_headers();

    // ---- Logging ----

    /// Logs an answered request: "GET / HTTP/1.1" 200 -; Python's log_request().
    void log_request(int code, std::optional<std::uint64_t> size = std::nullopt);

    /// Logs an error; Python's log_error().
    void log_error(std::string_view message);

    /// Writes "host - - [date] message" to stderr, control characters escaped; Python's
    /// log_message() (which takes a format and arguments: format before calling here).
    void log_message(std::string_view message);

    // ---- Helpers Python subclasses override ----

    /// server_version and sys_version; Python's version_string().
    std::string version_string();

    /// An IMF-fixdate of `timestamp`, or of now; Python's date_time_string().
    std::string date_time_string(std::optional<std::time_t> timestamp = std::nullopt);

    /// The local time for logs; Python's log_date_time_string().
    std::string log_date_time_string();

    /// The client's host for logs; Python's address_string().
    std::string address_string();

    // ---- Streams ----

    /// The request body: ends where the body ends, decodes chunked bodies. Python's rfile.
    body_reader& rfile() noexcept { return body_; }

    /// Response output, buffered: flushed when full, at the end of each request and before
    /// waiting for input. Call wfile().flush() to push data out now. Python's wfile.
    buffered_writer& wfile() noexcept { return output_; }

    // ---- Beyond Python ----

    /// The parsed request version: 0.9, 1.0, 1.1.
    http_version request_version_number() const noexcept { return version_; }

    /// The raw connection input; a server loop fills it asynchronously before calling
    /// handle_one_request(), which then finds a whole request head without waiting.
    buffered_reader& connection_input() noexcept { return input_; }

    /// The stream of the connection being served.
    stream_ref& connection_stream() noexcept { return *stream_; }

    /// Binds the handler to a connection: the stream, the peer and the server.
    void attach(stream_ref& stream, socket_address client, const server_info* info) {
        stream_ = &stream;
        input_.attach(&stream, &output_);
        output_.attach(&stream);
        client_address = std::move(client);
        server = info;
        close_connection = true;
    }

protected:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }

private:
    std::string_view attribute_protocol_version() {
        return detail::string_attribute(self(), &Derived::protocol_version);
    }
    http_version protocol_number() {
        return parse_http_version(attribute_protocol_version()).value_or(http_version{1, 0});
    }
    bool simple_response() const noexcept { return request_version == "HTTP/0.9"; }
    bool read_header_section();
    void finish_request(bool silent);
    void answer_failure(int code, std::string_view message, std::string_view explain);
    bool final_response_started() const noexcept;

    stream_ref* stream_ = nullptr;
    buffered_reader input_;
    buffered_writer output_;
    body_reader body_;
    std::string headers_buffer_;
    http_version version_;
    std::uint64_t response_start_ = 0;    ///< wfile().bytes_written() when the request began
    int response_status_ = 0;             ///< status of the last status line sent
    std::size_t status_lines_ = 0;        ///< status lines sent on this connection
    bool response_framed_ = false;        ///< Content-Length or Transfer-Encoding was sent
    bool connection_header_sent_ = false; ///< a Connection field was sent
};

// ---- Definitions ----

template <class Derived>
template <class Stream>
void BaseRequestHandler<Derived>::handle(Stream& stream, socket_address client,
                                         const server_info* info) {
    if constexpr (std::is_base_of_v<stream_ref, Stream>) {
        input_.reset();
        attach(stream, std::move(client), info);
        self().handle();
        input_.attach(nullptr);
        output_.attach(nullptr);
    } else {
        const auto io_timeout = detail::class_attribute(self(), &Derived::timeout);
        auto ref = make_stream_ref(stream, std::chrono::milliseconds(io_timeout));
        if constexpr (detail::is_asio_socket<Stream>::value) {
            if (client.host.empty()) client = peer_address(stream);
        }
        handle(ref, std::move(client), info);
    }
}

template <class Derived>
void BaseRequestHandler<Derived>::handle() {
    close_connection = true;
    self().handle_one_request();
    while (!close_connection)
        self().handle_one_request();
}

template <class Derived>
void BaseRequestHandler<Derived>::handle_one_request() {
    command.clear();
    headers.clear();
    headers_buffer_.clear();
    version_ = http_version{};
    response_start_ = output_.bytes_written();
    response_status_ = 0;
    response_framed_ = false;
    body_.reset(&input_, body_framing{});
    bool silent = false; // do_X() ran and sent nothing at all
    try {
        // RFC 9112 2.2: ignore empty lines before the request line (within one line's limit).
        std::string_view line = input_.readline(max_line_length + 1);
        for (std::size_t skipped = 0; (line == "\r\n" || line == "\n") && skipped < max_line_length;
             line = input_.readline(max_line_length + 1))
            skipped += line.size();
        raw_requestline.assign(line);
        if (raw_requestline.size() > max_line_length) {
            requestline.clear();
            request_version.clear();
            self().send_error(414);
        } else if (raw_requestline.empty()) {
            close_connection = true;
            return;
        } else if (self().parse_request()) {
            const std::size_t status_lines = status_lines_;
            const std::uint64_t bytes = output_.bytes_written();
            const bool dispatched = detail::dispatch_method(self(), command);
            silent = dispatched && status_lines == status_lines_ &&
                     bytes == output_.bytes_written() && headers_buffer_.empty();
            if (!dispatched)
                self().send_error(501, "Unsupported method (" + detail::python_repr(command) + ")");
        }
        finish_request(silent);
    } catch (const http_error& e) {
        answer_failure(e.status(), e.what(), e.explain());
    } catch (const std::system_error& e) {
        close_connection = true;
        if (detail::is_resource_shortage(e.code())) {
            self().log_error("Out of resources: " + std::string(e.what()));
            answer_failure(503, "Server out of resources", {});
        } else if (e.code() == std::errc::timed_out)
            self().log_error("Request timed out: " + std::string(e.what()));
        else
            self().log_error("Connection error: " + std::string(e.what()));
    } catch (const std::exception& e) {
        self().log_error("Exception while handling the request: " + std::string(e.what()));
        answer_failure(500, "Internal Server Error", {});
    }
}

template <class Derived>
bool BaseRequestHandler<Derived>::final_response_started() const noexcept {
    // A final status line counts once it has left the header buffer for wfile(); an interim
    // (1xx) one never does; bytes written without any status line (an HTTP/0.9 answer, or a
    // handler writing raw) do.
    if (response_status_ >= 200) return headers_buffer_.empty();
    return response_status_ == 0 && output_.bytes_written() != response_start_;
}

template <class Derived>
void BaseRequestHandler<Derived>::answer_failure(int code, std::string_view message,
                                                 std::string_view explain) {
    close_connection = true;
    try {
        if (final_response_started()) {
            // Send what the handler produced; closing then tells the client the rest.
            output_.flush();
            return;
        }
        headers_buffer_.clear();
        self().send_error(code, message,
                          explain.empty() ? std::nullopt
                                          : std::optional<std::string_view>(explain));
        output_.flush();
    } catch (const std::exception&) {
        // The client is gone; the connection closes either way.
    }
}

template <class Derived>
void BaseRequestHandler<Derived>::finish_request(bool silent) {
    if (silent) {
        self().log_error("The handler sent no response");
        self().send_error(500, "Handler sent no response");
    }
    // A body without Content-Length or chunked coding can only be delimited by closing, and
    // an HTTP/0.9 answer has no head to delimit it at all (Python keeps it alive on request).
    if (simple_response() ||
        (!response_framed_ && !status_forbids_body(response_status_) && command != "HEAD"))
        close_connection = true;
    // The response leaves first: a client that sends less body than it declared must still
    // get it.
    output_.flush();
    // Drop the unread rest of a small body, so the next request starts where it should.
    if (!close_connection && !body_.at_end() &&
        !body_.discard(detail::class_attribute(self(), &Derived::max_discarded_body)))
        close_connection = true;
}

template <class Derived>
bool BaseRequestHandler<Derived>::parse_request() {
    command.clear();
    request_version.assign(detail::string_attribute(self(), &Derived::default_request_version));
    close_connection = true;
    std::string_view line = raw_requestline;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.remove_suffix(1);
    requestline.assign(line);

    const request_line parsed = parse_request_line(requestline);
    if (!parsed.version.empty()) // known even when the rest of the line is wrong
        request_version.assign(parsed.version);
    switch (parsed.error) {
    case request_line_error::none:
        break;
    case request_line_error::empty:
        return false;
    case request_line_error::bad_version:
        self().send_error(400,
                          "Bad request version (" + detail::python_repr(parsed.offending) + ")");
        return false;
    case request_line_error::unsupported_version:
        self().send_error(505, "Invalid HTTP version (" + std::string(parsed.offending) + ")");
        return false;
    case request_line_error::bad_syntax:
        self().send_error(400, "Bad request syntax (" + detail::python_repr(requestline) + ")");
        return false;
    case request_line_error::bad_simple_request:
        self().send_error(400, "Bad HTTP/0.9 request type (" + detail::python_repr(parsed.command) +
                                   ")");
        return false;
    }
    version_ = parsed.number;
    command.assign(parsed.command);
    path.assign(parsed.path);
    // gh-87389: "//host/x" would read as a scheme-relative URL in a redirect.
    if (path.compare(0, 2, "//") == 0)
        path.erase(0, std::min(path.find_first_not_of('/'), path.size()) - 1);
    if (parsed.version.empty()) {
        request_version = "HTTP/0.9";
        return true; // a simple request has no header section
    }
    if (version_ >= http_version{1, 1} && protocol_number() >= http_version{1, 1})
        close_connection = false;

    if (!read_header_section()) return false;

    const body_framing framing = determine_body_framing(headers, version_);
    if (framing.error_status != 0) {
        self().send_error(framing.error_status, framing.error_message);
        return false;
    }
    const std::uint64_t body_limit = detail::class_attribute(self(), &Derived::max_request_body);
    if (body_limit != 0 && framing.kind == body_framing_kind::length &&
        framing.length > body_limit) {
        self().send_error(413, "Request body too large");
        return false;
    }
    body_.reset(&input_, framing, body_limit);

    // Connection is a list of tokens (RFC 9110 7.6.1), possibly in several fields; Python
    // compares the first field's whole value. "close" anywhere wins.
    bool close_token = false;
    bool keep_alive_token = false;
    for (const header_field& f : headers) {
        if (detail::iequals(f.name, "Connection")) {
            close_token = close_token || detail::list_contains(f.value, "close");
            keep_alive_token = keep_alive_token || detail::list_contains(f.value, "keep-alive");
        }
    }
    if (close_token)
        close_connection = true;
    else if (keep_alive_token && protocol_number() >= http_version{1, 1})
        close_connection = false;
    const auto expect = headers.get("Expect");
    if (expect && detail::iequals(*expect, "100-continue") &&
        protocol_number() >= http_version{1, 1} && version_ >= http_version{1, 1}) {
        if (!self().handle_expect_100()) return false;
    }
    return true;
}

template <class Derived>
bool BaseRequestHandler<Derived>::read_header_section() {
    std::size_t head_size = raw_requestline.size();
    std::size_t lines = 0;
    const std::size_t head_limit = detail::class_attribute(self(), &Derived::max_request_head);
    while (true) {
        const std::string_view line = input_.readline(max_line_length + 1);
        if (line.size() > max_line_length) {
            self().send_error(431, "Line too long",
                              "got more than 65536 bytes when reading header line");
            return false;
        }
        head_size += line.size();
        if (head_size > head_limit) {
            self().send_error(431, "Request header fields too large");
            return false;
        }
        // Python counts the terminating empty line too: at most 99 fields.
        if (++lines > max_header_count) {
            self().send_error(431, "Too many headers", "got more than 100 headers");
            return false;
        }
        if (line.empty() || line == "\r\n" || line == "\n") return true;
        const header_line parsed = parse_header_line(line);
        if (parsed.kind != header_line_kind::field) {
            const std::string shown =
                detail::python_repr(strip_line_terminator(line).substr(0, 200));
            self().send_error(400, parsed.kind == header_line_kind::obs_fold
                                       ? "Obsolete line folding is not accepted (" + shown + ")"
                                       : "Bad header line (" + shown + ")");
            return false;
        }
        headers.add(parsed.name, parsed.value);
    }
}

template <class Derived>
bool BaseRequestHandler<Derived>::handle_expect_100() {
    self().send_response_only(100);
    self().end_headers();
    return true;
}

template <class Derived>
void BaseRequestHandler<Derived>::send_error(int code, std::optional<std::string_view> message,
                                             std::optional<std::string_view> explain) {
    const status_entry* entry = find_status(code);
    const std::string_view shortmsg = entry ? entry->phrase : "???";
    const std::string_view longmsg = entry ? entry->explanation : "???";
    const std::string_view msg = message.value_or(shortmsg);
    const std::string_view exp = explain.value_or(longmsg);
    std::string log = "code ";
    detail::append_decimal(log, static_cast<unsigned>(code));
    log += ", message ";
    log += msg;
    self().log_error(log);
    self().send_response(code, msg);
    self().send_header("Connection", "close");

    // RFC 9110: no body for 1xx, 204 (No Content), 205 (Reset Content), 304 (Not Modified).
    std::string body;
    if (code >= 200 && code != 204 && code != 205 && code != 304) {
        body =
            format_error_message(detail::string_attribute(self(), &Derived::error_message_format),
                                 code, html_escape(msg, false), html_escape(exp, false));
        self().send_header("Content-Type",
                           detail::string_attribute(self(), &Derived::error_content_type));
        std::string length;
        detail::append_decimal(length, body.size());
        self().send_header("Content-Length", std::string_view(length));
    }
    self().end_headers();
    if (command != "HEAD" && !body.empty()) output_.write(body);
}

template <class Derived>
void BaseRequestHandler<Derived>::send_response(int code, std::optional<std::string_view> message) {
    self().log_request(code);
    self().send_response_only(code, message);
    self().send_header("Server", self().version_string());
    self().send_header("Date", self().date_time_string());
}

template <class Derived>
void BaseRequestHandler<Derived>::send_response_only(int code,
                                                     std::optional<std::string_view> message) {
    response_status_ = code;
    response_framed_ = false;
    connection_header_sent_ = false;
    ++status_lines_;
    if (simple_response()) return;
    headers_buffer_ += attribute_protocol_version();
    headers_buffer_ += ' ';
    detail::append_decimal(headers_buffer_, static_cast<unsigned>(code));
    headers_buffer_ += ' ';
    // A reason phrase is one line of visible text: control characters would split it.
    for (char c : message.value_or(reason_phrase(code))) {
        const auto u = static_cast<unsigned char>(c);
        headers_buffer_ += (u < 0x20 && c != '\t') || u == 0x7f ? ' ' : c;
    }
    headers_buffer_ += "\r\n";
}

template <class Derived>
void BaseRequestHandler<Derived>::send_header(std::string_view keyword, std::string_view value) {
    if (!detail::is_token(keyword))
        throw std::invalid_argument("send_header: header name is not a token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        throw std::invalid_argument("send_header: CR, LF or NUL in a header value");
    if (!simple_response()) {
        headers_buffer_ += keyword;
        headers_buffer_ += ": ";
        headers_buffer_ += value;
        headers_buffer_ += "\r\n";
    }
    if (detail::iequals(keyword, "Connection")) {
        connection_header_sent_ = true;
        if (detail::iequals(value, "close"))
            close_connection = true;
        else if (detail::iequals(value, "keep-alive"))
            close_connection = false;
    } else if (detail::iequals(keyword, "Content-Length") ||
               detail::iequals(keyword, "Transfer-Encoding")) {
        response_framed_ = true;
    }
}

template <class Derived>
void BaseRequestHandler<Derived>::send_header(std::string_view keyword, std::uint64_t value) {
    std::string text;
    detail::append_decimal(text, value);
    self().send_header(keyword, std::string_view(text));
}

template <class Derived>
void BaseRequestHandler<Derived>::end_headers() {
    if (simple_response()) return;
    // RFC 9112 9.6: an HTTP/1.1 response on a connection about to close says so, or the
    // client would send its next request into the closing socket (Python does not). That
    // includes answers to HTTP/1.0 requests: the client reads our version, not its own.
    const bool unframed =
        !response_framed_ && !status_forbids_body(response_status_) && command != "HEAD";
    if (response_status_ >= 200 && !connection_header_sent_ && (close_connection || unframed) &&
        protocol_number() >= http_version{1, 1})
        headers_buffer_ += "Connection: close\r\n";
    headers_buffer_ += "\r\n";
    self().flush_headers();
}

template <class Derived>
void BaseRequestHandler<Derived>::flush_headers() {
    if (headers_buffer_.empty()) return;
    output_.write(headers_buffer_);
    headers_buffer_.clear();
}

template <class Derived>
void BaseRequestHandler<Derived>::log_request(int code, std::optional<std::uint64_t> size) {
    std::string message = "\"" + requestline + "\" ";
    detail::append_decimal(message, static_cast<unsigned>(code));
    message += ' ';
    if (size)
        detail::append_decimal(message, *size);
    else
        message += '-';
    self().log_message(message);
}

template <class Derived>
void BaseRequestHandler<Derived>::log_error(std::string_view message) {
    self().log_message(message);
}

template <class Derived>
void BaseRequestHandler<Derived>::log_message(std::string_view message) {
    std::string line = self().address_string();
    line += " - - [";
    line += self().log_date_time_string();
    line += "] ";
    line += escape_log_text(message);
    line += '\n';
    // One write per line, so lines from concurrent requests do not interleave.
    for (std::string_view rest = line; !rest.empty();) {
        const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n <= 0 && errno != EINTR) break;
        if (n > 0) rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

template <class Derived>
std::string BaseRequestHandler<Derived>::version_string() {
    std::string result(detail::string_attribute(self(), &Derived::server_version));
    const std::string_view sys = detail::string_attribute(self(), &Derived::sys_version);
    if (!sys.empty()) {
        result += ' ';
        result += sys;
    }
    return result;
}

template <class Derived>
std::string BaseRequestHandler<Derived>::date_time_string(std::optional<std::time_t> timestamp) {
    return timestamp ? format_http_date(*timestamp) : http_date_now();
}

template <class Derived>
std::string BaseRequestHandler<Derived>::log_date_time_string() {
    return format_log_date(std::time(nullptr));
}

template <class Derived>
std::string BaseRequestHandler<Derived>::address_string() {
    return client_address.host;
}

} // namespace cgihttp
