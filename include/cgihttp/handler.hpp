// cgihttp/handler.hpp - the front door: the request handlers and the default server loop.
// Python counterpart: the http.server module (BaseHTTPServer, SimpleHTTPServer and
// CGIHTTPServer in Python 2).
#pragma once

#include "base_request_handler.hpp"
#include "cgi_request_handler.hpp"
#include "server.hpp"
#include "simple_request_handler.hpp"

// HTTPS when the build has OpenSSL (the CMake target defines this; see README, "HTTPS").
#if defined(CGIHTTP_ENABLE_TLS) && CGIHTTP_ENABLE_TLS
#include "tls.hpp"
#endif
