// hello_cgi.cpp - a CGI program in C++ (any executable can be one): reads its request from
// the environment, writes a header block and a page. Built into examples/www/cgi-bin/.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
std::string escape(const char* text) {
    std::string out;
    for (const char* p = text ? text : ""; *p; ++p) {
        switch (*p) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += *p;
        }
    }
    return out;
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
