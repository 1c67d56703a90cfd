// cgihttp/open_file_cache.hpp - recently served files kept open, so that a request for a
// file costs one fstat() instead of open() + fstat() + close().
// Python counterpart: none (Python opens every file afresh); nginx's open_file_cache and
// lighttpd's stat cache do this.
#pragma once

#include "conditional.hpp"
#include "detail/connection_registry.hpp"
#include "detail/unique_fd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <sys/stat.h>

namespace cgihttp {

/// An open file and its status when last checked; shared by the requests sending it.
struct open_file {
    detail::unique_fd fd;
    struct stat st {};
    std::string etag;           ///< file_etag(st), computed once per open
    std::int64_t opened_ms = 0; ///< steady clock, when the path was last opened
};

/// Open regular files by path. Each use re-reads the status of the open file (fstat), so a
/// file changed in place is never described stale; the path itself is opened again after
/// `validity`, so a file replaced or removed under the same name is noticed by then.
class open_file_cache {
public:
    explicit open_file_cache(std::size_t capacity = 256) : capacity_(capacity) {}

    /// The open file at `path`: from the cache while valid, else opened with `open_path`
    /// (which returns a detail::unique_fd and sets errno on failure). Regular files are
    /// cached, anything else is returned uncached. nullptr (errno set) when it cannot be
    /// opened.
    template <class OpenPath>
    std::shared_ptr<const open_file> get(const std::string& path,
                                         std::chrono::milliseconds validity, OpenPath&& open_path) {
        const std::int64_t now = detail::steady_now_ms();
        if (validity.count() > 0) {
            std::shared_ptr<const open_file> cached;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (const auto it = files_.find(path); it != files_.end()) cached = it->second;
            }
            struct stat st {};
            if (cached && now - cached->opened_ms < validity.count() &&
                ::fstat(cached->fd.get(), &st) == 0 && same_version(st, cached->st))
                return cached;
        }
        auto file = std::make_shared<open_file>();
        file->fd = open_path(path);
        if (!file->fd || ::fstat(file->fd.get(), &file->st) != 0) {
            const int error = errno;
            forget(path);
            errno = error;
            return nullptr;
        }
        file->opened_ms = now;
        file->etag = file_etag(file->st);
        if (validity.count() > 0 && S_ISREG(file->st.st_mode)) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (files_.size() >= capacity_ && files_.find(path) == files_.end())
                files_.erase(files_.begin()); // the cache is a hint: any victim will do
            files_[path] = file;
        }
        return file;
    }

    /// Drops the entry for `path`, if any.
    void forget(const std::string& path) {
        std::lock_guard<std::mutex> lock(mutex_);
        files_.erase(path);
    }

    /// Entries held.
    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return files_.size();
    }

private:
    static bool same_version(const struct stat& a, const struct stat& b) noexcept {
        return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
               a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ino == b.st_ino;
    }

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const open_file>> files_;
};

} // namespace cgihttp
