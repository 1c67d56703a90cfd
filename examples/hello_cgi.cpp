// hello_cgi.cpp - a CGI program in C++ (any executable can be one): reads its request from
// the environment, writes a header block and a page. Built into examples/www/cgi-bin/.
#include <cgihttp/html.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
std::string escape(const char* text) {
    return cgihttp::html_escape(text ? text : "");
}
} // namespace

int main() {
    std::printf("Content-Type: text/html; charset=utf-8\r\n\r\n"
                "<!DOCTYPE html>\n<title>Hello from C++</title>\n<h1>Hello from C++</h1>\n"
                "<p>A compiled CGI program answered a <code>%s</code> of <code>%s</code> "
                "with the query <code>%s</code>.</p>\n<p><a href=\"/\">back</a></p>\n",
                escape(std::getenv("REQUEST_METHOD")).c_str(),
                escape(std::getenv("SCRIPT_NAME")).c_str(),
                escape(std::getenv("QUERY_STRING")).c_str());
    return 0;
}
