// cgihttp/simple_request_handler.hpp - SimpleRequestHandler<Derived>: serves files and
// directory listings from a directory, with validators, conditional requests and ranges.
// Python counterpart: http.server.SimpleHTTPRequestHandler (Python 3.11).
#pragma once

#include "base_request_handler.hpp"
#include "conditional.hpp"
#include "detail/filesystem.hpp"
#include "detail/resource_shortage.hpp"
#include "directory_listing.hpp"
#include "mime_types.hpp"
#include "open_file_cache.hpp"
#include "range.hpp"
#include "response_body.hpp"
#include "url.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sys/stat.h>
#include <unistd.h>

namespace cgihttp {

template <class Derived>
class SimpleRequestHandler : public BaseRequestHandler<Derived> {
    using base = BaseRequestHandler<Derived>;

public:
    // ---- Class attributes: redefine in Derived ----

    /// Suffixes looked up before the media-type database; Python's extensions_map.
    static inline const std::unordered_map<std::string, std::string> extensions_map = {
        {".gz", "application/gzip"},
        {".Z", "application/octet-stream"},
        {".bz2", "application/x-bzip2"},
        {".xz", "application/x-xz"},
    };
    /// Files served in place of a directory listing; Python 3.12's index_pages.
    static constexpr std::array<std::string_view, 2> index_pages = {"index.html", "index.htm"};
    /// Whether guess_type() also consults /etc/mime.types, as Python's mimetypes does.
    static constexpr bool use_system_mime_types = true;
    /// How long an open file is reused before its path is opened again (see
    /// open_file_cache); each use still checks the file's status. Zero disables the cache.
    static constexpr std::chrono::milliseconds file_cache_validity{1000};
    /// Whether symbolic links (and so files) outside `directory` may be served. Python follows
    /// every link; set false to refuse any path that resolves outside the directory.
    static constexpr bool allow_symlinks_outside_directory = true;

    /// The directory served; empty means the current directory. Python's `directory`.
    std::string directory;

    // ---- Python's methods ----

    /// Serves a file or a listing; Python's do_GET().
    void do_GET() {
        if (response_body body = self().send_head()) self().copyfile(body, this->wfile());
    }

    /// Sends what do_GET() would, without the body; Python's do_HEAD().
    void do_HEAD() { self().send_head(); }

    /// Sends the status line and headers for GET and HEAD, and returns the body to copy
    /// (nothing when the response is already complete). Python's send_head().
    response_body send_head();

    /// Sends the headers of a listing of `path` and returns the page; list_directory().
    response_body list_directory(const std::string& path);

    /// Maps the request path onto the served directory; Python's translate_path().
    std::string translate_path(std::string_view path) {
        return translate_request_path(served_directory(), path);
    }

    /// Copies a body to the output: sendfile(2) for files on sockets; copyfile().
    void copyfile(response_body& source, buffered_writer& outputfile) {
        if (source.fd() >= 0)
            outputfile.write_file(source.fd(), source.offset(), source.length(), source.file());
        else
            outputfile.write(source.data());
    }

    /// The Content-Type of a file: extensions_map, then the media-type database, then
    /// application/octet-stream; Python's guess_type().
    std::string_view guess_type(std::string_view path) {
        const auto& map = detail::class_attribute(self(), &Derived::extensions_map);
        const std::string ext(path_extension(path));
        if (const auto it = map.find(ext); it != map.end()) return it->second;
        std::string lower = ext;
        for (char& c : lower)
            c = detail::to_lower(c);
        if (const auto it = map.find(lower); it != map.end()) return it->second;
        static const mime_types builtin;
        const mime_types& db = detail::class_attribute(self(), &Derived::use_system_mime_types)
                                   ? mime_types::system()
                                   : builtin;
        const std::string_view guess = db.guess(path);
        return guess.empty() ? "application/octet-stream" : guess;
    }

protected:
    using base::self;

    /// The directory being served, the current directory when `directory` is empty.
    std::string_view served_directory() {
        const std::string_view dir = detail::string_attribute(self(), &Derived::directory);
        if (!dir.empty()) return dir;
        if (cwd_.empty()) {
            char buf[PATH_MAX];
            cwd_ = ::getcwd(buf, sizeof buf) ? buf : ".";
        }
        return cwd_;
    }

    /// Opens a path to serve, honouring allow_symlinks_outside_directory; with `path_only`,
    /// enough to fstat() it (see detail::open_for_reading).
    detail::unique_fd open_path(const std::string& path, bool path_only = false);

private:
    response_body send_file(std::shared_ptr<const open_file> file, const std::string& path);

    /// The open file at `path`, through the open-file cache shared by this handler class.
    std::shared_ptr<const open_file> open_cached(const std::string& path) {
        static open_file_cache cache;
        return cache.get(path, detail::class_attribute(self(), &Derived::file_cache_validity),
                         [&](const std::string& p) { return open_path(p); });
    }

    std::string cwd_;
};

// ---- Definitions ----

template <class Derived>
detail::unique_fd SimpleRequestHandler<Derived>::open_path(const std::string& path,
                                                           bool path_only) {
    detail::unique_fd fd;
    if (detail::class_attribute(self(), &Derived::allow_symlinks_outside_directory)) {
        fd = detail::open_for_reading(path, nullptr, path_only);
    } else {
        const std::string root(served_directory());
        fd = detail::open_for_reading(path, &root, path_only);
    }
    // Out of descriptors is not "not found": 503, so that the client tries again.
    if (!fd) detail::throw_if_resource_shortage(errno, "opening " + path);
    return fd;
}

template <class Derived>
response_body SimpleRequestHandler<Derived>::send_head() {
    std::string path = self().translate_path(this->path);
    if (path.find('\0') != std::string::npos) {
        self().send_error(400, "Bad request path");
        return {};
    }
    std::shared_ptr<const open_file> file = open_cached(path);
    const bool readable = file || errno != EACCES;
    if (!readable) { // an unreadable directory is still a directory (Python: isdir)
        auto probe = std::make_shared<open_file>();
        probe->fd = open_path(path, true);
        if (probe->fd && ::fstat(probe->fd.get(), &probe->st) == 0) file = std::move(probe);
    }
    if (!file) {
        if (errno == EXDEV) self().log_error("refused a path leading outside the served directory");
        self().send_error(404, "File not found");
        return {};
    }
    if (S_ISDIR(file->st.st_mode)) {
        const url_parts parts = url_split(this->path);
        if (parts.path.empty() || parts.path.back() != '/') {
            // Redirect to the directory's URL, query kept ("doing basically what apache does").
            std::string location_path = std::string(parts.path) + "/";
            // Browsers read "/\\host/" as "//host/", another site: never start with two.
            const auto is_slash = [](char c) { return c == '/' || c == '\\'; };
            if (parts.scheme.empty() && parts.netloc.empty() && location_path.size() > 1 &&
                is_slash(location_path[0]) && is_slash(location_path[1]))
                location_path.replace(0, location_path.find_first_not_of("/\\"), "/");
            url_parts location = parts;
            location.path = location_path;
            self().send_response(301);
            self().send_header("Location", url_unsplit(location));
            self().send_header("Content-Length", "0");
            self().end_headers();
            return {};
        }
        for (const std::string_view index :
             detail::class_attribute(self(), &Derived::index_pages)) {
            std::string index_path = path;
            if (index_path.back() != '/') index_path += '/';
            index_path += index;
            auto index_file = open_cached(index_path);
            if (index_file && S_ISREG(index_file->st.st_mode))
                return send_file(std::move(index_file), index_path);
        }
        return self().list_directory(path);
    }
    if (!S_ISREG(file->st.st_mode) || !readable) { // a FIFO, socket or device: not a file
        self().send_error(404, "File not found");
        return {};
    }
    return send_file(std::move(file), path);
}

template <class Derived>
response_body SimpleRequestHandler<Derived>::send_file(std::shared_ptr<const open_file> file,
                                                       const std::string& path) {
    const struct stat& st = file->st;
    const auto ctype = self().guess_type(path);
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    const std::time_t mtime = st.st_mtim.tv_sec;
    const std::string& etag = file->etag;
    const headers& h = this->headers;

    // RFC 9110 section 13.2.2: the order in which preconditions are evaluated.
    if (const auto if_match = h.get("If-Match")) {
        const bool matched =
            detail::trim_ows(*if_match) == "*" ||
            detail::any_entity_tag(
                *if_match, [&](std::string_view tag, bool weak) { return !weak && tag == etag; });
        if (!matched) {
            self().send_error(412);
            return {};
        }
    } else if (const auto since = h.get("If-Unmodified-Since")) {
        const auto date = parse_http_date(*since);
        if (date && mtime > *date) {
            self().send_error(412);
            return {};
        }
    }
    // Python: If-Modified-Since is ignored when If-None-Match is present.
    const auto if_none_match_header = h.get("If-None-Match");
    const auto ims = h.get("If-Modified-Since");
    if ((if_none_match_header && if_none_match(*if_none_match_header, etag)) ||
        (!if_none_match_header && ims && not_modified_since(*ims, mtime))) {
        self().send_response(304);
        self().send_header("ETag", etag);
        self().end_headers();
        return {};
    }

    byte_range range;
    if (const auto range_header = h.get("Range")) {
        const auto if_range = h.get("If-Range");
        if (!if_range || if_range_matches(*if_range, etag, mtime))
            range = evaluate_range(*range_header, size);
    }
    if (range.kind == range_kind::unsatisfiable) {
        self().send_response(416);
        self().send_header("Content-Range", "bytes */" + std::to_string(size));
        self().send_header("Content-Length", "0");
        self().end_headers();
        return {};
    }
    const bool partial = range.kind == range_kind::single;
    const std::uint64_t offset = partial ? range.first : 0;
    const std::uint64_t length = partial ? range.last - range.first + 1 : size;
    self().send_response(partial ? 206 : 200);
    self().send_header("Content-type", ctype);
    self().send_header("Content-Length", std::to_string(length));
    if (partial)
        self().send_header("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                std::to_string(range.last) + "/" +
                                                std::to_string(size));
    self().send_header("Last-Modified", self().date_time_string(mtime));
    self().send_header("ETag", etag);
    self().send_header("Accept-Ranges", "bytes");
    self().end_headers();
    return response_body::file(std::move(file), offset, length);
}

template <class Derived>
response_body SimpleRequestHandler<Derived>::list_directory(const std::string& path) {
    const auto entries = read_directory(path);
    if (!entries) {
        detail::throw_if_resource_shortage(errno, "listing " + path);
        self().send_error(404, "No permission to list directory");
        return {};
    }
    const std::string display = html_escape(utf8_or_replacement(percent_decode(this->path)), false);
    std::string page = render_directory_listing(display, *entries);
    self().send_response(200);
    self().send_header("Content-type", "text/html; charset=utf-8");
    self().send_header("Content-Length", std::to_string(page.size()));
    self().end_headers();
    return response_body::memory(std::move(page));
}

} // namespace cgihttp
