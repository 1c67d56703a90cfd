// cgihttp/detail/method_dispatch.hpp - calling Derived::do_<METHOD>() for a request method.
// Python counterpart: getattr(self, 'do_' + self.command) in handle_one_request().
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>

namespace cgihttp {

/// One entry of a handler's `extra_methods()`: a method name and the member that serves it,
/// for methods outside the standard list (Python's tests use do_TEST, do_CUSTOM, ...).
template <class Handler>
struct method_entry {
    std::string_view name;
    void (Handler::*handler)();
};

namespace detail {

// One detector per standard method: call() invokes h.do_NAME() when Handler has a public
// do_NAME, and reports false otherwise, so an undefined method costs nothing at run time.
#define CGIHTTP_DETAIL_METHOD(NAME)                                                                \
    struct method_##NAME {                                                                         \
        static constexpr std::string_view name = #NAME;                                            \
        template <class H>                                                                         \
        static auto call(H& h, int) -> decltype(h.do_##NAME(), true) {                             \
            h.do_##NAME();                                                                         \
            return true;                                                                           \
        }                                                                                          \
        template <class H>                                                                         \
        static bool call(H&, long) {                                                               \
            return false;                                                                          \
        }                                                                                          \
    };
// RFC 9110 and RFC 5789, then WebDAV (RFC 4918).
CGIHTTP_DETAIL_METHOD(GET)
CGIHTTP_DETAIL_METHOD(HEAD)
CGIHTTP_DETAIL_METHOD(POST)
CGIHTTP_DETAIL_METHOD(PUT)
CGIHTTP_DETAIL_METHOD(DELETE)
CGIHTTP_DETAIL_METHOD(CONNECT)
CGIHTTP_DETAIL_METHOD(OPTIONS)
CGIHTTP_DETAIL_METHOD(TRACE)
CGIHTTP_DETAIL_METHOD(PATCH)
CGIHTTP_DETAIL_METHOD(PROPFIND)
CGIHTTP_DETAIL_METHOD(PROPPATCH)
CGIHTTP_DETAIL_METHOD(MKCOL)
CGIHTTP_DETAIL_METHOD(COPY)
CGIHTTP_DETAIL_METHOD(MOVE)
CGIHTTP_DETAIL_METHOD(LOCK)
CGIHTTP_DETAIL_METHOD(UNLOCK)
#undef CGIHTTP_DETAIL_METHOD

template <class H, class = void>
struct has_extra_methods : std::false_type {};
template <class H>
struct has_extra_methods<H, std::void_t<decltype(H::extra_methods())>> : std::true_type {};

template <class H, class... Methods>
bool dispatch_standard(H& handler, std::string_view command, bool& found) {
    bool called = false;
    (void)((command == Methods::name && (found = true, called = Methods::call(handler, 0), true)) ||
           ...);
    return called;
}

/// Calls the handler's do_<command>(); false when it has none for this command. Standard
/// methods are found by name at compile time, others through H::extra_methods().
template <class H>
bool dispatch_method(H& handler, std::string_view command) {
    bool found = false;
    const bool called =
        dispatch_standard<H, method_GET, method_HEAD, method_POST, method_PUT, method_DELETE,
                          method_CONNECT, method_OPTIONS, method_TRACE, method_PATCH,
                          method_PROPFIND, method_PROPPATCH, method_MKCOL, method_COPY, method_MOVE,
                          method_LOCK, method_UNLOCK>(handler, command, found);
    if (found) return called;
    if constexpr (has_extra_methods<H>::value) {
        for (const auto& entry : H::extra_methods()) {
            if (entry.name == command) {
                (handler.*entry.handler)();
                return true;
            }
        }
    }
    return false;
}

} // namespace detail
} // namespace cgihttp
