// cgihttp/cgi_request_handler.hpp - CGIRequestHandler<Derived>: runs CGI/1.1 scripts found
// under cgi_directories, and serves files like SimpleRequestHandler everywhere else.
// Python counterpart: http.server.CGIHTTPRequestHandler (Python 3.11), made an RFC 3875
// gateway: parsed script headers (Status, Location), streaming both ways, timeouts.
#pragma once

#include "cgi_environment.hpp"
#include "cgi_path.hpp"
#include "cgi_process.hpp"
#include "cgi_response.hpp"
#include "chunked.hpp"
#include "detail/process.hpp"
#include "simple_request_handler.hpp"

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cgihttp {
namespace detail {

/// The host of a socket's local address ("" when unknown); SERVER_ADDR.
inline std::string local_host(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    char text[INET6_ADDRSTRLEN] = {};
    if (fd < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    if (addr.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in&>(addr).sin_addr, text, sizeof text);
    else if (addr.ss_family == AF_INET6) {
        const auto& a6 = reinterpret_cast<sockaddr_in6&>(addr).sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a6))
            ::inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof text);
        else
            ::inet_ntop(AF_INET6, &a6, text, sizeof text);
    }
    return text;
}

/// A file to hold a request body: anonymous (O_TMPFILE) in $TMPDIR or /tmp.
inline unique_fd make_spool_file() {
    const char* dir = std::getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    unique_fd fd(::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!fd) {
        std::string name = std::string(dir) + "/cgihttp-body-XXXXXX";
        fd.reset(::mkostemp(name.data(), O_CLOEXEC));
        if (fd) ::unlink(name.c_str());
    }
    if (!fd) throw_local_failure(errno, "temporary file for a body");
    return fd;
}

/// /dev/null, opened once (and again after a failure, such as running out of descriptors):
/// the stdin of scripts without a request body.
inline int dev_null() {
    static std::atomic<int> shared{-1};
    int fd = shared.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) throw_local_failure(errno, "opening /dev/null");
    int expected = -1;
    if (shared.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) return fd;
    ::close(fd); // another thread opened it first
    return expected;
}

/// The absolute path of an executable found in $PATH (or the name, if it has a '/').
inline std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const std::size_t colon = dirs.find(':');
        std::string candidate(dirs.substr(0, colon));
        candidate += "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return name;
        dirs.remove_prefix(colon + 1);
    }
}

/// A counting semaphore with a timed wait: the cap on scripts running at once.
class script_slots {
public:
    /// Takes a slot, waiting up to `timeout`; false when none freed in time.
    bool acquire(std::size_t limit, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (limit == 0 || used_ < limit) {
            ++used_;
            return true;
        }
        blocking_scope waiting;
        if (!freed_.wait_for(lock, timeout, [&] { return used_ < limit; })) return false;
        ++used_;
        return true;
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --used_;
        }
        freed_.notify_one();
    }

private:
    std::mutex mutex_;
    std::condition_variable freed_;
    std::size_t used_ = 0;
};

} // namespace detail

/// How a script's output becomes the response.
enum class cgi_output_mode {
    parsed,       ///< RFC 3875: the server reads the header block and writes the status line
    nph,          ///< "nph-" scripts: the output is the whole response, passed on raw
    pass_through, ///< Python's: "200 Script output follows", then the output as it is
};

template <class Derived>
class CGIRequestHandler : public SimpleRequestHandler<Derived> {
    using simple = SimpleRequestHandler<Derived>;

public:
    // ---- Class attributes: redefine in Derived ----

    /// Directories whose files are run, not served; Python's cgi_directories.
    static inline const std::vector<std::string> cgi_directories = {"/cgi-bin", "/htbin"};
    /// Suffix to interpreter ({".py", "python3"}, {".php", "php-cgi"}): such scripts need
    /// not be executable (lighttpd's cgi.assign). Empty: every script must be executable.
    static inline const std::unordered_map<std::string, std::string> cgi_interpreters = {};
    /// The user scripts run as when the server runs as root (its group too; supplementary
    /// groups are dropped). Python uses nobody's uid only.
    static constexpr std::string_view cgi_user = "nobody";
    /// How long a script may run; then its process group is killed (504 if nothing was sent).
    static constexpr std::chrono::milliseconds cgi_timeout{60000};
    /// How long to wait for a script's output to end once the script has exited.
    static constexpr std::chrono::milliseconds cgi_exit_grace{2000};
    /// Most scripts running at once (0: no limit); more requests wait for a slot.
    static constexpr std::size_t max_cgi_processes = 64;
    /// How long a request waits for a slot before 503 (with Retry-After).
    static constexpr std::chrono::milliseconds cgi_queue_timeout{10000};
    /// Largest header block a script may write.
    static constexpr std::size_t max_cgi_header_bytes = default_max_cgi_header_bytes;
    /// Local redirects (Location: /path) followed for one request before giving up (500).
    static constexpr int max_local_redirects = 8;
    /// false: Python's pass-through ("200 Script output follows", the script's output copied
    /// as it is, connection closed after), for scripts that depend on it.
    static constexpr bool cgi_parse_headers = true;

    /// (directory, rest) of the last path is_cgi() accepted; Python's cgi_info, but still
    /// percent-encoded where decoding it again would change it (see url_collapse_path()).
    std::pair<std::string, std::string> cgi_info;

    // ---- Python's methods ----

    /// Runs a script; only scripts accept POST. Python's do_POST().
    void do_POST() {
        if (self().is_cgi())
            self().run_cgi();
        else
            self().send_error(501, "Can only POST to CGI scripts");
    }

    /// Runs a script for GET and HEAD, or serves a file; Python's send_head().
    response_body send_head() {
        if (self().is_cgi()) {
            self().run_cgi();
            return {};
        }
        return simple::send_head();
    }

    /// Whether the path is under one of cgi_directories (sets cgi_info); Python's is_cgi().
    /// A path climbing above the root is collapsed at the root, as translate_path() does
    /// (Python raises IndexError): the file served and the script run are decided on the
    /// same path, so "/cgi-bin/../../cgi-bin/x" cannot fetch a script's source.
    bool is_cgi() {
        const auto collapsed = url_collapse_path(this->path, true);
        const auto found = find_cgi_directory(
            *collapsed, detail::class_attribute(self(), &Derived::cgi_directories));
        if (found) cgi_info = *found;
        return found.has_value();
    }

    /// Whether a file may be executed (access(X_OK)); Python's is_executable().
    bool is_executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

    /// Whether a name ends in .py or .pyw; Python's is_python(). Like Python 3 on POSIX,
    /// nothing here depends on it (scripts must be executable or have an interpreter).
    bool is_python(std::string_view path) {
        std::string ext(path_extension(path));
        for (char& c : ext)
            c = detail::to_lower(c);
        return ext == ".py" || ext == ".pyw";
    }

    /// Runs the script cgi_info names and answers with its output; Python's run_cgi().
    void run_cgi();

    // ---- Beyond Python ----

    /// Called with each script's environment before it starts; remove or add variables
    /// here (the server's whole environment is passed on by default, as in Python).
    void filter_cgi_environment(cgi_environment& env) { (void)env; }

    /// Whether Basic credentials from the request are genuine. Python (and this default)
    /// takes them on trust, so REMOTE_USER is whatever the client claims: redefine this to
    /// check them when a script relies on REMOTE_USER (git-http-backend allows pushes).
    bool check_basic_credentials(std::string_view user, std::string_view password) {
        (void)user, (void)password;
        return true;
    }

protected:
    using simple::self;

private:
    class output; // maps a script's output onto the HTTP response
    friend class output;

    /// Everything a script is started with.
    struct launch {
        std::string script_name;
        std::string program;
        std::string directory;
        std::vector<char*> argv;
        std::vector<char*> envp;
        std::optional<detail::run_as_user> run_as;
        bool stream_body;
        int stdin_file;
        cgi_output_mode mode;
    };

    /// Runs one script and answers with its output; returns a local redirect's target.
    std::optional<std::string> run_script(const launch& l);
    cgi_environment make_environment(const cgi_script_path& parts, const std::string& scriptfile,
                                     std::string_view body_length,
                                     const std::optional<detail::run_as_user>& run_as);
    detail::unique_fd spool_body(std::uint64_t& length);
    static detail::script_slots& slots() {
        static detail::script_slots instance;
        return instance;
    }

    int redirect_depth_ = 0;
};

// ---- The script's output as an HTTP response ----

template <class Derived>
class CGIRequestHandler<Derived>::output final : public cgi_output_sink {
public:
    output(CGIRequestHandler& handler, cgi_output_mode m, std::string script_name)
        : h_(handler), mode_(m), script_(std::move(script_name)),
          parser_(detail::class_attribute(handler.self(), &Derived::max_cgi_header_bytes)),
          head_only_(handler.command == "HEAD") {}

    void on_output(std::string_view data) override {
        produced_ = true;
        if (mode_ != cgi_output_mode::parsed) {
            if (mode_ == cgi_output_mode::nph && !started_) log_nph_status(data);
            started_ = true;
            h_.wfile().write(data); // raw, as Python does (HEAD included)
            return;
        }
        if (!parsed_) {
            head_.append(data); // the unparsed rest of the header block, then new output
            std::size_t consumed = 0;
            const auto r = parser_.feed(head_, consumed);
            if (r == cgi_response_parser::result::need_more) {
                head_.erase(0, consumed);
                return;
            }
            if (r == cgi_response_parser::result::error) {
                failed_ = true;
                parsed_ = true;
                return;
            }
            parsed_ = true;
            const std::string rest = head_.substr(consumed);
            head_.clear();
            start_response();
            data = rest;
            body(data);
            return;
        }
        body(data);
    }

    void on_output_pause() override {
        if (started_) h_.wfile().flush();
    }

    void on_error_line(std::string_view line) override {
        h_.self().log_error("CGI script " + script_ + ": " + std::string(line));
    }

    /// Before the script runs: Python's pass-through mode sends its status line at once.
    void begin() {
        if (mode_ != cgi_output_mode::pass_through) return;
        h_.self().send_response(200, "Script output follows");
        h_.self().flush_headers();
        started_ = true;
    }

    /// After a completed run: the end of a chunked body, or the error for a script that
    /// gave no valid header block. Returns a local redirect's target, if that is the answer.
    std::optional<std::string> finish() {
        if (mode_ != cgi_output_mode::parsed) {
            h_.close_connection = true;
            return std::nullopt;
        }
        if (!parsed_ || failed_) {
            h_.self().log_error("CGI script " + script_ + ": " +
                                (failed_     ? parser_.error()
                                 : produced_ ? std::string("incomplete header block")
                                             : std::string("no output")));
            h_.self().send_error(502, "Bad Gateway", "The CGI script's response was invalid");
            return std::nullopt;
        }
        const cgi_response& r = parser_.response();
        if (r.kind == cgi_response_kind::local_redirect) return r.location;
        if (chunked_) h_.wfile().write("0\r\n\r\n");
        if (remaining_ && *remaining_ > 0 && !no_body_) {
            h_.self().log_error("CGI script " + script_ +
                                ": output shorter than its Content-Length");
            h_.close_connection = true; // the client can tell the body is cut
        }
        return std::nullopt;
    }

    /// Whether anything was sent to the client (a status line or output).
    bool started() const noexcept { return started_; }

private:
    void start_response() {
        const cgi_response& r = parser_.response();
        if (failed_ || r.kind == cgi_response_kind::local_redirect) return;
        started_ = true;
        auto& self = h_.self();
        self.send_response(r.status, r.reason.empty() ? std::nullopt
                                                      : std::optional<std::string_view>(r.reason));
        for (const auto& [name, value] : r.fields)
            if (!detail::iequals(name, "Server") && !detail::iequals(name, "Date"))
                self.send_header(name, value);
        no_body_ = head_only_ || status_forbids_body(r.status);
        // RFC 9110 8.6: no Content-Length on 1xx and 204 (304 may repeat the GET's).
        if (r.content_length && (r.status == 304 || !status_forbids_body(r.status))) {
            remaining_ = r.content_length;
            self.send_header("Content-Length", std::to_string(*r.content_length));
        } else if (!no_body_ && h_.request_version_number() >= http_version{1, 1} &&
                   !h_.close_connection) {
            chunked_ = true; // keep the connection usable without knowing the length
            self.send_header("Transfer-Encoding", "chunked");
        }
        self.end_headers();
    }

    void body(std::string_view data) {
        if (data.empty() || no_body_ || failed_ ||
            parser_.response().kind == cgi_response_kind::local_redirect)
            return;
        if (remaining_) {
            if (data.size() > *remaining_) {
                if (!overflow_logged_)
                    h_.self().log_error("CGI script " + script_ +
                                        ": output longer than its Content-Length, cut");
                overflow_logged_ = true;
                data = data.substr(0, std::size_t(*remaining_));
            }
            *remaining_ -= data.size();
        }
        if (chunked_) {
            char size[24];
            std::snprintf(size, sizeof size, "%zx\r\n", data.size());
            h_.wfile().write(size);
            h_.wfile().write(data);
            h_.wfile().write("\r\n");
        } else {
            h_.wfile().write(data);
        }
    }

    /// An nph- script writes its own status line: log its code as send_response() would.
    void log_nph_status(std::string_view data) {
        const std::size_t space = data.find(' ');
        const auto code = space == std::string_view::npos
                              ? std::nullopt
                              : detail::parse_decimal(data.substr(space + 1, 3));
        h_.self().log_request(code ? static_cast<int>(*code) : 0);
    }

    CGIRequestHandler& h_;
    cgi_output_mode mode_;
    std::string script_;
    cgi_response_parser parser_;
    std::string head_;
    std::optional<std::uint64_t> remaining_;
    bool head_only_;
    bool produced_ = false;
    bool parsed_ = false;
    bool failed_ = false;
    bool started_ = false;
    bool chunked_ = false;
    bool no_body_ = false;
    bool overflow_logged_ = false;
};

// ---- Definitions ----

template <class Derived>
detail::unique_fd CGIRequestHandler<Derived>::spool_body(std::uint64_t& length) {
    detail::unique_fd file = detail::make_spool_file();
    char buffer[32 * 1024];
    length = 0;
    for (std::size_t n; (n = this->rfile().read_some(buffer, sizeof buffer)) > 0;) {
        for (std::size_t done = 0; done < n;) {
            const ssize_t put = ::write(file.get(), buffer + done, n - done);
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) detail::throw_local_failure(errno, "writing a request body");
            done += std::size_t(put);
        }
        length += n;
    }
    ::lseek(file.get(), 0, SEEK_SET);
    return file;
}

template <class Derived>
cgi_environment CGIRequestHandler<Derived>::make_environment(
    const cgi_script_path& parts, const std::string& scriptfile, std::string_view body_length,
    const std::optional<detail::run_as_user>& run_as) {
    cgi_environment env(server_environment());
    const server_info* srv = this->server;
    env.set("SERVER_SOFTWARE", self().version_string());
    env.set("SERVER_NAME", srv ? std::string_view(srv->server_name) : std::string_view{});
    env.set("GATEWAY_INTERFACE", "CGI/1.1");
    // RFC 3875 4.1.16: the request's protocol (Python gives the server's protocol_version).
    env.set("SERVER_PROTOCOL", this->request_version);
    env.set("SERVER_PORT", std::to_string(srv ? srv->server_port : 0));
    env.set("REQUEST_METHOD", this->command);
    if (!parts.path_info.empty()) {
        env.set("PATH_INFO", percent_decode(parts.path_info));
        env.set("PATH_TRANSLATED", self().translate_path(parts.path_info));
    } else {
        env.set("PATH_INFO", "");
    }
    env.set("SCRIPT_NAME", parts.script_name);
    env.set("QUERY_STRING", parts.query);
    env.set("REMOTE_ADDR", this->client_address.host);
    env.set("REMOTE_PORT", std::to_string(this->client_address.port));
    if (const auto authorization = this->headers.get("Authorization")) {
        const std::string_view value = detail::trim_ows(*authorization);
        const std::size_t space = value.find(' ');
        if (space != std::string_view::npos) {
            const std::string_view scheme = value.substr(0, space);
            env.set("AUTH_TYPE", scheme);
            if (detail::iequals(scheme, "Basic")) {
                const auto decoded = base64_decode(detail::trim_ows(value.substr(space + 1)));
                const std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
                if (colon != std::string::npos && // RFC 7617: the user-id ends at the first ':'
                    self().check_basic_credentials(std::string_view(*decoded).substr(0, colon),
                                                   std::string_view(*decoded).substr(colon + 1)))
                    env.set("REMOTE_USER", decoded->substr(0, colon));
            }
        }
    }
    if (const auto type = this->headers.get("Content-Type"); type && redirect_depth_ == 0)
        env.set("CONTENT_TYPE", *type);
    env.set("CONTENT_LENGTH", body_length);
    env.add_request_headers(this->headers);
    // Python joins Accept fields with "," and defaults these to empty strings.
    const auto accepts = this->headers.get_all("Accept");
    std::string accept;
    for (const auto a : accepts)
        accept += (accept.empty() ? "" : ",") + std::string(a);
    env.set("HTTP_ACCEPT", accept);
    for (const char* name : {"REMOTE_HOST", "HTTP_USER_AGENT", "HTTP_COOKIE", "HTTP_REFERER"})
        env.set_default(name, "");
    // What real scripts (PHP among them) expect beyond RFC 3875.
    env.set("REQUEST_URI", this->path);
    env.set("SCRIPT_FILENAME", scriptfile);
    env.set("DOCUMENT_ROOT", this->served_directory());
    env.set("SERVER_ADDR", detail::local_host(this->connection_stream().native_handle()));
    const std::string_view scheme = srv ? std::string_view(srv->scheme) : "http";
    env.set("REQUEST_SCHEME", scheme);
    // As Apache and nginx tell PHP and others; never inherited from the server's environment.
    scheme == "https" ? env.set("HTTPS", "on") : env.unset("HTTPS");
    for (const auto& [name, value] : this->connection_stream().security_variables())
        env.set(name, value);
    env.set("REDIRECT_STATUS", "200");
    if (run_as) { // as su does: the server's HOME is not the script user's
        env.set("HOME", run_as->home);
        env.set("USER", run_as->name);
        env.set("LOGNAME", run_as->name);
    }
    self().filter_cgi_environment(env);
    return env;
}

template <class Derived>
void CGIRequestHandler<Derived>::run_cgi() {
    const auto is_directory = [&](const std::string& url_path) {
        struct stat st {};
        return ::stat(self().translate_path(url_path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    };
    const cgi_script_path parts = split_cgi_path(cgi_info.first, cgi_info.second, is_directory);
    std::string scriptfile = self().translate_path(parts.script_url);
    const std::string shown = "(" + detail::python_repr(parts.script_name) + ")";
    if (scriptfile.find('\0') != std::string::npos) {
        self().send_error(400, "Bad request path");
        return;
    }
    // Classify without reading: a script may be executable but not readable.
    detail::unique_fd probe = this->open_path(scriptfile, true);
    struct stat st {};
    if (!probe || ::fstat(probe.get(), &st) != 0) {
        self().send_error(404, "No such CGI script " + shown);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        self().send_error(403, "CGI script is not a plain file " + shown);
        return;
    }
    std::string ext(path_extension(scriptfile));
    for (char& c : ext)
        c = detail::to_lower(c);
    const auto& interpreters = detail::class_attribute(self(), &Derived::cgi_interpreters);
    const auto interpreter = interpreters.find(ext);
    if (interpreter == interpreters.end() && !self().is_executable(scriptfile)) {
        self().send_error(403, "CGI script is not executable " + shown);
        return;
    }
    if (scriptfile.front() != '/') { // the script runs in its own directory
        char cwd[PATH_MAX];
        if (::getcwd(cwd, sizeof cwd)) scriptfile = std::string(cwd) + "/" + scriptfile;
    }

    std::optional<detail::run_as_user> run_as;
    if (::geteuid() == 0) {
        const std::string user(detail::string_attribute(self(), &Derived::cgi_user));
        run_as = detail::lookup_user(user);
        if (!run_as) {
            self().log_error("CGI user " + user + " does not exist: refusing to run as root");
            self().send_error(500, "CGI user not found");
            return;
        }
    }

    // The body: streamed from a socket while the script runs; a chunked body (whose length
    // the script must know) or one from a stream that cannot be polled is spooled first.
    const int client_fd = this->connection_stream().native_handle();
    const body_framing_kind framing = this->rfile().framing();
    const bool stream_body = framing == body_framing_kind::length && client_fd >= 0;
    std::string body_length; // CONTENT_LENGTH: empty without a body, as in Python
    detail::unique_fd spooled;
    if (stream_body) {
        body_length = std::to_string(this->rfile().content_length());
    } else if (framing != body_framing_kind::none) {
        std::uint64_t length = 0;
        spooled = spool_body(length);
        body_length = std::to_string(length);
    }

    const std::string script_base = scriptfile.substr(scriptfile.rfind('/') + 1);
    const bool nph = script_base.rfind("nph-", 0) == 0;
    const bool parse = detail::class_attribute(self(), &Derived::cgi_parse_headers);
    const auto mode = nph     ? cgi_output_mode::nph
                      : parse ? cgi_output_mode::parsed
                              : cgi_output_mode::pass_through;

    std::vector<std::string> args;
    std::string program = scriptfile;
    if (interpreter != interpreters.end()) {
        program = detail::find_program(interpreter->second);
        args.push_back(interpreter->second);
        args.push_back(scriptfile);
    } else {
        args.push_back(script_base);
    }
    for (std::string& word : isindex_arguments(parts.query))
        args.push_back(std::move(word));
    const cgi_environment env = make_environment(parts, scriptfile, body_length, run_as);
    const std::vector<std::string> env_entries = env.entries();
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env_entries)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string directory = scriptfile.substr(0, scriptfile.rfind('/'));

    launch l{parts.script_name,
             std::move(program),
             directory,
             argv,
             envp,
             run_as,
             stream_body,
             spooled ? spooled.get() : detail::dev_null(),
             mode};
    const std::optional<std::string> redirect = run_script(l);
    if (!redirect) return;
    if (++redirect_depth_ > detail::class_attribute(self(), &Derived::max_local_redirects)) {
        redirect_depth_ = 0;
        self().send_error(500, "Too many local redirects");
        return;
    }
    // RFC 3875 6.2.2: serve the new path as a GET (a HEAD stays a HEAD), the original body
    // dropped (the connection closes if too much of it is left to read).
    if (!this->rfile().discard(detail::class_attribute(self(), &Derived::max_discarded_body)))
        this->close_connection = true;
    const bool head = this->command == "HEAD";
    this->command = head ? "HEAD" : "GET";
    this->path = *redirect;
    this->rfile().reset(&this->connection_input(), body_framing{});
    if (head)
        self().do_HEAD();
    else
        self().do_GET();
    redirect_depth_ = 0;
}

template <class Derived>
std::optional<std::string> CGIRequestHandler<Derived>::run_script(const launch& l) {
    detail::script_slots& pool = slots();
    if (!pool.acquire(detail::class_attribute(self(), &Derived::max_cgi_processes),
                      detail::class_attribute(self(), &Derived::cgi_queue_timeout))) {
        self().log_error("CGI script " + l.script_name + ": too many scripts running");
        self().send_response(503);
        self().send_header("Retry-After", "1");
        self().send_header("Content-Length", "0");
        self().end_headers();
        return std::nullopt;
    }
    struct slot_release {
        detail::script_slots& pool;
        ~slot_release() { pool.release(); }
    } release{pool};

    std::optional<cgi_process> process;
    // A block, so that the parent's copies of the child's pipe ends close before the script
    // runs (its exit must end its output). Out of descriptors or processes, the steps throw:
    // a 503 (handle_one_request).
    {
        detail::pipe_pair in;
        if (l.stream_body) {
            in = detail::make_pipe();
            ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK); // never block the pump on stdin
        }
        detail::pipe_pair out = detail::make_pipe();
        detail::pipe_pair err = detail::make_pipe();
        detail::spawn_spec spec;
        spec.program = l.program.c_str();
        spec.argv = l.argv.data();
        spec.envp = l.envp.data();
        spec.working_directory = l.directory.c_str();
        spec.stdin_fd = l.stream_body ? in.read.get() : l.stdin_file;
        spec.stdout_fd = out.write.get();
        spec.stderr_fd = err.write.get();
        spec.run_as = l.run_as;
        detail::spawn_error failure;
        const pid_t pid = detail::spawn(spec, failure);
        if (pid < 0) {
            const std::string step = "CGI script " + l.script_name + ": " + failure.step;
            detail::throw_if_resource_shortage(failure.error, step);
            self().log_error(step + ": " + std::strerror(failure.error));
            const bool denied = failure.error == EACCES || failure.error == EPERM;
            self().send_error(denied ? 403 : 500, denied
                                                      ? "CGI script is not executable (" +
                                                            detail::python_repr(l.script_name) + ")"
                                                      : "CGI script could not be started");
            return std::nullopt;
        }
        process.emplace(detail::child_process(pid), std::move(in.write), std::move(out.read),
                        std::move(err.read));
    }

    output sink(*this, l.mode, l.script_name);
    sink.begin();
    this->wfile().flush(); // a pending "100 Continue": the client waits for it to send the body
    cgi_body_feed feed;
    feed.client = &this->connection_stream();
    if (l.stream_body) {
        feed.body = &this->rfile();
        feed.input = &this->connection_input();
    }
    const auto deadline =
        std::chrono::steady_clock::now() + detail::class_attribute(self(), &Derived::cgi_timeout);
    const cgi_outcome outcome = process->run(
        sink, feed, deadline, detail::class_attribute(self(), &Derived::cgi_exit_grace));
    const int status = process->child().status();
    if (process->child().reaped() && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        self().log_error("CGI script " + l.script_name + " exit code " +
                         std::to_string(WEXITSTATUS(status)));
    else if (process->child().reaped() && WIFSIGNALED(status))
        self().log_error("CGI script " + l.script_name + " killed by signal " +
                         std::to_string(WTERMSIG(status)));
    process.reset(); // kills what is left of the group and reaps

    if (outcome == cgi_outcome::client_gone) // nothing to answer: unwind as a dead connection
        throw std::system_error(std::make_error_code(std::errc::connection_aborted),
                                "the client went away while CGI script " + l.script_name + " ran");
    if (outcome == cgi_outcome::timed_out) {
        self().log_error("CGI script " + l.script_name + ": time limit reached, killed");
        if (sink.started())
            this->close_connection = true;
        else
            self().send_error(504, "CGI script timed out");
        return std::nullopt;
    }
    return sink.finish();
}

} // namespace cgihttp
