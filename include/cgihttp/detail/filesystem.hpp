// cgihttp/detail/filesystem.hpp - opening files to serve, optionally refusing any path that
// resolves outside the served directory.
#pragma once

#include "unique_fd.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cgihttp::detail {

/// True when `path` is `root` or lies below it, compared component-wise as text.
inline bool path_is_within(std::string_view path, std::string_view root) noexcept {
    while (root.size() > 1 && root.back() == '/')
        root.remove_suffix(1);
    if (path.substr(0, root.size()) != root) return false;
    return path.size() == root.size() || path[root.size()] == '/' || root == "/";
}

/// Opens `path` read-only. Never blocks on a FIFO or device (O_NONBLOCK) and never becomes a
/// controlling terminal. With `root` set, the path must lie below it and resolve below it:
/// no symbolic link or ".." may lead out (openat2 RESOLVE_BENEATH, race-free; realpath() on
/// kernels before 5.6). With `path_only`, opens with O_PATH: enough to fstat() a directory
/// the server may not read. On failure returns an empty unique_fd with errno set (EXDEV for
/// a path leading outside).
inline unique_fd open_for_reading(const std::string& path, const std::string* root = nullptr,
                                  bool path_only = false) {
    const int flags = path_only ? O_PATH | O_CLOEXEC : O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (!root) return unique_fd(::open(path.c_str(), flags));
    if (!path_is_within(path, *root)) {
        errno = EXDEV;
        return {};
    }
    std::string relative = path.substr(root->size());
    relative.erase(0, relative.find_first_not_of('/'));
    if (relative.empty()) relative = ".";
    const unique_fd root_fd(::open(root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) return {};
    open_how how{};
    how.flags = flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, root_fd.get(), relative.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return unique_fd(static_cast<int>(fd));
    char resolved_root[PATH_MAX];
    char resolved[PATH_MAX];
    if (!::realpath(root->c_str(), resolved_root) || !::realpath(path.c_str(), resolved)) return {};
    if (!path_is_within(resolved, resolved_root)) {
        errno = EXDEV;
        return {};
    }
    return unique_fd(::open(resolved, flags));
}

} // namespace cgihttp::detail
