// cgihttp/directory_listing.hpp - reading a directory and rendering Python 3's listing page.
// Python counterpart: SimpleHTTPRequestHandler.list_directory().
#pragma once

#include "detail/strings.hpp"
#include "html.hpp"
#include "url.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

namespace cgihttp {

/// One name in a directory, classified as Python's listing does it.
struct directory_entry {
    std::string name;
    bool is_directory = false; ///< a directory, or a symbolic link to one (os.path.isdir)
    bool is_symlink = false;   ///< a symbolic link (os.path.islink)
};

/// The entries of a directory ("." and ".." left out), sorted as Python sorts them
/// (case-insensitively, ties in directory order); nullopt when it cannot be read. The entry
/// type from readdir() saves a stat() per entry; links and unknown types are stat()ed.
inline std::optional<std::vector<directory_entry>> read_directory(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return std::nullopt;
    std::vector<directory_entry> entries;
    const int dir_fd = ::dirfd(dir);
    while (const dirent* e = ::readdir(dir)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        directory_entry entry{std::string(name)};
        unsigned char type = e->d_type;
        struct stat st {};
        if (type == DT_UNKNOWN && ::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        entry.is_symlink = type == DT_LNK;
        entry.is_directory =
            type == DT_DIR ||
            (entry.is_symlink && ::fstatat(dir_fd, e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode));
        entries.push_back(std::move(entry));
    }
    ::closedir(dir);
    // Lower-cased comparison without copies; UTF-8 byte order is code point order.
    std::stable_sort(
        entries.begin(), entries.end(), [](const directory_entry& a, const directory_entry& b) {
            return std::lexicographical_compare(
                a.name.begin(), a.name.end(), b.name.begin(), b.name.end(), [](char x, char y) {
                    return static_cast<unsigned char>(detail::to_lower(x)) <
                           static_cast<unsigned char>(detail::to_lower(y));
                });
        });
    return entries;
}

/// Python 3.11's listing page, byte for byte: `display_path` is the already decoded and
/// escaped request path; names are HTML-escaped, links percent-encoded, directories end in
/// "/", symbolic links are shown with "@".
inline std::string render_directory_listing(std::string_view display_path,
                                            const std::vector<directory_entry>& entries) {
    const std::string title = "Directory listing for " + std::string(display_path);
    std::string page = "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<title>" +
                       title + "</title>\n</head>\n<body>\n<h1>" + title + "</h1>\n<hr>\n<ul>\n";
    for (const directory_entry& e : entries) {
        std::string link = e.name;
        std::string shown = e.name;
        if (e.is_directory) {
            link += '/';
            shown += '/';
        }
        if (e.is_symlink) shown = e.name + '@';
        page += "<li><a href=\"" + percent_encode(link) + "\">" + html_escape(shown, false) +
                "</a></li>\n";
    }
    page += "</ul>\n<hr>\n</body>\n</html>\n";
    return page;
}

} // namespace cgihttp
