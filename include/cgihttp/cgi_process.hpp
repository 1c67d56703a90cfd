// cgihttp/cgi_process.hpp - a running CGI script: feeds it the request body, passes its
// output on as it is produced, logs its stderr, and ends it on timeout or client loss.
// Python counterpart: the fork/waitpid part of CGIHTTPRequestHandler.run_cgi().
#pragma once

#include "blocking.hpp"
#include "body_reader.hpp"
#include "buffered_reader.hpp"
#include "detail/process.hpp"
#include "detail/sigpipe.hpp"
#include "stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <poll.h>
#include <unistd.h>

namespace cgihttp {

/// Receives what a script produces; implemented by the CGI handler.
class cgi_output_sink {
public:
    /// Bytes the script wrote to stdout, in order.
    virtual void on_output(std::string_view data) = 0;
    /// The script has nothing more to say for now: a moment to flush to the client.
    virtual void on_output_pause() = 0;
    /// One line the script wrote to stderr (without its newline).
    virtual void on_error_line(std::string_view line) = 0;

protected:
    ~cgi_output_sink() = default;
};

/// The request body to stream into a script's stdin while it runs.
struct cgi_body_feed {
    body_reader* body = nullptr;      ///< nullptr: stdin is a file or /dev/null, nothing to feed
    buffered_reader* input = nullptr; ///< the connection input behind `body`
    stream_ref* client = nullptr;     ///< the client's stream: its socket is watched for data
                                      ///< and hang-up

    int client_fd() const noexcept { return client ? client->native_handle() : -1; }
    /// Body bytes at hand without reading the socket: buffered, or decrypted by TLS already.
    bool body_at_hand() const {
        return !input->buffered().empty() || (client && client->has_buffered_input());
    }
};

/// How a script's run ended.
enum class cgi_outcome {
    completed,   ///< stdout reached its end and the script exited
    timed_out,   ///< the time limit passed; the script's group was killed
    client_gone, ///< the client hung up; the script's group was killed
};

/// A started script: its process and the parent's ends of its pipes.
class cgi_process {
public:
    cgi_process(detail::child_process child, detail::unique_fd stdin_pipe,
                detail::unique_fd stdout_pipe, detail::unique_fd stderr_pipe) noexcept
        : child_(std::move(child)), stdin_(std::move(stdin_pipe)), stdout_(std::move(stdout_pipe)),
          stderr_(std::move(stderr_pipe)) {}

    detail::child_process& child() noexcept { return child_; }

    /// Runs the script to its end: stdin fed from `feed`, stdout to `sink` as it comes, stderr
    /// to `sink` line by line. Stops at `deadline`, or when the client hangs up; once the
    /// script has exited, its output is awaited for `exit_grace` more (a grandchild may hold
    /// stdout open), then the group is killed. Waits inside a blocking_scope.
    cgi_outcome run(cgi_output_sink& sink, cgi_body_feed feed,
                    std::chrono::steady_clock::time_point deadline,
                    std::chrono::milliseconds exit_grace) {
        using clock = std::chrono::steady_clock;
        blocking_scope waiting;
        const detail::sigpipe_guard no_sigpipe; // the script may close its stdin early
        // Any FIN from the client counts as leaving, as nginx counts it: a request sent and
        // abandoned must not hold a script (and its slot) until the time limit. A client
        // that half-closes after sending (nc -N) cannot wait for a script's output.
        constexpr short gone_events = POLLRDHUP | POLLHUP | POLLERR;
        std::string pending; // body bytes read but not yet written to the script
        std::size_t pending_start = 0;
        clock::time_point exited_at{};
        bool exited = false;
        char buffer[32 * 1024];
        while (stdout_ || stderr_ || !exited) {
            const auto now = clock::now();
            if (now >= deadline) {
                child_.kill();
                return cgi_outcome::timed_out;
            }
            if (exited && now >= exited_at + exit_grace)
                break; // something else holds stdout open; the group is killed below
            // Feed what is already buffered without waiting; close stdin at the body's end.
            if (stdin_ && pending_start == pending.size()) {
                pending.clear();
                pending_start = 0;
                if (!feed.body || feed.body->at_end())
                    stdin_.reset();
                else if (feed.body_at_hand())
                    append_body(pending, feed, buffer, sizeof buffer);
            }
            const bool want_body =
                stdin_ && pending_start == pending.size() && feed.body && !feed.body->at_end();
            // Unused slots have fd -1, which poll() skips.
            enum { out_slot, err_slot, in_slot, client_slot, pid_slot };
            pollfd fds[5] = {
                {stdout_ ? stdout_.get() : -1, POLLIN, 0},
                {stderr_ ? stderr_.get() : -1, POLLIN, 0},
                {stdin_ && !want_body ? stdin_.get() : -1, POLLOUT, 0},
                {feed.client_fd(), static_cast<short>(gone_events | (want_body ? POLLIN : 0)), 0},
                {!exited ? child_.pidfd() : -1, POLLIN, 0},
            };
            auto wait = deadline - now;
            if (exited) wait = std::min<clock::duration>(wait, exited_at + exit_grace - now);
            if (!exited && child_.pidfd() < 0) // no pidfd: look for the exit now and then
                wait = std::min<clock::duration>(wait, std::chrono::milliseconds(20));
            const int timeout_ms =
                static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
            if (::poll(fds, 5, timeout_ms) < 0 && errno != EINTR)
                throw std::system_error(errno, std::system_category(), "poll");

            const auto ready = [&](int slot, short events) {
                return (fds[slot].revents & (events | POLLHUP | POLLERR)) != 0;
            };
            if (ready(out_slot, POLLIN)) {
                const ssize_t got = ::read(stdout_.get(), buffer, sizeof buffer);
                if (got > 0) {
                    sink.on_output(std::string_view(buffer, std::size_t(got)));
                    if (std::size_t(got) < sizeof buffer) sink.on_output_pause();
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    stdout_.reset();
                    sink.on_output_pause();
                }
            }
            if (ready(err_slot, POLLIN)) read_errors(sink, buffer, sizeof buffer);
            if (ready(in_slot, POLLOUT)) {
                const ssize_t put = ::write(stdin_.get(), pending.data() + pending_start,
                                            pending.size() - pending_start);
                if (put > 0)
                    pending_start += std::size_t(put);
                else if (errno != EAGAIN && errno != EINTR)
                    stdin_.reset(); // the script stopped reading: the rest is not for it
            }
            if (want_body && (fds[client_slot].revents & POLLIN)) {
                append_body(pending, feed, buffer, sizeof buffer); // throws at a cut body
            } else if (fds[client_slot].revents & gone_events) {
                child_.kill();
                return cgi_outcome::client_gone;
            }
            if (!exited && (ready(pid_slot, POLLIN) || child_.pidfd() < 0) && child_.try_wait()) {
                exited = true;
                exited_at = clock::now();
            }
        }
        child_.kill(); // grandchildren still holding the pipes, or left behind
        child_.wait();
        return cgi_outcome::completed;
    }

private:
    /// Moves body bytes that can be read without waiting into `pending`.
    static void append_body(std::string& pending, cgi_body_feed& feed, char* buffer,
                            std::size_t size) {
        const std::size_t got = feed.body->read_some(buffer, size);
        pending.append(buffer, got);
    }

    /// Reads stderr and hands complete lines to the sink; a line is cut at 4 KiB.
    void read_errors(cgi_output_sink& sink, char* buffer, std::size_t size) {
        const ssize_t got = ::read(stderr_.get(), buffer, size);
        if (got <= 0) {
            if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (!error_line_.empty()) sink.on_error_line(error_line_);
                error_line_.clear();
                stderr_.reset();
            }
            return;
        }
        for (std::string_view data(buffer, std::size_t(got)); !data.empty();) {
            const std::size_t newline = data.find('\n');
            error_line_.append(data.substr(0, newline));
            if (newline == std::string_view::npos && error_line_.size() < 4096) break;
            sink.on_error_line(error_line_);
            error_line_.clear();
            data.remove_prefix(newline == std::string_view::npos ? data.size() : newline + 1);
        }
    }

    detail::child_process child_;
    detail::unique_fd stdin_;
    detail::unique_fd stdout_;
    detail::unique_fd stderr_;
    std::string error_line_;
};

} // namespace cgihttp
