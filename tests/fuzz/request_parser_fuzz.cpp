// request_parser_fuzz.cpp - fuzz target for cgihttp/request_parser.hpp: the request line, the
// HTTP version, header lines, body framing and the complete-head detection.
//
// Input: the bytes a client sends at the start of a connection (a request head, perhaps
// more). Padding mode, to reach the 64 KiB line limit with small inputs: an input that
// starts with NUL is "\0" LINE AMOUNT REST, and line number LINE % 4 of REST is padded with
// 'a' (after its first '/', or at its start) to max_line_length - 128 + AMOUNT bytes.
//
// Properties:
//  1. parse_http_version() accepts exactly Python 3.11's grammar (reference below), on the
//     last word of the request line, on every word and on the whole line.
//  2. parse_request_line() agrees with a reference of Python 3.11's parse_request() word
//     logic (plus cgihttp's refusal of control bytes in the target): same error, same
//     command, path, version and offending word.
//  3. parse_header_line() agrees with a reference of its documented rules, on every line.
//  4. determine_body_framing() over the input's header fields agrees with a reference of
//     RFC 9112 section 6 as documented (HTTP/1.0 and HTTP/1.1).
//  5. head_scanner fed growing prefixes (random cuts; every byte for short inputs) answers
//     after each exactly what a fresh scanner answers for that prefix; once complete it
//     stays complete. So its verdict does not depend on how the input arrives.
//  6. When head_scanner says a head is complete, handle_one_request() parses it without
//     asking the stream for one more byte: the server loop relies on this to run a handler
//     on a pool thread without blocking it on a slow client.
#include "fuzz_support.hpp"

#include <cgihttp/base_request_handler.hpp>
#include <cgihttp/headers.hpp>
#include <cgihttp/request_parser.hpp>

#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace cgihttp;
using fuzz_support::escape;
using fuzz_support::ref_decimal;
using fuzz_support::ref_iequals;
using fuzz_support::ref_list;
using fuzz_support::ref_tchar;
using fuzz_support::ref_trim;

// ---- References, written from Python's source and the RFCs, not from the library ----

/// Python's str.split() separators for a latin-1 request line, less \x85 and \xa0, which
/// cgihttp deliberately does not split on (a UTF-8 path must stay one word).
bool ref_is_space(char c) {
    return std::strchr(" \t\n\r\v\f\x1c\x1d\x1e\x1f", c) != nullptr && c != '\0';
}

std::vector<std::string_view> ref_split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        if (ref_is_space(line[i])) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < line.size() && !ref_is_space(line[i]))
            ++i;
        words.push_back(line.substr(start, i - start));
    }
    return words;
}

/// Python 3.11 BaseHTTPRequestHandler.parse_request():
///     if not version.startswith('HTTP/'): raise ValueError
///     base_version_number = version.split('/', 1)[1]
///     version_number = base_version_number.split(".")
///     if len(version_number) != 2: raise ValueError
///     if any(not component.isdigit() for component in version_number): raise ValueError
///     if any(len(component) > 10 for component in version_number): raise ValueError
///     version_number = int(version_number[0]), int(version_number[1])
/// isdigit() is also true for the latin-1 superscripts, but int() then raises ValueError,
/// which the same except clause catches: only ASCII digits get through.
std::optional<http_version> ref_http_version(std::string_view word) {
    if (word.size() < 5 || word.substr(0, 5) != "HTTP/") return std::nullopt;
    const std::string_view base = word.substr(5);
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = base.find('.', start);
        parts.push_back(
            base.substr(start, dot == std::string_view::npos ? base.npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() != 2) return std::nullopt;
    std::uint64_t numbers[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
        if (parts[k].empty()) return std::nullopt;
        for (const char c : parts[k])
            if (c < '0' || c > '9') return std::nullopt;
        if (parts[k].size() > 10) return std::nullopt;
        for (const char c : parts[k])
            numbers[k] = numbers[k] * 10 + std::uint64_t(c - '0');
    }
    return http_version{numbers[0], numbers[1]};
}

struct ref_request_line {
    request_line_error error = request_line_error::none;
    std::string_view command, path, version, offending;
    http_version number; // 0.9 unless a version word was parsed
};

/// Python 3.11's word logic: >= 3 words: the last is the version (400, then 505 for >= 2.0);
/// then 2 or 3 words or 400; a control byte in the target: 400 (cgihttp only); 2 words are
/// a simple request, GET only.
ref_request_line ref_parse_request_line(std::string_view line) {
    ref_request_line r;
    const auto words = ref_split_words(line);
    if (words.empty()) {
        r.error = request_line_error::empty;
        return r;
    }
    if (words.size() >= 3) {
        const std::string_view version = words.back();
        const auto number = ref_http_version(version);
        if (!number) {
            r.error = request_line_error::bad_version;
            r.offending = version;
            return r;
        }
        if (number->major >= 2) {
            r.error = request_line_error::unsupported_version;
            r.offending = version.substr(5); // base_version_number
            return r;
        }
        r.version = version;
        r.number = *number;
    }
    if (words.size() < 2 || words.size() > 3) {
        r.error = request_line_error::bad_syntax;
        return r;
    }
    r.command = words[0];
    r.path = words[1];
    // cgihttp refuses a target with a control byte (RFC 9112 3.2); Python passes it on.
    for (const char c : r.path) {
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
            r.error = request_line_error::bad_syntax;
            return r;
        }
    }
    if (words.size() == 2 && r.command != "GET") {
        r.error = request_line_error::bad_simple_request;
        r.offending = r.command;
    }
    return r;
}

struct ref_header_line {
    header_line_kind kind = header_line_kind::malformed;
    std::string_view name, value;
};

/// parse_header_line()'s documented rules: the terminator (LF, and one CR before it) goes;
/// empty: end; leading SP/HTAB: obs-fold; "token:" then a value without NUL or CR, trimmed
/// of SP/HTAB; anything else malformed.
ref_header_line ref_parse_header_line(std::string_view line) {
    ref_header_line r;
    if (!line.empty() && line.back() == '\n') {
        line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    }
    if (line.empty()) {
        r.kind = header_line_kind::end;
        return r;
    }
    if (line[0] == ' ' || line[0] == '\t') {
        r.kind = header_line_kind::obs_fold;
        return r;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return r;
    for (std::size_t i = 0; i < colon; ++i)
        if (!ref_tchar(line[i])) return r;
    const std::string_view value = line.substr(colon + 1);
    for (const char c : value)
        if (c == '\0' || c == '\r') return r;
    r.kind = header_line_kind::field;
    r.name = line.substr(0, colon);
    r.value = ref_trim(value);
    return r;
}

enum class ref_framing_outcome { none, length, chunked, refuse_400, refuse_501, refuse_any };

struct ref_framing {
    ref_framing_outcome outcome = ref_framing_outcome::none;
    std::uint64_t length = 0;
};

/// RFC 9112 6.1-6.3 as determine_body_framing() documents its choices: Transfer-Encoding
/// with Content-Length, in HTTP/1.0, or not ending in chunked: 400; chunked applied twice:
/// refused (400 or 501); another coding before chunked: 501; Content-Length: a non-empty
/// list of equal decimal numbers, else 400.
ref_framing ref_determine_framing(const headers& fields, http_version version) {
    bool any_te = false, any_cl = false;
    std::vector<std::string_view> codings, lengths;
    bool empty_cl_field = false;
    for (const header_field& f : fields) {
        if (ref_iequals(f.name, "Transfer-Encoding")) {
            any_te = true;
            for (const auto e : ref_list(f.value))
                codings.push_back(e);
        } else if (ref_iequals(f.name, "Content-Length")) {
            any_cl = true;
            const auto elements = ref_list(f.value);
            empty_cl_field = empty_cl_field || elements.empty();
            lengths.insert(lengths.end(), elements.begin(), elements.end());
        }
    }
    ref_framing r;
    if (any_te) {
        if (any_cl || version.major < 1 || (version.major == 1 && version.minor < 1)) {
            r.outcome = ref_framing_outcome::refuse_400;
            return r;
        }
        if (codings.empty() || !ref_iequals(codings.back(), "chunked")) {
            r.outcome = ref_framing_outcome::refuse_400;
            return r;
        }
        std::size_t chunked = 0;
        for (const auto c : codings)
            chunked += ref_iequals(c, "chunked") ? 1 : 0;
        if (chunked > 1) {
            r.outcome = ref_framing_outcome::refuse_any;
            return r;
        }
        r.outcome =
            codings.size() > 1 ? ref_framing_outcome::refuse_501 : ref_framing_outcome::chunked;
        return r;
    }
    if (any_cl) {
        std::optional<std::uint64_t> common;
        bool ok = !empty_cl_field;
        for (const auto e : lengths) {
            const auto n = ref_decimal(e);
            ok = ok && n && (!common || *common == *n);
            if (n) common = n;
        }
        if (!ok || !common) {
            r.outcome = ref_framing_outcome::refuse_400;
            return r;
        }
        r.outcome = ref_framing_outcome::length;
        r.length = *common;
    }
    return r;
}

// ---- The input ----

/// Applies the padding mode described at the top; other inputs are used as they are.
std::string effective_input(std::string_view data) {
    if (data.size() < 3 || data[0] != '\0') return std::string(data);
    const unsigned line_number = static_cast<unsigned char>(data[1]) % 4;
    const std::size_t target = max_line_length - 128 + static_cast<unsigned char>(data[2]);
    std::string rest(data.substr(3));
    std::size_t start = 0;
    for (unsigned k = 0; k < line_number; ++k) {
        const std::size_t nl = rest.find('\n', start);
        if (nl == std::string::npos) return rest;
        start = nl + 1;
    }
    const std::size_t nl = rest.find('\n', start);
    const std::size_t length = (nl == std::string::npos ? rest.size() : nl + 1) - start;
    if (length >= target) return rest;
    const std::size_t line_end = start + length;
    const std::size_t slash = rest.find('/', start);
    const std::size_t at = slash != std::string::npos && slash < line_end ? slash + 1 : start;
    rest.insert(at, target - length, 'a');
    return rest;
}

std::vector<std::string_view> lines_of(std::string_view data) {
    std::vector<std::string_view> lines;
    while (!data.empty()) {
        const std::size_t nl = data.find('\n');
        const std::size_t n = nl == std::string_view::npos ? data.size() : nl + 1;
        lines.push_back(data.substr(0, n));
        data.remove_prefix(n);
    }
    return lines;
}

// ---- Checks ----

void check_version(std::string_view word) {
    const auto got = parse_http_version(word);
    const auto want = ref_http_version(word);
    FUZZ_CHECK_MSG(got.has_value() == want.has_value(), "word \"" + escape(word) + "\"");
    if (got) FUZZ_CHECK_MSG(*got == *want, "word \"" + escape(word) + "\"");
}

bool within(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

void check_request_line(std::string_view raw) {
    const std::string_view line = strip_line_terminator(raw);
    const request_line got = parse_request_line(line);
    const ref_request_line want = ref_parse_request_line(line);
    const std::string where = "request line \"" + escape(line) + "\"";
    FUZZ_CHECK_MSG(got.error == want.error, where);
    switch (got.error) {
    case request_line_error::none:
        FUZZ_CHECK_MSG(got.command == want.command && got.path == want.path, where);
        FUZZ_CHECK_MSG(got.version == want.version && got.number == want.number, where);
        FUZZ_CHECK(!got.command.empty() && !got.path.empty());
        FUZZ_CHECK(within(got.command, line) && within(got.path, line) &&
                   within(got.version, line));
        break;
    case request_line_error::bad_simple_request:
        FUZZ_CHECK_MSG(got.command == want.command && got.offending == want.offending, where);
        break;
    case request_line_error::bad_version:
    case request_line_error::unsupported_version:
        FUZZ_CHECK_MSG(got.offending == want.offending, where);
        FUZZ_CHECK(within(got.offending, line));
        break;
    case request_line_error::empty:
    case request_line_error::bad_syntax:
        break;
    }
    check_version(line);
    for (const auto word : ref_split_words(line))
        check_version(word);
}

void check_header_line(std::string_view raw) {
    const header_line got = parse_header_line(raw);
    const ref_header_line want = ref_parse_header_line(raw);
    const std::string where = "header line \"" + escape(raw) + "\"";
    FUZZ_CHECK_MSG(got.kind == want.kind, where);
    if (got.kind == header_line_kind::field) {
        FUZZ_CHECK_MSG(got.name == want.name && got.value == want.value, where);
        FUZZ_CHECK(within(got.name, raw) && within(got.value, raw));
    }
}

void check_framing(const headers& fields, http_version version) {
    const body_framing got = determine_body_framing(fields, version);
    const ref_framing want = ref_determine_framing(fields, version);
    std::string where = "framing of HTTP/" + std::to_string(version.major) + "." +
                        std::to_string(version.minor) + " fields:";
    for (const auto& f : fields)
        where += " [" + escape(f.name) + ": " + escape(f.value) + "]";
    where += " got kind " + std::to_string(int(got.kind)) + " status " +
             std::to_string(got.error_status) + ", want outcome " +
             std::to_string(int(want.outcome));
    switch (want.outcome) {
    case ref_framing_outcome::none:
        FUZZ_CHECK_MSG(got.error_status == 0 && got.kind == body_framing_kind::none, where);
        break;
    case ref_framing_outcome::length:
        FUZZ_CHECK_MSG(got.error_status == 0 && got.kind == body_framing_kind::length &&
                           got.length == want.length,
                       where);
        break;
    case ref_framing_outcome::chunked:
        FUZZ_CHECK_MSG(got.error_status == 0 && got.kind == body_framing_kind::chunked, where);
        break;
    case ref_framing_outcome::refuse_400:
        FUZZ_CHECK_MSG(got.error_status == 400, where);
        break;
    case ref_framing_outcome::refuse_501:
        FUZZ_CHECK_MSG(got.error_status == 501, where);
        break;
    case ref_framing_outcome::refuse_any:
        FUZZ_CHECK_MSG(got.error_status == 400 || got.error_status == 501, where);
        break;
    }
    if (got.error_status != 0) FUZZ_CHECK(!got.error_message.empty());
}

/// Feeds growing prefixes ending at each cut, then the whole input; after each call the
/// answer must equal a fresh scanner's on the same prefix.
bool check_scanner(std::string_view data, const std::vector<std::size_t>& cuts,
                   std::size_t max_head) {
    head_scanner incremental(max_head);
    bool was_complete = false;
    auto step = [&](std::size_t end) {
        const std::string_view prefix = data.substr(0, end);
        const bool got = incremental.complete(prefix);
        head_scanner fresh(max_head);
        const bool want = fresh.complete(prefix);
        FUZZ_CHECK_MSG(got == want, "prefix of " + std::to_string(end) + " bytes: \"" +
                                        escape(prefix) + "\" incremental " + std::to_string(got) +
                                        " fresh " + std::to_string(want));
        FUZZ_CHECK(!was_complete || got);
        was_complete = got;
        return got;
    };
    for (const std::size_t cut : cuts)
        step(cut);
    const bool verdict = step(data.size());
    // reset() forgets everything: the same input gives the same verdict again.
    incremental.reset();
    FUZZ_CHECK(incremental.complete(data) == verdict);
    return verdict;
}

// ---- The scanner against the handler ----

/// A stream over the input that records a read attempted once the input is exhausted while
/// the handler is still reading the request head.
struct probe_stream {
    std::string_view input;
    std::size_t position = 0;
    const bool* head_phase = nullptr;
    bool read_past_end = false;

    std::size_t read_some(asio::mutable_buffer buffer, std::error_code& ec) {
        ec.clear();
        if (position == input.size()) {
            if (*head_phase) read_past_end = true;
            ec = asio::error::eof;
            return 0;
        }
        const std::size_t n = std::min(buffer.size(), input.size() - position);
        std::memcpy(buffer.data(), input.data() + position, n);
        position += n;
        return n;
    }
    std::size_t write_some(asio::const_buffer buffer, std::error_code& ec) {
        ec.clear();
        return buffer.size();
    }
};

struct probe_handler : BaseRequestHandler<probe_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";
    std::size_t max_request_head = default_max_request_head; // the scanner's limit
    bool head_phase = true;

    bool parse_request() {
        const bool ok = BaseRequestHandler::parse_request();
        head_phase = false; // what follows may read a body: not the scanner's business
        return ok;
    }
    void answer() {
        send_response(204);
        end_headers();
    }
    void do_GET() { answer(); }
    void do_HEAD() { answer(); }
    void do_POST() { answer(); }
    void do_PUT() { answer(); }
    void log_message(std::string_view) {}
};

void check_scanner_against_handler(std::string_view data, std::size_t max_head, bool complete) {
    if (!complete) return; // the scanner may wait longer than needed (malformed header lines)
    probe_handler handler;
    handler.max_request_head = max_head;
    probe_stream stream{data, 0, &handler.head_phase, false};
    auto ref = make_stream_ref(stream);
    handler.connection_input().reset();
    handler.attach(ref, {"192.0.2.1", 4242}, nullptr);
    handler.handle_one_request();
    FUZZ_CHECK_MSG(!stream.read_past_end,
                   "head_scanner said complete (max_head " + std::to_string(max_head) +
                       ") but the handler wanted more input after \"" + escape(data) + "\"");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string input =
        effective_input(std::string_view(reinterpret_cast<const char*>(bytes), size));
    const std::string_view data = input;
    const auto lines = lines_of(data);
    fuzz_support::rng rng(
        fuzz_support::hash(std::string_view(reinterpret_cast<const char*>(bytes), size)));

    // 1, 2: the first line that is not empty is the request line; every line is tried too.
    std::size_t first = 0;
    while (first < lines.size() && (lines[first] == "\r\n" || lines[first] == "\n"))
        ++first;
    for (const auto line : lines)
        check_request_line(line);

    // 3, 4: the lines after the request line as a header section.
    headers fields;
    for (std::size_t i = first + 1; i < lines.size(); ++i) {
        const header_line parsed = parse_header_line(lines[i]);
        if (parsed.kind == header_line_kind::end) break;
        if (parsed.kind == header_line_kind::field) fields.add(parsed.name, parsed.value);
    }
    for (const auto line : lines)
        check_header_line(line);
    for (const http_version v :
         {http_version{0, 9}, http_version{1, 0}, http_version{1, 1}, http_version{2, 0}})
        check_framing(fields, v);
    if (first < lines.size()) {
        const request_line rl = parse_request_line(strip_line_terminator(lines[first]));
        if (rl.error == request_line_error::none) check_framing(fields, rl.number);
    }
    // The headers container keeps its fields through copies.
    const headers copy = fields;
    FUZZ_CHECK(copy.size() == fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i)
        FUZZ_CHECK(copy.items()[i].name == fields.items()[i].name &&
                   copy.items()[i].value == fields.items()[i].value);

    // 5: the scanner, with the default head limit and a small one.
    const std::size_t small_head = 64 + static_cast<std::size_t>(rng.below(1024));
    // Every cut rescans the prefix with a fresh scanner, and instrumented scans of a 64 KiB
    // line cost about a millisecond: padded inputs get few cuts and one of the two limits.
    const bool padded = data.size() > 4096;
    const std::size_t max_cuts = padded ? 3 : 16;
    const bool small_only = padded && rng.below(2) == 0;
    for (const std::size_t max_head : {default_max_request_head, small_head}) {
        if (padded && (max_head == small_head) != small_only) continue;
        const bool verdict =
            check_scanner(data, fuzz_support::random_cuts(rng, data.size(), max_cuts), max_head);
        if (data.size() <= 256) check_scanner(data, fuzz_support::every_cut(data.size()), max_head);
        // 6: the handler agrees that a complete head needs nothing more.
        check_scanner_against_handler(data, max_head, verdict);
    }
    return 0;
}
