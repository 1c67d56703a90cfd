// cgihttp/handler.hpp - the front door: the request handlers and the default server loop.
// Python counterpart: the http.server module (BaseHTTPServer, SimpleHTTPServer and
// CGIHTTPServer in Python 2).
#pragma once

#include "base_request_handler.hpp"
#include "cgi_request_handler.hpp"
#include "server.hpp"
#include "simple_request_handler.hpp"
