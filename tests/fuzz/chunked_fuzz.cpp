// chunked_fuzz.cpp - fuzz target for chunked request bodies: cgihttp/chunked.hpp
// (parse_chunk_size_line) and cgihttp/body_reader.hpp over a buffered_reader over
// testing::memory_stream.
//
// Input: a chunked request body as a client sends it (chunks, last chunk, trailers, and
// whatever follows: the next request). Each input is decoded under several settings: no size
// limit; a limit equal to the decoded length (must pass) and one byte less (must fail with
// 413); a small limit; stream reads of 1, 3, 5 bytes or all at once; buffers of 1 byte to
// 8 KiB; and four ways of consuming (read_some of varying sizes, read(), readline(),
// discard()).
//
// Properties:
//  1. parse_chunk_size_line() agrees with a reference of its grammar (RFC 9112 7.1 with the
//     documented leniency of whitespace before ';' and at the end), on every line.
//  2. body_reader produces bytes or throws http_error (400 malformed, 413 too large) or
//     std::system_error (input ended early); never anything else.
//  3. Its outcome and decoded bytes agree with a reference decoder that models the
//     library's documented line limits (4 KiB chunk lines, 64 KiB trailer lines, 100
//     trailers) and reads the same way.
//  4. Decoded bytes never exceed the limit.
//  5. After a complete body, at_end() holds, bytes_read() is the decoded length, and exactly
//     the input after the body is left unread (the next request is not eaten, nor is part of
//     the body left behind: what request smuggling needs).
#include "fuzz_support.hpp"

#include <cgihttp/body_reader.hpp>
#include <cgihttp/buffered_reader.hpp>
#include <cgihttp/chunked.hpp>
#include <cgihttp/http_error.hpp>
#include <cgihttp/request_parser.hpp>
#include <cgihttp/stream.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace cgihttp;
using fuzz_support::escape;
using fuzz_support::ref_ows;
using fuzz_support::ref_tchar;

// ---- Reference chunk-size line ----

bool ref_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// RFC 9110 5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
bool ref_qdtext(unsigned char c) {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}
/// RFC 9110 5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
bool ref_quoted_pair_char(unsigned char c) {
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

/// chunk-size [ chunk-ext ] with chunk-size = 1*HEXDIG (fitting 64 bits) and
/// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ), ext-value = token /
/// quoted-string, plus trailing whitespace (documented leniency).
std::optional<std::uint64_t> ref_chunk_size(std::string_view line) {
    std::size_t i = 0;
    unsigned __int128 size = 0;
    while (i < line.size() && ref_hex(line[i])) {
        const char c = line[i++];
        const unsigned digit = c <= '9'   ? unsigned(c - '0')
                               : c <= 'F' ? unsigned(c - 'A' + 10)
                                          : unsigned(c - 'a' + 10);
        size = size * 16 + digit;
        if (size > UINT64_MAX) return std::nullopt;
    }
    if (i == 0) return std::nullopt;
    const auto ows = [&] {
        while (i < line.size() && ref_ows(line[i]))
            ++i;
    };
    const auto token = [&] {
        const std::size_t start = i;
        while (i < line.size() && ref_tchar(line[i]))
            ++i;
        return i > start;
    };
    const auto quoted = [&] {
        if (i >= line.size() || line[i] != '"') return false;
        ++i;
        while (i < line.size()) {
            const auto c = static_cast<unsigned char>(line[i]);
            if (c == '"') {
                ++i;
                return true;
            }
            if (c == '\\') {
                // Seed quoted-pair-control-char: the library once accepted any byte after the
                // backslash, CR, NUL and other controls included.
                if (i + 1 >= line.size() ||
                    !ref_quoted_pair_char(static_cast<unsigned char>(line[i + 1])))
                    return false;
                i += 2;
            } else if (ref_qdtext(c)) {
                ++i;
            } else {
                return false;
            }
        }
        return false;
    };
    while (true) {
        ows();
        if (i == line.size()) return static_cast<std::uint64_t>(size);
        if (line[i] != ';') return std::nullopt;
        ++i;
        ows();
        if (!token()) return std::nullopt;
        ows();
        if (i < line.size() && line[i] == '=') {
            ++i;
            ows();
            if (!token() && !quoted()) return std::nullopt;
        }
    }
}

void check_chunk_line(std::string_view line) {
    const auto got = parse_chunk_size_line(line);
    const auto want = ref_chunk_size(line);
    FUZZ_CHECK_MSG(got == want, "chunk-size line \"" + escape(line) + "\": got " +
                                    (got ? std::to_string(*got) : "invalid") + ", reference " +
                                    (want ? std::to_string(*want) : "invalid"));
}

// ---- Reference decoder ----

enum class outcome { complete, malformed, too_large, truncated };

const char* outcome_name(outcome o) {
    switch (o) {
    case outcome::complete:
        return "complete";
    case outcome::malformed:
        return "malformed (400)";
    case outcome::too_large:
        return "too large (413)";
    case outcome::truncated:
        return "truncated";
    }
    return "?";
}

struct decoded {
    outcome result = outcome::complete;
    std::string body;    ///< bytes delivered before the outcome
    std::size_t end = 0; ///< input consumed, for a complete body
};

/// Decodes as the documentation says body_reader does, reading lines the way
/// buffered_reader::readline(limit) returns them: up to LF, or `limit` bytes, or to the end.
decoded ref_decode(std::string_view in, std::uint64_t limit) {
    decoded d;
    std::size_t pos = 0;
    const auto readline = [&](std::size_t max) {
        const std::string_view window = in.substr(pos, max);
        const std::size_t nl = window.find('\n');
        const std::string_view line =
            nl == std::string_view::npos ? window : window.substr(0, nl + 1);
        pos += line.size();
        return line;
    };
    const auto unfinished = [](std::string_view line, std::size_t max) {
        return line.size() > max ? outcome::malformed : outcome::truncated;
    };
    while (true) {
        const std::string_view line = readline(max_chunk_line_length + 1);
        if (line.empty() || line.back() != '\n') {
            d.result = unfinished(line, max_chunk_line_length);
            return d;
        }
        std::string_view text = line.substr(0, line.size() - 1);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        const auto size = ref_chunk_size(text);
        if (!size) {
            d.result = outcome::malformed;
            return d;
        }
        if (*size == 0) break;
        if (limit != 0 && *size > limit - d.body.size()) {
            d.result = outcome::too_large;
            return d;
        }
        const std::size_t available = in.size() - pos;
        if (*size > available) {
            d.body.append(in.substr(pos));
            d.result = outcome::truncated;
            return d;
        }
        d.body.append(in.substr(pos, static_cast<std::size_t>(*size)));
        pos += static_cast<std::size_t>(*size);
        const std::string_view end = readline(3);
        if (end != "\r\n" && end != "\n") {
            d.result = end.empty() ? outcome::truncated : outcome::malformed;
            return d;
        }
    }
    for (std::size_t count = 0;; ++count) {
        const std::string_view line = readline(max_line_length + 1);
        if (line.empty() || line.back() != '\n') {
            d.result = unfinished(line, max_line_length);
            return d;
        }
        const header_line parsed = parse_header_line(line); // fuzzed by request_parser
        if (parsed.kind == header_line_kind::end) break;
        if (parsed.kind != header_line_kind::field || count == max_trailer_count) {
            d.result = outcome::malformed;
            return d;
        }
    }
    d.end = pos;
    return d;
}

// ---- The library under the same input ----

enum class consumer { read_some, read_all, readline, discard };

struct setting {
    std::uint64_t limit;
    std::size_t max_read; ///< bytes per stream read
    std::size_t capacity; ///< buffered_reader's initial buffer
    consumer how;
};

void run(std::string_view in, const setting& s, fuzz_support::rng& rng) {
    const decoded want = ref_decode(in, s.limit);
    testing::memory_stream stream{std::string(in), s.max_read};
    stream_adapter<testing::memory_stream> ref(stream);
    buffered_reader reader(s.capacity);
    reader.attach(&ref);
    body_framing framing;
    framing.kind = body_framing_kind::chunked;
    body_reader body;
    body.reset(&reader, framing, s.limit);

    std::string got;
    outcome result = outcome::complete;
    int status = 0;
    try {
        switch (s.how) {
        case consumer::read_some: {
            char buf[64];
            while (true) {
                const std::size_t want_n = 1 + static_cast<std::size_t>(rng.below(sizeof buf));
                const std::size_t n = body.read_some(buf, want_n);
                FUZZ_CHECK(n <= want_n);
                if (n == 0) break;
                got.append(buf, n);
            }
            break;
        }
        case consumer::read_all:
            got = body.read();
            break;
        case consumer::readline:
            while (true) {
                const std::string line = body.readline(1 + static_cast<std::size_t>(rng.below(80)));
                if (line.empty()) break;
                got += line;
            }
            break;
        case consumer::discard:
            while (!body.discard(1 + rng.below(100))) {
            }
            break;
        }
    } catch (const http_error& e) {
        status = e.status();
        FUZZ_CHECK_MSG(status == 400 || status == 413, "status " + std::to_string(status));
        result = status == 400 ? outcome::malformed : outcome::too_large;
    } catch (const std::system_error&) {
        result = outcome::truncated;
    } catch (...) {
        FUZZ_CHECK_MSG(false, "body_reader threw something other than http_error or system_error");
    }

    const std::string where = std::string("input \"") + escape(in) + "\" limit " +
                              std::to_string(s.limit) + " max_read " + std::to_string(s.max_read) +
                              " capacity " + std::to_string(s.capacity) + " consumer " +
                              std::to_string(int(s.how)) + ": library " + outcome_name(result) +
                              ", reference " + outcome_name(want.result);
    FUZZ_CHECK_MSG(result == want.result, where);
    if (s.limit != 0) {
        FUZZ_CHECK_MSG(got.size() <= s.limit && body.bytes_read() <= s.limit, where);
    }
    // A complete body is decoded exactly. A failed one was delivered up to the failure, less
    // what the failing call held: the read that ends a chunk also checks its CRLF, and
    // read() and readline() drop their partial result when an exception comes.
    const std::string detail =
        where + "; decoded \"" + escape(got) + "\", reference \"" + escape(want.body) + "\"";
    if (result == outcome::complete && s.how != consumer::discard)
        FUZZ_CHECK_MSG(got == want.body, detail);
    if (result != outcome::complete && s.how == consumer::read_some)
        FUZZ_CHECK_MSG(want.body.compare(0, got.size(), got) == 0, detail);
    if (result == outcome::complete) {
        FUZZ_CHECK_MSG(body.at_end(), where);
        FUZZ_CHECK_MSG(body.bytes_read() == want.body.size(), where);
        char c;
        FUZZ_CHECK(body.read_some(&c, 1) == 0);
        const std::string left =
            std::string(reader.buffered()) + std::string(in.substr(in.size() - stream.unread()));
        FUZZ_CHECK_MSG(left == in.substr(want.end), where + "; left unread \"" + escape(left) +
                                                        "\", expected \"" +
                                                        escape(in.substr(want.end)) + "\"");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(bytes), size);
    fuzz_support::rng rng(fuzz_support::hash(in));

    // 1: every line as a chunk-size line, and the whole input.
    check_chunk_line(in);
    for (std::size_t start = 0; start < in.size();) {
        const std::size_t nl = in.find('\n', start);
        std::string_view line =
            in.substr(start, nl == std::string_view::npos ? in.npos : nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        check_chunk_line(line);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }

    // 2-5: the body under several settings.
    const std::uint64_t full = ref_decode(in, 0).body.size();
    const std::size_t all = static_cast<std::size_t>(-1);
    run(in, {0, all, 8 * 1024, consumer::read_some}, rng);
    if (full > 0) {
        run(in, {full, 1, 16, consumer::read_all}, rng);
        if (full > 1) run(in, {full - 1, 5, 1, consumer::readline}, rng);
    }
    run(in, {1 + rng.below(64), 3, 64, consumer::discard}, rng);
    run(in,
        {0, 1 + static_cast<std::size_t>(rng.below(32)),
         1 + static_cast<std::size_t>(rng.below(256)), static_cast<consumer>(rng.below(4))},
        rng);
    return 0;
}
