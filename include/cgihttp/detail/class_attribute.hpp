// cgihttp/detail/class_attribute.hpp - reading a Python-style class attribute that a
// derived handler may redefine as a static member, a data member or a member function.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace cgihttp::detail {

/// The value behind `&Derived::name`, whatever kind of member `name` is in Derived:
///     static constexpr std::string_view name = "...";    (class attribute)
///     std::string_view name = "...";                      (instance attribute)
///     std::string_view name() const { return "..."; }     (computed)
///     static std::string_view name() { return "..."; }    (computed, static)
template <class Self, class Member>
decltype(auto) class_attribute(Self& self, Member member) {
    if constexpr (std::is_member_function_pointer_v<Member>)
        return (self.*member)();
    else if constexpr (std::is_member_object_pointer_v<Member>)
        return (self.*member);
    else if constexpr (std::is_function_v<std::remove_pointer_t<Member>>)
        return member();
    else
        return (*member);
}

/// A string attribute as a view; a function form must not return std::string by value, as
/// the view would outlive it.
template <class Self, class Member>
std::string_view string_attribute(Self& self, Member member) {
    using result = decltype(class_attribute(self, member));
    static_assert(std::is_reference_v<result> ||
                      !std::is_same_v<std::remove_cv_t<result>, std::string>,
                  "a string attribute function must return std::string_view or a reference");
    return class_attribute(self, member);
}

} // namespace cgihttp::detail
