// cgihttpserver.cpp - the demo server, with the command line of `python3 -m http.server`
// (3.14, HTTPS included):
//     cgihttpserver [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION]
//                   [--tls-cert PATH [--tls-key PATH] [--tls-password-file PATH]] [port]
// With HTTPS, SIGHUP reloads the certificate and key (new connections get them).
// It stands in for Python's http.server.test().
#include <cgihttp/handler.hpp>

#include <asio/signal_set.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <stdlib.h>

namespace {

constexpr const char* usage =
    "usage: cgihttpserver [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION]\n"
    "                     [--tls-cert PATH] [--tls-key PATH] [--tls-password-file PATH]\n"
    "                     [-q] [port]\n";

constexpr const char* help = R"(
positional arguments:
  port                  bind to this port (default: 8000)

options:
  -h, --help            show this help message and exit
  --cgi                 run as CGI server
  -b ADDRESS, --bind ADDRESS
                        bind to this address (default: all interfaces)
  -d DIRECTORY, --directory DIRECTORY
                        serve this directory (default: current directory)
  -p VERSION, --protocol VERSION
                        conform to this HTTP version (default: HTTP/1.0)
  --tls-cert PATH       path to the TLS certificate chain file (serves HTTPS;
                        SIGHUP reloads it and the key)
  --tls-key PATH        path to the TLS key file (default: in the certificate file)
  --tls-password-file PATH
                        path to the password file for the TLS key
  -q, --quiet           do not write the access log (errors are still logged)
)";

struct command_line {
    bool cgi = false;
    std::string bind;
    std::string directory;
    std::string protocol = "HTTP/1.0";
    std::string tls_cert;
    std::string tls_key;
    std::string tls_password;
    bool quiet = false;
    unsigned short port = 8000;
};

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "%scgihttpserver: error: %s\n", usage, message.c_str());
    std::exit(2);
}

/// Parses argv the way Python's argparse does for http.server: long options with a space
/// or '=', short options with a space or attached, one optional positional port.
command_line parse(int argc, char** argv) {
    command_line cl;
    bool have_port = false;
    std::optional<std::string> password_file;
    const auto take_value = [&](int& i, std::string_view arg, std::string_view shortname,
                                std::string_view longname) -> std::optional<std::string> {
        const std::string flags = shortname.empty()
                                      ? std::string(longname)
                                      : std::string(shortname) + "/" + std::string(longname);
        if (arg == shortname || arg == longname) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'))
                fail("argument " + flags + ": expected one argument");
            return std::string(argv[++i]);
        }
        if (arg.substr(0, longname.size() + 1) == std::string(longname) + "=")
            return std::string(arg.substr(longname.size() + 1));
        if (arg.size() > 2 && arg.substr(0, 2) == shortname) return std::string(arg.substr(2));
        return std::nullopt;
    };
    bool options_ended = false; // after "--" every argument is positional, as in argparse
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool option = !options_ended && arg.size() > 1 && arg[0] == '-';
        if (option && arg == "--") {
            options_ended = true;
        } else if (option && (arg == "-h" || arg == "--help")) {
            std::printf("%s%s", usage, help);
            std::exit(0);
        } else if (option && arg == "--cgi") {
            cl.cgi = true;
        } else if (option && (arg == "-q" || arg == "--quiet")) {
            cl.quiet = true;
        } else if (auto v = option ? take_value(i, arg, "-b", "--bind") : std::nullopt) {
            cl.bind = *v;
        } else if (auto d = option ? take_value(i, arg, "-d", "--directory") : std::nullopt) {
            cl.directory = *d;
        } else if (auto p = option ? take_value(i, arg, "-p", "--protocol") : std::nullopt) {
            cl.protocol = *p;
        } else if (auto c = option ? take_value(i, arg, "", "--tls-cert") : std::nullopt) {
            cl.tls_cert = *c;
        } else if (auto k = option ? take_value(i, arg, "", "--tls-key") : std::nullopt) {
            cl.tls_key = *k;
        } else if (auto f = option ? take_value(i, arg, "", "--tls-password-file") : std::nullopt) {
            password_file = *f;
        } else if (option || have_port) {
            fail("unrecognized arguments: " + std::string(arg));
        } else {
            char* end = nullptr;
            const long port = std::strtol(argv[i], &end, 10);
            if (arg.empty() || *end != '\0')
                fail("argument port: invalid int value: '" + std::string(arg) + "'");
            if (port < 0 || port > 65535)
                fail("argument port: port must be 0-65535, not " + std::string(arg));
            cl.port = static_cast<unsigned short>(port);
            have_port = true;
        }
    }
    if (!cgihttp::parse_http_version(cl.protocol))
        fail("argument -p/--protocol: not an HTTP version: '" + cl.protocol + "'");
    // Python 3.14's checks and messages.
    if (cl.tls_cert.empty() && !cl.tls_key.empty()) fail("--tls-key requires --tls-cert to be set");
    if (password_file) {
        if (cl.tls_cert.empty()) fail("--tls-password-file requires --tls-cert to be set");
        std::ifstream file(*password_file);
        std::ostringstream contents;
        if (!(file && contents << file.rdbuf()))
            fail("Failed to read TLS password file: [Errno " + std::to_string(errno) + "] " +
                 std::strerror(errno) + ": '" + *password_file + "'");
        cl.tls_password = contents.str();
        const auto space = " \t\r\n\v\f";
        cl.tls_password.erase(cl.tls_password.find_last_not_of(space) + 1);
        cl.tls_password.erase(0, cl.tls_password.find_first_not_of(space));
    }
    return cl;
}

/// The demo's handler: Python's CGIHTTPRequestHandler (which serves files too), with the
/// protocol from -p.
struct demo_handler : cgihttp::CGIRequestHandler<demo_handler> {
    std::string_view protocol_version = "HTTP/1.0";
    bool quiet = false; // -q: no access log, for benchmarks

    void log_request(int code, std::optional<std::uint64_t> size = std::nullopt) {
        if (!quiet) CGIRequestHandler::log_request(code, size);
    }
};

} // namespace

int main(int argc, char** argv) {
    const command_line cl = parse(argc, argv);
    // Served as given, like Python's directory= argument; absolute, so it cannot drift.
    char resolved[PATH_MAX];
    if (!::realpath(cl.directory.empty() ? "." : cl.directory.c_str(), resolved)) {
        std::perror(("cgihttpserver: " + cl.directory).c_str());
        return 1;
    }
    const std::string directory = resolved;
    cgihttp::server_options options;
    options.bind_address = cl.bind;
    options.port = cl.port;
    std::function<void()> reload_tls; // on SIGHUP: a renewed certificate, without a restart
    if (!cl.tls_cert.empty()) {
#if defined(CGIHTTP_ENABLE_TLS) && CGIHTTP_ENABLE_TLS
        try {
            auto tls = cgihttp::tls_context::from_files(cl.tls_cert, cl.tls_key, cl.tls_password);
            reload_tls = [tls, &cl] {
                try {
                    tls->reload_files(cl.tls_cert, cl.tls_key, cl.tls_password);
                    std::fprintf(stderr, "cgihttpserver: TLS certificate and key reloaded\n");
                } catch (const std::system_error& e) {
                    std::fprintf(stderr,
                                 "cgihttpserver: cannot reload the TLS certificate or key, "
                                 "still serving the previous ones: %s\n",
                                 e.what());
                }
            };
            options.tls = std::move(tls);
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "cgihttpserver: cannot load the TLS certificate or key: %s\n",
                         e.what());
            return 1;
        }
#else
        std::fprintf(stderr, "cgihttpserver: this build has no HTTPS: install libssl-dev and "
                             "rebuild (CMake option CGIHTTP_TLS)\n");
        return 1;
#endif
    }
    const char* protocol = options.tls ? "HTTPS" : "HTTP";
    try {
        cgihttp::server<demo_handler> server(options, [&] {
            demo_handler handler;
            handler.protocol_version = cl.protocol;
            handler.directory = directory;
            handler.quiet = cl.quiet;
            return handler;
        });
        const std::string host = server.local_endpoint().address().to_string();
        const std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
        std::printf("Serving %s on %s port %u (%s://%s:%u/) ...\n", protocol, host.c_str(),
                    server.server_port(), server.info().scheme.c_str(), url_host.c_str(),
                    server.server_port());
        std::fflush(stdout);

        asio::signal_set signals(server.context(), SIGINT, SIGTERM);
        if (reload_tls) signals.add(SIGHUP);
        std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int signal) {
            if (ec) return;
            if (signal == SIGHUP) {
                reload_tls();
                signals.async_wait(on_signal);
                return;
            }
            if (signal == SIGINT) std::printf("\nKeyboard interrupt received, exiting.\n");
            std::fflush(stdout);
            server.shutdown();
        };
        signals.async_wait(on_signal);
        server.serve_forever();
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "cgihttpserver: cannot serve on %s port %u: %s\n",
                     cl.bind.empty() ? "all interfaces" : cl.bind.c_str(), cl.port,
                     e.code().message().c_str());
        return 1;
    }
    return 0;
}
