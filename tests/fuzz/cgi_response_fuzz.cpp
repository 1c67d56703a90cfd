// cgi_response_fuzz.cpp - fuzz target for cgihttp/cgi_response.hpp: the header block a CGI
// script writes before its body.
//
// Input: a script's standard output. It is fed to cgi_response_parser the way the CGI
// gateway does (CGIRequestHandler's output sink): the unconsumed rest of the header block
// plus each new piece of output, until the parser is done or fails. The pieces are the whole
// input, one byte at a time (short inputs) and random splits; the header limit is the
// default (64 KiB) and a small one.
//
// Properties:
//  1. The result does not depend on the split: same outcome, error text, response and
//     offset of the body in the output.
//  2. On done: the header block (the consumed bytes) is at most the input and the limit
//     and ends with LF; parsing only the block gives the same response; status is in
//     200..999; field names are tokens; names, values, the reason and the location hold no
//     CR, LF or NUL; Status, Content-Length and hop-by-hop fields are not passed on; the
//     kind agrees with Location and Status (RFC 3875 6.2 as documented).
//  3. need_more after the whole output means every line so far was a valid field and the
//     block stays within the limit.
#include "fuzz_support.hpp"

#include <cgihttp/cgi_response.hpp>
#include <cgihttp/detail/strings.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cgihttp;
using fuzz_support::escape;
using result = cgi_response_parser::result;

struct run_result {
    result outcome = result::need_more;
    std::string error;
    cgi_response response;
    std::size_t body_offset = 0; ///< where the body starts in the whole output, once done
};

/// The gateway's loop: head_ += piece; feed(head_); erase what was consumed while need_more.
run_result feed_in_pieces(std::string_view output, const std::vector<std::size_t>& cuts,
                          std::size_t max_bytes) {
    cgi_response_parser parser(max_bytes);
    std::string head;
    std::size_t erased = 0; // bytes of the output consumed and dropped from head
    std::size_t start = 0;
    run_result r;
    for (std::size_t k = 0; k <= cuts.size(); ++k) {
        const std::size_t end = k < cuts.size() ? cuts[k] : output.size();
        head.append(output.substr(start, end - start));
        start = end;
        std::size_t consumed = 12345; // feed() must set it
        r.outcome = parser.feed(head, consumed);
        FUZZ_CHECK(consumed <= head.size());
        if (r.outcome == result::need_more) {
            head.erase(0, consumed);
            erased += consumed;
            continue;
        }
        if (r.outcome == result::done) {
            r.body_offset = erased + consumed;
            r.response = parser.response();
        } else {
            r.error = parser.error();
            FUZZ_CHECK(!r.error.empty());
        }
        return r;
    }
    return r;
}

bool same_response(const cgi_response& a, const cgi_response& b) {
    return a.kind == b.kind && a.status == b.status && a.reason == b.reason &&
           a.status_given == b.status_given && a.location == b.location &&
           a.content_length == b.content_length && a.fields == b.fields;
}

std::string describe(const run_result& r) {
    std::string s = r.outcome == result::done    ? "done"
                    : r.outcome == result::error ? "error (" + r.error + ")"
                                                 : "need_more";
    if (r.outcome == result::done) {
        s += " status " + std::to_string(r.response.status) + " kind " +
             std::to_string(int(r.response.kind)) + " fields " +
             std::to_string(r.response.fields.size()) + " body at " + std::to_string(r.body_offset);
    }
    return s;
}

bool clean(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool hop_by_hop(std::string_view name) {
    for (const char* h : {"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer",
                          "Upgrade", "Proxy-Connection"})
        if (detail::iequals(name, h)) return true;
    return false;
}

void check_done(std::string_view output, const run_result& r, std::size_t max_bytes) {
    const cgi_response& resp = r.response;
    const std::string where = "output \"" + escape(output) + "\": " + describe(r);
    FUZZ_CHECK_MSG(r.body_offset >= 1 && r.body_offset <= output.size(), where);
    FUZZ_CHECK_MSG(r.body_offset <= max_bytes, where);
    FUZZ_CHECK_MSG(output[r.body_offset - 1] == '\n', where);
    FUZZ_CHECK_MSG(resp.status >= 200 && resp.status <= 999, where);
    FUZZ_CHECK_MSG(clean(resp.reason), where);
    for (const auto& [name, value] : resp.fields) {
        FUZZ_CHECK_MSG(detail::is_token(name) && clean(value), where);
        FUZZ_CHECK_MSG(!detail::iequals(name, "Status") &&
                           !detail::iequals(name, "Content-Length") && !hop_by_hop(name),
                       where + " passes on " + escape(name));
    }
    switch (resp.kind) {
    case cgi_response_kind::local_redirect:
        FUZZ_CHECK_MSG(resp.location && resp.location->size() >= 1 && (*resp.location)[0] == '/' &&
                           resp.location->compare(0, 2, "//") != 0 && resp.status == 200,
                       where);
        break;
    case cgi_response_kind::client_redirect:
        FUZZ_CHECK_MSG(resp.location && !resp.location->empty(), where);
        FUZZ_CHECK_MSG(resp.status_given || resp.status == 302, where);
        break;
    case cgi_response_kind::document:
        FUZZ_CHECK_MSG(!resp.location && (resp.status_given || !resp.fields.empty()), where);
        FUZZ_CHECK_MSG(resp.status_given || resp.status == 200, where);
        break;
    }
    if (resp.location) {
        FUZZ_CHECK_MSG(clean(*resp.location), where);
        bool listed = false;
        for (const auto& f : resp.fields)
            listed = listed || (detail::iequals(f.first, "Location") && f.second == *resp.location);
        FUZZ_CHECK_MSG(listed, where);
    }
    // The block alone parses to the same response: nothing after it was looked at.
    const run_result alone = feed_in_pieces(output.substr(0, r.body_offset), {}, max_bytes);
    FUZZ_CHECK_MSG(alone.outcome == result::done && alone.body_offset == r.body_offset &&
                       same_response(alone.response, resp),
                   where + "; block alone: " + describe(alone));
}

void check_need_more(std::string_view output, std::size_t max_bytes) {
    // Every complete line was a valid field and no line was empty; the limit holds.
    const std::string where = "output \"" + escape(output) + "\": need_more";
    FUZZ_CHECK_MSG(output.size() <= max_bytes, where);
    std::size_t start = 0;
    while (true) {
        const std::size_t nl = output.find('\n', start);
        if (nl == std::string_view::npos) break;
        const header_line parsed = parse_header_line(output.substr(start, nl + 1 - start));
        FUZZ_CHECK_MSG(parsed.kind == header_line_kind::field, where);
        start = nl + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view output(reinterpret_cast<const char*>(bytes), size);
    fuzz_support::rng rng(fuzz_support::hash(output));
    const std::size_t small_limit = 8 + static_cast<std::size_t>(rng.below(256));
    for (const std::size_t max_bytes : {default_max_cgi_header_bytes, small_limit}) {
        const run_result whole = feed_in_pieces(output, {}, max_bytes);
        std::vector<std::vector<std::size_t>> splits;
        splits.push_back(fuzz_support::random_cuts(rng, output.size(), 8));
        splits.push_back(fuzz_support::random_cuts(rng, output.size(), 64));
        if (output.size() <= 512) splits.push_back(fuzz_support::every_cut(output.size()));
        for (const auto& cuts : splits) {
            const run_result split = feed_in_pieces(output, cuts, max_bytes);
            const std::string where = "output \"" + escape(output) + "\" limit " +
                                      std::to_string(max_bytes) + ": whole " + describe(whole) +
                                      ", in " + std::to_string(cuts.size() + 1) + " pieces " +
                                      describe(split);
            FUZZ_CHECK_MSG(split.outcome == whole.outcome, where);
            FUZZ_CHECK_MSG(split.error == whole.error, where);
            if (whole.outcome == result::done)
                FUZZ_CHECK_MSG(split.body_offset == whole.body_offset &&
                                   same_response(split.response, whole.response),
                               where);
        }
        if (whole.outcome == result::done) check_done(output, whole, max_bytes);
        if (whole.outcome == result::need_more) check_need_more(output, max_bytes);
    }
    return 0;
}
