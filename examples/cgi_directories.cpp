// cgi_directories.cpp - subclassing the CGI handler: its own CGI directories (as a static
// member, Python's class attribute), a translate_path() that maps /static/ elsewhere, and
// an interpreter for .py scripts that are not executable.
//     cgi_directories ROOT [PORT]            serves ROOT; /sub/dir/cgi-bin runs scripts too
//     cgi_directories ROOT PORT --scripts    only /scripts runs scripts (computed list)
#include <cgihttp/handler.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

struct site_handler : cgihttp::CGIRequestHandler<site_handler> {
    static constexpr std::string_view protocol_version = "HTTP/1.1";

    /// Python: cgi_directories = ['/cgi-bin', '/htbin', '/sub/dir/cgi-bin']
    static inline const std::vector<std::string> cgi_directories = {"/cgi-bin", "/htbin",
                                                                    "/sub/dir/cgi-bin"};
    /// lighttpd's cgi.assign: .py files run through python3 even if not executable. (An
    /// absolute path: a bare name is looked up in the server's PATH, which the script user
    /// may not be able to reach.)
    static inline const std::unordered_map<std::string, std::string> cgi_interpreters = {
        {".py", "/usr/bin/python3"}};

    /// /static/... is served from ROOT/assets/...; everything else as usual.
    std::string translate_path(std::string_view url) {
        constexpr std::string_view prefix = "/static/";
        if (url.substr(0, prefix.size()) == prefix)
            return CGIRequestHandler::translate_path("/assets/" +
                                                     std::string(url.substr(prefix.size())));
        return CGIRequestHandler::translate_path(url);
    }
};

/// The same list given by a member function instead, computed at run time.
struct computed_handler : cgihttp::CGIRequestHandler<computed_handler> {
    std::vector<std::string> cgi_directories() const { return {"/scripts"}; }
};

template <class Handler>
int serve(const std::string& root, unsigned short port) {
    cgihttp::server_options options;
    options.bind_address = "127.0.0.1";
    options.port = port;
    cgihttp::server<Handler> server(options, [&] {
        Handler handler;
        handler.directory = root;
        return handler;
    });
    std::printf("cgi_directories on port %u\n", server.server_port());
    std::fflush(stdout);
    server.serve_forever();
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s ROOT [PORT [--scripts]]\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<unsigned short>(argc > 2 ? std::atoi(argv[2]) : 8000);
    if (argc > 3 && std::string(argv[3]) == "--scripts")
        return serve<computed_handler>(argv[1], port);
    return serve<site_handler>(argv[1], port);
}
