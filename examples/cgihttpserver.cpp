// cgihttpserver.cpp - the demo server, with the command line of `python3 -m http.server`:
//     cgihttpserver [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]
// It stands in for Python's http.server.test().
#include <cgihttp/handler.hpp>

#include <asio/signal_set.hpp>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <stdlib.h>

namespace {

constexpr const char* usage =
    "usage: cgihttpserver [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [-q] [port]\n";

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
  -q, --quiet           do not write the access log (errors are still logged)
)";

struct command_line {
    bool cgi = false;
    std::string bind;
    std::string directory;
    std::string protocol = "HTTP/1.0";
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
    const auto take_value = [&](int& i, std::string_view arg, std::string_view shortname,
                                std::string_view longname) -> std::optional<std::string> {
        const std::string flags = std::string(shortname) + "/" + std::string(longname);
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
        std::printf("Serving HTTP on %s port %u (http://%s:%u/) ...\n", host.c_str(),
                    server.server_port(), url_host.c_str(), server.server_port());
        std::fflush(stdout);

        asio::signal_set signals(server.context(), SIGINT, SIGTERM);
        signals.async_wait([&](std::error_code ec, int signal) {
            if (ec) return;
            if (signal == SIGINT) std::printf("\nKeyboard interrupt received, exiting.\n");
            std::fflush(stdout);
            server.shutdown();
        });
        server.serve_forever();
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "cgihttpserver: cannot serve on %s port %u: %s\n",
                     cl.bind.empty() ? "all interfaces" : cl.bind.c_str(), cl.port,
                     e.code().message().c_str());
        return 1;
    }
    return 0;
}
