// Tests of open_file_cache.hpp: reuse, in-place changes, replacement, limits.
#include <cgihttp/open_file_cache.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct temp_dir {
    fs::path root;
    temp_dir() {
        char name[] = "/tmp/cgihttp-cache-XXXXXX";
        root = ::mkdtemp(name);
    }
    ~temp_dir() { fs::remove_all(root); }
    std::string write(const std::string& name, const std::string& data) const {
        std::ofstream(root / name, std::ios::binary | std::ios::trunc) << data;
        return (root / name).string();
    }
};

int opens = 0;
cgihttp::detail::unique_fd counting_open(const std::string& path) {
    ++opens;
    return cgihttp::detail::unique_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}
} // namespace

TEST_CASE("a cached file is reused while valid and unchanged") {
    temp_dir dir;
    const std::string path = dir.write("a.txt", "hello");
    cgihttp::open_file_cache cache;
    opens = 0;
    const auto first = cache.get(path, 10s, counting_open);
    const auto second = cache.get(path, 10s, counting_open);
    REQUIRE(first);
    CHECK(first == second);
    CHECK(opens == 1);
    CHECK(first->st.st_size == 5);
}

TEST_CASE("a file changed in place is opened again at once") {
    temp_dir dir;
    const std::string path = dir.write("a.txt", "hello");
    cgihttp::open_file_cache cache;
    const auto first = cache.get(path, 10s, counting_open);
    dir.write("a.txt", "hello, longer"); // same inode, new size
    const auto second = cache.get(path, 10s, counting_open);
    REQUIRE(second);
    CHECK(second != first);
    CHECK(second->st.st_size == 13);
}

TEST_CASE("a file replaced under its name is noticed after the validity") {
    temp_dir dir;
    const std::string path = dir.write("a.txt", "old!!");
    cgihttp::open_file_cache cache;
    const auto first = cache.get(path, 50ms, counting_open);
    const std::string other = dir.write("b.txt", "new!!");
    fs::rename(other, path);                              // a new inode, same size
    CHECK(cache.get(path, 50ms, counting_open) == first); // still valid: the open file
    std::this_thread::sleep_for(60ms);
    const auto fresh = cache.get(path, 50ms, counting_open);
    REQUIRE(fresh);
    CHECK(fresh->st.st_ino != first->st.st_ino);
}

TEST_CASE("missing files, directories and a zero validity are not cached") {
    temp_dir dir;
    cgihttp::open_file_cache cache;
    errno = 0;
    CHECK_FALSE(cache.get((dir.root / "missing").string(), 10s, counting_open));
    CHECK(errno == ENOENT);
    const auto d = cache.get(dir.root.string(), 10s, counting_open);
    REQUIRE(d);
    CHECK(S_ISDIR(d->st.st_mode));
    CHECK(cache.size() == 0);
    const std::string path = dir.write("a.txt", "x");
    opens = 0;
    cache.get(path, 0ms, counting_open);
    cache.get(path, 0ms, counting_open);
    CHECK(opens == 2);
    CHECK(cache.size() == 0);
}

TEST_CASE("the cache holds at most its capacity, and a removed file is forgotten") {
    temp_dir dir;
    cgihttp::open_file_cache cache(4);
    for (int i = 0; i < 10; ++i)
        cache.get(dir.write("f" + std::to_string(i), "x"), 10s, counting_open);
    CHECK(cache.size() == 4);
    const std::string path = dir.write("gone.txt", "x");
    cache.get(path, 10s, counting_open);
    fs::remove(path);
    std::this_thread::sleep_for(5ms);
    CHECK_FALSE(cache.get(path, 1ms, counting_open)); // reopened: gone
}
