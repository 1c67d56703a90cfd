// Unit tests of the stream layer: buffered_reader, buffered_writer, body_reader (Content-Length
// and chunked bodies), testing::memory_stream, socket_stream over a UNIX socket pair, and
// make_stream_ref.
#include "test_support.hpp"

#include <cgihttp/body_reader.hpp>
#include <cgihttp/buffered_reader.hpp>
#include <cgihttp/buffered_writer.hpp>
#include <cgihttp/stream.hpp>
#include <cgihttp/testing/memory_stream.hpp>

#include <asio/io_context.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/write.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

namespace {

using cgihttp::testing::memory_stream;
using memory_ref = cgihttp::stream_adapter<memory_stream>;
using namespace std::chrono_literals;

/// A memory stream seen through a stream_ref, read by a buffered_reader.
struct memory_input {
    explicit memory_input(std::string data, std::size_t max_read = static_cast<std::size_t>(-1),
                          std::size_t capacity = 8 * 1024)
        : stream(std::move(data), max_read), ref(stream), reader(capacity) {
        reader.attach(&ref);
    }
    memory_stream stream;
    memory_ref ref;
    cgihttp::buffered_reader reader;
};

cgihttp::body_framing length_framing(std::uint64_t n) {
    cgihttp::body_framing f;
    f.kind = cgihttp::body_framing_kind::length;
    f.length = n;
    return f;
}

cgihttp::body_framing chunked_framing() {
    cgihttp::body_framing f;
    f.kind = cgihttp::body_framing_kind::chunked;
    return f;
}

/// A request body over a memory stream.
struct body_input : memory_input {
    body_input(std::string data, const cgihttp::body_framing& framing, std::uint64_t max_size = 0,
               std::size_t max_read = static_cast<std::size_t>(-1))
        : memory_input(std::move(data), max_read) {
        body.reset(&reader, framing, max_size);
    }
    cgihttp::body_reader body;
};

/// Runs `f` and returns the status of the http_error it throws (0 when it throws none).
template <class F>
int http_error_status(F&& f) {
    try {
        f();
    } catch (const cgihttp::http_error& e) {
        return e.status();
    }
    return 0;
}

/// Runs `f` and returns the code of the std::system_error it throws (empty when none).
template <class F>
std::error_code system_error_code(F&& f) {
    try {
        f();
    } catch (const std::system_error& e) {
        return e.code();
    }
    return {};
}

/// A stream_ref that records writes (with their `more` flag), can fail, and emulates sendfile.
class scripted_stream final : public cgihttp::stream_ref {
public:
    std::vector<std::pair<std::string, bool>> writes;
    std::error_code read_error;
    std::error_code write_error;
    std::size_t max_write = static_cast<std::size_t>(-1);
    bool supports_send_file = false;
    std::size_t send_file_calls = 0;

    std::size_t read_some(char*, std::size_t, std::error_code& ec) override {
        ec = read_error ? read_error : std::error_code(asio::error::eof);
        return 0;
    }
    std::size_t write_some(const char* data, std::size_t size, std::error_code& ec,
                           bool more) override {
        ec = write_error;
        if (ec) return 0;
        const std::size_t n = std::min(size, max_write);
        writes.emplace_back(std::string(data, n), more);
        return n;
    }
    std::size_t send_file(int fd, std::uint64_t& offset, std::size_t count,
                          std::error_code& ec) override {
        if (!supports_send_file) return stream_ref::send_file(fd, offset, count, ec);
        ++send_file_calls;
        ec.clear();
        std::string data(std::min<std::size_t>(count, 100), '\0');
        const ssize_t n = ::pread(fd, data.data(), data.size(), off_t(offset));
        if (n < 0) {
            ec.assign(errno, std::system_category());
            return 0;
        }
        data.resize(std::size_t(n));
        offset += data.size();
        writes.emplace_back(data, false);
        return data.size();
    }
    std::string output() const {
        std::string out;
        for (const auto& w : writes)
            out += w.first;
        return out;
    }
};

/// A connected, non-blocking UNIX stream socket pair, closed on destruction.
class socket_pair {
public:
    socket_pair() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd_) != 0)
            throw std::system_error(errno, std::system_category(), "socketpair");
    }
    ~socket_pair() {
        close(0);
        close(1);
    }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;

    int operator[](int i) const noexcept { return fd_[i]; }
    void close(int i) noexcept {
        if (fd_[i] >= 0) ::close(fd_[i]);
        fd_[i] = -1;
    }

private:
    int fd_[2] = {-1, -1};
};

/// Reads what a non-blocking socket holds right now.
std::string drain(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
        out.append(buf, std::size_t(n));
    return out;
}

struct counting_observer final : cgihttp::blocking_observer {
    int begins = 0;
    int ends = 0;
    void blocking_begin() noexcept override { ++begins; }
    void blocking_end() noexcept override { ++ends; }
};

/// Installs a blocking observer on this thread for the lifetime of the object.
class observer_scope {
public:
    explicit observer_scope(cgihttp::blocking_observer* o)
        : saved_(cgihttp::current_blocking_observer()) {
        cgihttp::current_blocking_observer() = o;
    }
    ~observer_scope() { cgihttp::current_blocking_observer() = saved_; }
    observer_scope(const observer_scope&) = delete;
    observer_scope& operator=(const observer_scope&) = delete;

private:
    cgihttp::blocking_observer* saved_;
};

} // namespace

TEST_SUITE("buffered_reader") {

    TEST_CASE("readline returns each line with its terminator, then the rest, then nothing") {
        memory_input in("a\r\nbb\n\nccc");
        CHECK(in.reader.readline(100) == "a\r\n");
        CHECK(in.reader.readline(100) == "bb\n");
        CHECK(in.reader.readline(100) == "\n");
        CHECK_FALSE(in.reader.at_eof());
        CHECK(in.reader.readline(100) == "ccc");
        CHECK(in.reader.at_eof());
        CHECK(in.reader.readline(100) == "");
    }

    TEST_CASE("readline stops at its limit and goes on from there") {
        memory_input in("abcdef\nxyz\n");
        CHECK(in.reader.readline(3) == "abc");
        CHECK(in.reader.readline(100) == "def\n");
        CHECK(in.reader.readline(4) == "xyz\n");
    }

    TEST_CASE("readline assembles lines from one-byte reads") {
        memory_input in("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1);
        CHECK(in.reader.readline(100) == "GET / HTTP/1.1\r\n");
        CHECK(in.reader.readline(100) == "Host: x\r\n");
        CHECK(in.reader.readline(100) == "\r\n");
        CHECK(in.reader.readline(100) == "");
    }

    TEST_CASE("readline grows the buffer for lines longer than it") {
        const std::string long_line = std::string(20000, 'x') + "\n";
        memory_input in(long_line + "tail", 700, 16);
        CHECK(in.reader.readline(100000) == long_line);
        CHECK(in.reader.readline(100000) == "tail");
    }

    TEST_CASE("read returns the requested size unless the stream ends") {
        memory_input in("hello world", 2);
        char out[100];
        CHECK(in.reader.read(out, 5) == 5);
        CHECK(std::string_view(out, 5) == "hello");
        CHECK(in.reader.read(out, sizeof out) == 6);
        CHECK(std::string_view(out, 6) == " world");
        CHECK(in.reader.read(out, sizeof out) == 0);
        CHECK(in.reader.read_some(out, sizeof out) == 0);
    }

    TEST_CASE("read_some serves buffered data before reading the stream again") {
        memory_input in("line\nrest of the data", 12);
        CHECK(in.reader.readline(100) == "line\n");
        CHECK(in.reader.buffered() == "rest of");
        char out[100];
        CHECK(in.reader.read_some(out, 4) == 4);
        CHECK(std::string_view(out, 4) == "rest");
        CHECK(in.reader.read_some(out, sizeof out) == 3); // the buffered " of" only
        CHECK(std::string_view(out, 3) == " of");
        CHECK(in.stream.unread() == 9);
    }

    TEST_CASE("Reads at least as large as the buffer go to the stream directly") {
        memory_input in(std::string(100, 'z'), static_cast<std::size_t>(-1), 16);
        char out[64];
        CHECK(in.reader.read_some(out, sizeof out) == 64);
        CHECK(in.stream.unread() == 36); // nothing was read ahead into the buffer
        CHECK(in.reader.buffered().empty());
    }

    TEST_CASE("A server loop can fill the buffer through prepare and commit") {
        cgihttp::buffered_reader reader(4);
        const std::string data = "GET / HTTP/1.1\r\n\r\n";
        const asio::mutable_buffer space = reader.prepare(data.size());
        REQUIRE(space.size() >= data.size());
        std::memcpy(space.data(), data.data(), data.size());
        reader.commit(data.size());
        CHECK(reader.buffered() == data);
        // No stream is attached: lines come from the buffer alone.
        CHECK(reader.readline(100) == "GET / HTTP/1.1\r\n");
        reader.consume(1);
        CHECK(reader.buffered() == "\n");
        reader.consume(100);
        CHECK(reader.buffered().empty());
        CHECK_FALSE(reader.at_eof());
        reader.mark_eof();
        CHECK(reader.at_eof());
        CHECK(reader.readline(100) == ""); // at eof: no read from the (missing) stream
    }

    TEST_CASE("A reader created with no capacity still grows") {
        cgihttp::buffered_reader reader(0);
        const auto space = reader.prepare(5);
        REQUIRE(space.size() >= 5);
        std::memcpy(space.data(), "ab\ncd", 5);
        reader.commit(5);
        CHECK(reader.readline(100) == "ab\n");
    }

    TEST_CASE("prepare keeps unread data when it makes room") {
        cgihttp::buffered_reader reader(8);
        auto space = reader.prepare(8);
        std::memcpy(space.data(), "abcdefgh", 8);
        reader.commit(8);
        reader.consume(6);
        space = reader.prepare(100);
        CHECK(space.size() >= 100);
        std::memcpy(space.data(), "ij", 2);
        reader.commit(2);
        CHECK(reader.buffered() == "ghij");
    }

    TEST_CASE("Reading without a stream throws not_connected") {
        cgihttp::buffered_reader reader;
        const auto code = system_error_code([&] { reader.readline(10); });
        CHECK(code == std::errc::not_connected);
    }

    TEST_CASE("A stream error is thrown as std::system_error") {
        scripted_stream stream;
        stream.read_error = std::make_error_code(std::errc::connection_reset);
        cgihttp::buffered_reader reader;
        reader.attach(&stream);
        CHECK(system_error_code([&] { reader.readline(10); }) == std::errc::connection_reset);
        char c;
        CHECK(system_error_code([&] { reader.read_some(&c, 1); }) == std::errc::connection_reset);
    }

    TEST_CASE("The paired writer is flushed before waiting for input, not before") {
        memory_stream stream("line1\nline2\n", 6);
        memory_ref ref(stream);
        cgihttp::buffered_writer writer;
        writer.attach(&ref);
        cgihttp::buffered_reader reader;
        reader.attach(&ref, &writer);

        writer.write("HTTP/1.1 100 Continue\r\n\r\n");
        CHECK(stream.output().empty());
        CHECK(reader.readline(100) == "line1\n");
        CHECK(stream.output() == "HTTP/1.1 100 Continue\r\n\r\n");
        CHECK(stream.write_count() == 1);

        // "line2\n" must be read from the stream: flush first.
        writer.write("more");
        CHECK(reader.readline(100) == "line2\n");
        CHECK(stream.output() == "HTTP/1.1 100 Continue\r\n\r\nmore");

        // Data already buffered is served without flushing.
        memory_stream buffered_stream("a\nb\n");
        memory_ref buffered_ref(buffered_stream);
        cgihttp::buffered_writer writer2;
        writer2.attach(&buffered_ref);
        cgihttp::buffered_reader reader2;
        reader2.attach(&buffered_ref, &writer2);
        CHECK(reader2.readline(100) == "a\n");
        writer2.write("x");
        CHECK(reader2.readline(100) == "b\n");
        CHECK(buffered_stream.output().empty());
    }

    TEST_CASE("attach keeps buffered data and reset drops it") {
        memory_input in("first\nsecond\n");
        CHECK(in.reader.readline(100) == "first\n");
        memory_stream other("other\n");
        memory_ref other_ref(other);
        in.reader.attach(&other_ref);
        CHECK(in.reader.readline(100) == "second\n");
        CHECK(in.reader.readline(100) == "other\n");
        in.reader.reset();
        CHECK(in.reader.buffered().empty());
    }

} // TEST_SUITE

TEST_SUITE("buffered_writer") {

    TEST_CASE("Writes are buffered until flush") {
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer;
        writer.attach(&ref);
        writer.write("abc");
        writer.write("def");
        CHECK(writer.pending() == 6);
        CHECK(writer.bytes_written() == 6);
        CHECK(stream.write_count() == 0);
        writer.flush();
        CHECK(stream.output() == "abcdef");
        CHECK(stream.write_count() == 1);
        CHECK(writer.pending() == 0);
        writer.flush(); // nothing pending: no write
        CHECK(stream.write_count() == 1);
        CHECK(writer.bytes_written() == 6);
    }

    TEST_CASE("A write that overfills the buffer sends it in one piece") {
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer(8);
        writer.attach(&ref);
        writer.write("12345");
        writer.write("67890");
        CHECK(stream.output() == "1234567890");
        CHECK(stream.write_count() == 1);
        CHECK(writer.pending() == 0);
    }

    TEST_CASE("A write larger than twice the buffer bypasses it, keeping the order") {
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer(8);
        writer.attach(&ref);
        writer.write("ab");
        const std::string big(20, 'x');
        writer.write(big);
        CHECK(stream.output() == "ab" + big);
        CHECK(stream.write_count() == 2);
        CHECK(writer.bytes_written() == 22);
    }

    TEST_CASE("Partial writes are continued until everything is sent") {
        scripted_stream stream;
        stream.max_write = 3;
        cgihttp::buffered_writer writer;
        writer.attach(&stream);
        writer.write("0123456789");
        writer.flush();
        CHECK(stream.output() == "0123456789");
        CHECK(stream.writes.size() == 4);
    }

    TEST_CASE("Write errors are thrown as std::system_error") {
        scripted_stream stream;
        stream.write_error = std::make_error_code(std::errc::broken_pipe);
        cgihttp::buffered_writer writer;
        writer.attach(&stream);
        writer.write("data");
        CHECK(system_error_code([&] { writer.flush(); }) == std::errc::broken_pipe);
    }

    TEST_CASE("A writer without a stream buffers, and throws when it must send") {
        cgihttp::buffered_writer writer;
        writer.write("abc");
        CHECK(writer.pending() == 3);
        CHECK(system_error_code([&] { writer.flush(); }) == std::errc::not_connected);
    }

    TEST_CASE("attach drops pending output") {
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer;
        writer.write("stale");
        writer.attach(&ref);
        CHECK(writer.pending() == 0);
        writer.write("fresh");
        writer.flush();
        CHECK(stream.output() == "fresh");
    }

    TEST_CASE("write_file copies a range of a file after buffered data") {
        test_support::temp_file file("0123456789");
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer;
        writer.attach(&ref);
        writer.write("head:");
        writer.write_file(file.fd(), 2, 5);
        CHECK(writer.bytes_written() == 10);
        writer.write(":tail");
        writer.flush();
        CHECK(stream.output() == "head:23456:tail");
        CHECK(stream.write_count() == 1);
    }

    TEST_CASE("write_file reads through the buffer when the stream has no sendfile") {
        std::string content;
        for (int i = 0; i < 1000; ++i)
            content += char('a' + i % 26);
        test_support::temp_file file(content);
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer(16);
        writer.attach(&ref);
        writer.write("<");
        writer.write_file(file.fd(), 0, content.size());
        writer.write(">");
        writer.flush();
        CHECK(stream.output() == "<" + content + ">");
        CHECK(writer.bytes_written() == content.size() + 2);
    }

    TEST_CASE("write_file uses the stream's sendfile, flushing pending data with more") {
        const std::string content(1000, 'q');
        test_support::temp_file file(content);
        scripted_stream stream;
        stream.supports_send_file = true;
        cgihttp::buffered_writer writer(16);
        writer.attach(&stream);
        writer.write("head");
        writer.write_file(file.fd(), 0, content.size());
        CHECK(stream.send_file_calls == 10);
        REQUIRE_FALSE(stream.writes.empty());
        CHECK(stream.writes[0] == std::pair<std::string, bool>("head", true));
        CHECK(stream.output() == "head" + content);
    }

    TEST_CASE("write_file throws when the file is shorter than announced") {
        test_support::temp_file file("0123456789");
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer small(16);
        small.attach(&ref);
        CHECK(system_error_code([&] { small.write_file(file.fd(), 5, 10); }) ==
              std::errc::io_error);
        cgihttp::buffered_writer large(4);
        large.attach(&ref);
        CHECK(system_error_code([&] { large.write_file(file.fd(), 0, 100); }) ==
              std::errc::io_error);
    }

    TEST_CASE("write_file throws for a descriptor that cannot be read") {
        memory_stream stream;
        memory_ref ref(stream);
        cgihttp::buffered_writer writer;
        writer.attach(&ref);
        CHECK(system_error_code([&] { writer.write_file(-1, 0, 10); }) ==
              std::errc::bad_file_descriptor);
    }

    TEST_CASE("write_file sends a large file over a socket with sendfile") {
        std::string content;
        for (int i = 0; i < 50000; ++i)
            content += char('0' + i % 10);
        test_support::temp_file file(content);
        socket_pair pair;
        cgihttp::socket_stream stream(pair[0], 2s);
        cgihttp::buffered_writer writer(1024);
        writer.attach(&stream);
        writer.write("head");
        writer.write_file(file.fd(), 10, content.size() - 10);
        writer.flush();
        CHECK(drain(pair[1]) == "head" + content.substr(10));
    }

} // TEST_SUITE

TEST_SUITE("body_reader") {

    TEST_CASE("A body without framing is empty") {
        body_input in("GET / HTTP/1.1\r\n", cgihttp::body_framing{});
        CHECK(in.body.at_end());
        CHECK(in.body.framing() == cgihttp::body_framing_kind::none);
        CHECK(in.body.read().empty());
        CHECK(in.body.readline().empty());
        char c;
        CHECK(in.body.read_some(&c, 1) == 0);
        CHECK(in.stream.unread() == 16); // nothing read from the stream
    }

    TEST_CASE("A default body_reader is at its end") {
        cgihttp::body_reader body;
        CHECK(body.at_end());
        CHECK(body.read().empty());
        CHECK(body.bytes_read() == 0);
    }

    TEST_CASE("A Content-Length body ends where its length says") {
        body_input in("hello worldGET /next HTTP/1.1\r\n", length_framing(11));
        CHECK(in.body.framing() == cgihttp::body_framing_kind::length);
        CHECK_FALSE(in.body.at_end());
        CHECK(in.body.read(5) == "hello");
        CHECK(in.body.bytes_read() == 5);
        CHECK(in.body.read() == " world");
        CHECK(in.body.at_end());
        CHECK(in.body.bytes_read() == 11);
        CHECK(in.body.read() == "");
        // The next request is still there for the connection.
        CHECK(in.reader.readline(100) == "GET /next HTTP/1.1\r\n");
    }

    TEST_CASE("A zero Content-Length is at its end at once") {
        body_input in("next", length_framing(0));
        CHECK(in.body.at_end());
        CHECK(in.body.read() == "");
        CHECK(in.reader.readline(100) == "next");
    }

    TEST_CASE("A Content-Length body is read correctly in small pieces") {
        body_input in("abcdefghij", length_framing(10), 0, 3);
        char out[4];
        std::string got;
        for (std::size_t n; (n = in.body.read_some(out, sizeof out)) > 0;)
            got.append(out, n);
        CHECK(got == "abcdefghij");
        char buf[20];
        body_input again("abcdefghij", length_framing(10), 0, 3);
        CHECK(again.body.read(buf, sizeof buf) == 10);
        CHECK(std::string_view(buf, 10) == "abcdefghij");
    }

    TEST_CASE("readline reads body lines and stops at the body's end") {
        body_input in("one\ntwo\nthreeNEXT", length_framing(13));
        CHECK(in.body.readline() == "one\n");
        CHECK(in.body.readline(2) == "tw");
        CHECK(in.body.readline() == "o\n");
        CHECK(in.body.readline() == "three");
        CHECK(in.body.readline() == "");
        CHECK(in.reader.readline(100) == "NEXT");
    }

    TEST_CASE("A Content-Length body cut short by the end of the stream throws") {
        body_input in("short", length_framing(10));
        CHECK(system_error_code([&] { in.body.read(); }) == std::errc::connection_aborted);
    }

    TEST_CASE("A chunked body is decoded and ends after its trailer section") {
        body_input in("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", chunked_framing());
        CHECK(in.body.framing() == cgihttp::body_framing_kind::chunked);
        CHECK_FALSE(in.body.at_end());
        CHECK(in.body.read() == "hello world");
        CHECK(in.body.at_end());
        CHECK(in.body.bytes_read() == 11);
        CHECK(in.reader.readline(100) == "NEXT");
    }

    TEST_CASE("A chunked body with extensions, trailers, bare LFs and upper-case sizes") {
        body_input in("A;name=value;q=\"x;y\"\r\n0123456789\r\n"
                      "3 ; ext\nabc\n"
                      "0;last\r\nX-Trailer: 1\r\nChecksum: abc\r\n\r\nNEXT",
                      chunked_framing(), 0, 1);
        CHECK(in.body.read() == "0123456789abc");
        CHECK(in.body.at_end());
        CHECK(in.reader.readline(100) == "NEXT");
    }

    TEST_CASE("Chunked body lines can be read across chunk boundaries") {
        body_input in("3\r\nab\n\r\n4\r\ncd\ne\r\n0\r\n\r\n", chunked_framing());
        CHECK(in.body.readline() == "ab\n");
        CHECK(in.body.readline() == "cd\n");
        CHECK(in.body.readline() == "e");
        CHECK(in.body.readline() == "");
        CHECK(in.body.at_end());
    }

    TEST_CASE("A chunked body stays open until its last chunk is read") {
        body_input in("2\r\nab\r\n0\r\n\r\n", chunked_framing());
        CHECK(in.body.read(2) == "ab");
        CHECK_FALSE(in.body.at_end());
        char c;
        CHECK(in.body.read_some(&c, 1) == 0);
        CHECK(in.body.at_end());
    }

    TEST_CASE("Malformed chunk-size lines are refused with 400") {
        for (const std::string_view data :
             {"zz\r\nhello\r\n0\r\n\r\n", "\r\n", " 5\r\nhello\r\n0\r\n\r\n",
              "5;\r\nhello\r\n0\r\n\r\n", "-1\r\n\r\n", "5\r\r\nhello\r\n0\r\n\r\n"}) {
            CAPTURE(data);
            body_input in(std::string(data), chunked_framing());
            CHECK(http_error_status([&] { in.body.read(); }) == 400);
        }
    }

    TEST_CASE("Chunk data not followed by CRLF is refused with 400") {
        for (const std::string_view data :
             {"5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\r\r\n0\r\n\r\n", "5\r\nhello0\r\n\r\n"}) {
            CAPTURE(data);
            body_input in(std::string(data), chunked_framing());
            CHECK(http_error_status([&] { in.body.read(); }) == 400);
        }
    }

    TEST_CASE("A chunk-size line over 4096 bytes is refused with 400") {
        const std::string line = "1;e=" + std::string(5000, 'x') + "\r\n";
        body_input in(line + "a\r\n0\r\n\r\n", chunked_framing());
        CHECK(http_error_status([&] { in.body.read(); }) == 400);

        const std::string ok = "1;e=" + std::string(4000, 'x') + "\r\n";
        body_input fine(ok + "a\r\n0\r\n\r\n", chunked_framing());
        CHECK(fine.body.read() == "a");
    }

    TEST_CASE("Malformed trailer lines are refused with 400") {
        for (const std::string_view trailer :
             {"NoColon\r\n", " folded\r\n", "Bad Name: x\r\n", "X: a\rb\r\n"}) {
            CAPTURE(trailer);
            body_input in("1\r\na\r\n0\r\n" + std::string(trailer) + "\r\n", chunked_framing());
            CHECK(http_error_status([&] { in.body.read(); }) == 400);
        }
    }

    TEST_CASE("At most 100 trailer fields are accepted") {
        std::string trailers;
        for (int i = 0; i < 100; ++i)
            trailers += "T: v\r\n";
        body_input ok("1\r\na\r\n0\r\n" + trailers + "\r\n", chunked_framing());
        CHECK(ok.body.read() == "a");
        CHECK(ok.body.at_end());

        body_input too_many("1\r\na\r\n0\r\n" + trailers + "T: v\r\n\r\n", chunked_framing());
        CHECK(http_error_status([&] { too_many.body.read(); }) == 400);
    }

    TEST_CASE("A trailer line over 65536 bytes is refused with 400") {
        body_input in("1\r\na\r\n0\r\nX: " + std::string(70000, 'v') + "\r\n\r\n",
                      chunked_framing());
        CHECK(http_error_status([&] { in.body.read(); }) == 400);
    }

    TEST_CASE("A chunked body cut short by the end of the stream throws system_error") {
        for (const std::string_view data :
             {"", "5", "5\r\nhel", "5\r\nhello", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n",
              "5\r\nhello\r\n0\r\nX: 1\r\n", "5\r\nhello\r\n0\r\nX: 1"}) {
            CAPTURE(data);
            body_input in(std::string(data), chunked_framing());
            CHECK(system_error_code([&] { in.body.read(); }) == std::errc::connection_aborted);
        }
    }

    TEST_CASE("A chunked body over the size limit is refused with 413") {
        body_input one_chunk("b\r\nhello world\r\n0\r\n\r\n", chunked_framing(), 10);
        CHECK(http_error_status([&] { one_chunk.body.read(); }) == 413);

        body_input two_chunks("6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", chunked_framing(), 10);
        std::string got;
        const int status = http_error_status([&] { got = two_chunks.body.read(); });
        CHECK(status == 413);
        CHECK(two_chunks.body.bytes_read() == 6); // refused before the second chunk is read

        body_input exact("6\r\nhello \r\n4\r\nworl\r\n0\r\n\r\n", chunked_framing(), 10);
        CHECK(exact.body.read() == "hello worl");
    }

    TEST_CASE("The size limit does not apply to Content-Length bodies it was not given for") {
        body_input in("hello world", length_framing(11), 0);
        CHECK(in.body.read() == "hello world");
    }

    TEST_CASE("discard drops the rest of a body within its budget") {
        body_input in("0123456789NEXT", length_framing(10));
        CHECK(in.body.read(3) == "012");
        CHECK(in.body.discard(7));
        CHECK(in.body.at_end());
        CHECK(in.reader.readline(100) == "NEXT");

        body_input chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\nT: 1\r\n\r\nNEXT", chunked_framing());
        CHECK(chunked.body.discard(100));
        CHECK(chunked.body.at_end());
        CHECK(chunked.reader.readline(100) == "NEXT");
    }

    TEST_CASE("discard gives up when the body is larger than its budget") {
        body_input in("0123456789NEXT", length_framing(10));
        CHECK_FALSE(in.body.discard(9));
        CHECK_FALSE(in.body.at_end());
        CHECK(in.body.bytes_read() == 9);
        CHECK(in.body.discard(0) == false);
        CHECK(in.body.discard(1));
    }

    TEST_CASE("reset starts a new body on the same reader") {
        body_input in("abcdef", length_framing(3));
        CHECK(in.body.read() == "abc");
        in.body.reset(&in.reader, length_framing(3));
        CHECK(in.body.bytes_read() == 0);
        CHECK(in.body.read() == "def");
    }

} // TEST_SUITE

TEST_SUITE("memory_stream") {

    TEST_CASE("memory_stream reads its input at most max_read bytes at a time, then eof") {
        memory_stream stream("abcdefg", 3);
        char buf[10];
        std::error_code ec;
        CHECK(stream.read_some(asio::buffer(buf), ec) == 3);
        CHECK_FALSE(ec);
        CHECK(std::string_view(buf, 3) == "abc");
        CHECK(stream.unread() == 4);
        CHECK(stream.read_some(asio::buffer(buf, 2), ec) == 2);
        CHECK(stream.read_some(asio::buffer(buf), ec) == 2);
        CHECK(std::string_view(buf, 2) == "fg");
        CHECK(stream.read_some(asio::buffer(buf), ec) == 0);
        CHECK(ec == asio::error::eof);
        stream.feed("hi");
        CHECK(stream.unread() == 2);
        CHECK(stream.read_some(asio::buffer(buf), ec) == 2);
        CHECK_FALSE(ec);
        CHECK(std::string_view(buf, 2) == "hi");
    }

    TEST_CASE("memory_stream records output and counts writes") {
        memory_stream stream;
        std::error_code ec = asio::error::eof;
        CHECK(stream.write_some(asio::buffer("abc", 3), ec) == 3);
        CHECK_FALSE(ec);
        CHECK(stream.write_some(asio::buffer("de", 2), ec) == 2);
        CHECK(stream.output() == "abcde");
        CHECK(stream.write_count() == 2);
        stream.clear_output();
        CHECK(stream.output().empty());
        CHECK(stream.write_count() == 0);
    }

} // TEST_SUITE

TEST_SUITE("socket_stream") {

    TEST_CASE("socket_stream reads and writes a connected socket") {
        socket_pair pair;
        cgihttp::socket_stream a(pair[0], 2s);
        cgihttp::socket_stream b(pair[1], 2s);
        CHECK(a.native_handle() == pair[0]);
        std::error_code ec;
        CHECK(a.write_some("hello", 5, ec, false) == 5);
        CHECK_FALSE(ec);
        CHECK(a.write_some(" there", 6, ec, true) == 6);
        CHECK_FALSE(ec);
        char buf[32];
        std::size_t total = 0;
        while (total < 11) {
            const std::size_t n = b.read_some(buf + total, sizeof buf - total, ec);
            REQUIRE_FALSE(ec);
            total += n;
        }
        CHECK(std::string_view(buf, total) == "hello there");
    }

    TEST_CASE("socket_stream waits for data that arrives later") {
        socket_pair pair;
        cgihttp::socket_stream reader(pair[1], 2s);
        std::thread writer([&] {
            std::this_thread::sleep_for(20ms);
            (void)!::send(pair[0], "late", 4, MSG_NOSIGNAL);
        });
        char buf[8];
        std::error_code ec;
        const std::size_t n = reader.read_some(buf, sizeof buf, ec);
        writer.join();
        CHECK_FALSE(ec);
        CHECK(std::string_view(buf, n) == "late");
    }

    TEST_CASE("A read with nothing to read times out") {
        socket_pair pair;
        cgihttp::socket_stream stream(pair[1], 40ms);
        char buf[8];
        std::error_code ec;
        const auto start = std::chrono::steady_clock::now();
        CHECK(stream.read_some(buf, sizeof buf, ec) == 0);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        CHECK(ec == std::errc::timed_out);
        CHECK(elapsed >= 35ms);
        CHECK(elapsed < 2s);

        stream.set_timeout(10ms);
        const auto again = std::chrono::steady_clock::now();
        CHECK(stream.read_some(buf, sizeof buf, ec) == 0);
        CHECK(ec == std::errc::timed_out);
        CHECK(std::chrono::steady_clock::now() - again < 35ms + 500ms);
    }

    TEST_CASE("The end of the peer's output reads as eof") {
        socket_pair pair;
        cgihttp::socket_stream stream(pair[1], 2s);
        REQUIRE(::send(pair[0], "x", 1, MSG_NOSIGNAL) == 1);
        ::shutdown(pair[0], SHUT_WR);
        char buf[8];
        std::error_code ec;
        CHECK(stream.read_some(buf, sizeof buf, ec) == 1);
        CHECK_FALSE(ec);
        CHECK(stream.read_some(buf, sizeof buf, ec) == 0);
        CHECK(ec == asio::error::eof);
    }

    TEST_CASE("Writing to a closed peer fails with broken_pipe instead of a signal") {
        socket_pair pair;
        cgihttp::socket_stream stream(pair[0], 2s);
        pair.close(1);
        std::error_code ec;
        CHECK(stream.write_some("data", 4, ec, false) == 0);
        CHECK(ec == std::errc::broken_pipe);
    }

    TEST_CASE("A write to a peer that does not read times out") {
        socket_pair pair;
        const int small = 4096;
        ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        cgihttp::socket_stream stream(pair[0], 30ms);
        const std::string block(64 * 1024, 'x');
        std::error_code ec;
        int writes = 0;
        while (!ec && writes < 10000) {
            stream.write_some(block.data(), block.size(), ec, false);
            ++writes;
        }
        CHECK(ec == std::errc::timed_out);
    }

    TEST_CASE("socket_stream waits inside a blocking_scope") {
        counting_observer observer;
        observer_scope scope(&observer);
        socket_pair pair;
        cgihttp::socket_stream stream(pair[1], 10ms);
        char buf[8];
        std::error_code ec;
        stream.read_some(buf, sizeof buf, ec);
        CHECK(ec == std::errc::timed_out);
        CHECK(observer.begins == 1);
        CHECK(observer.ends == 1);

        // Ready data needs no wait.
        REQUIRE(::send(pair[0], "x", 1, MSG_NOSIGNAL) == 1);
        CHECK(stream.read_some(buf, sizeof buf, ec) == 1);
        CHECK(observer.begins == 1);
    }

    TEST_CASE("socket_stream sends a file range with sendfile") {
        test_support::temp_file file("0123456789");
        socket_pair pair;
        cgihttp::socket_stream stream(pair[0], 2s);
        std::uint64_t offset = 2;
        std::error_code ec;
        CHECK(stream.send_file(file.fd(), offset, 5, ec) == 5);
        CHECK_FALSE(ec);
        CHECK(offset == 7);
        CHECK(drain(pair[1]) == "23456");
        // At the end of the file nothing is sent and no error is set.
        offset = 10;
        CHECK(stream.send_file(file.fd(), offset, 5, ec) == 0);
        CHECK_FALSE(ec);
    }

} // TEST_SUITE

TEST_SUITE("make_stream_ref") {

    TEST_CASE("make_stream_ref wraps a generic stream in a stream_adapter") {
        memory_stream stream("input");
        auto ref = cgihttp::make_stream_ref(stream, 5s);
        static_assert(std::is_same_v<decltype(ref), cgihttp::stream_adapter<memory_stream>>);
        cgihttp::stream_ref& base = ref;
        char buf[8];
        std::error_code ec;
        CHECK(base.read_some(buf, sizeof buf, ec) == 5);
        CHECK(std::string_view(buf, 5) == "input");
        CHECK(base.write_some("out", 3, ec, true) == 3);
        CHECK(stream.output() == "out");
        base.read_some(buf, sizeof buf, ec);
        CHECK(ec == asio::error::eof);
        std::uint64_t offset = 0;
        CHECK(base.send_file(0, offset, 10, ec) == 0);
        CHECK(ec == std::errc::operation_not_supported);
    }

    TEST_CASE("make_stream_ref gives an Asio socket a non-blocking socket_stream") {
        asio::io_context io;
        asio::local::stream_protocol::socket a(io), b(io);
        asio::local::connect_pair(a, b);
        CHECK_FALSE(a.native_non_blocking());
        auto ref = cgihttp::make_stream_ref(a, 30ms);
        static_assert(std::is_same_v<decltype(ref), cgihttp::socket_stream>);
        CHECK(a.native_non_blocking());
        CHECK(ref.native_handle() == a.native_handle());

        std::error_code ec;
        CHECK(ref.write_some("ping", 4, ec, false) == 4);
        char buf[8];
        CHECK(b.read_some(asio::buffer(buf), ec) == 4);
        CHECK(std::string_view(buf, 4) == "ping");

        // The timeout given is the socket_stream's.
        ref.read_some(buf, sizeof buf, ec);
        CHECK(ec == std::errc::timed_out);
    }

} // TEST_SUITE

TEST_CASE("A handler serves a UNIX-domain socket through handle()") {
    struct unix_handler : cgihttp::BaseRequestHandler<unix_handler> {
        std::string seen_host;
        void do_GET() {
            seen_host = client_address.host;
            send_response(200);
            send_header("Content-Length", "2");
            end_headers();
            wfile().write("ok");
        }
        void log_message(std::string_view) {}
    };
    asio::io_context io;
    asio::local::stream_protocol::socket server_side(io);
    asio::local::stream_protocol::socket client_side(io);
    asio::local::connect_pair(server_side, client_side);
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    asio::write(client_side, asio::buffer(request));
    client_side.shutdown(asio::socket_base::shutdown_send);
    unix_handler handler;
    handler.handle(server_side);
    server_side.close();
    std::string response;
    std::error_code ec;
    char buf[512];
    for (std::size_t n; (n = client_side.read_some(asio::buffer(buf), ec)) > 0;)
        response.append(buf, n);
    CHECK(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(response.substr(response.size() - 2) == "ok");
    CHECK(handler.seen_host == "-"); // an unnamed peer
}
