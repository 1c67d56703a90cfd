// cgihttp/headers.hpp - the request's header fields: a case-insensitive multimap kept in
// arrival order. Python counterpart: http.client.HTTPMessage (email.message.Message).
#pragma once

#include "detail/strings.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cgihttp {

/// One header field as received: name and value with surrounding whitespace removed.
struct header_field {
    std::string_view name;
    std::string_view value;
};

/// Header fields in arrival order; repeated fields are all kept (CGI joins some of them).
/// Fields refer to storage owned by this object, so views stay valid until clear().
class headers {
public:
    using const_iterator = std::vector<header_field>::const_iterator;

    /// Removes all fields, keeping the allocated capacity for the next request.
    void clear() noexcept {
        fields_.clear();
        owned_.clear();
    }

    /// Replaces the backing text of fields added with add_view() (the request head).
    std::string& storage() noexcept { return head_; }

    /// Appends a field whose name and value point into storage() or other stable memory.
    void add_view(std::string_view name, std::string_view value) {
        fields_.push_back({name, value});
    }

    /// Appends a field, copying name and value (for fields built by a handler).
    void add(std::string_view name, std::string_view value) {
        const std::string& n = owned_.emplace_back(name);
        const std::string& v = owned_.emplace_back(value);
        fields_.push_back({n, v});
    }

    /// Removes every field with this name; Python's `del msg[name]`.
    void remove(std::string_view name) {
        std::size_t kept = 0;
        for (const header_field& f : fields_)
            if (!detail::iequals(f.name, name)) fields_[kept++] = f;
        fields_.resize(kept);
    }

    /// The first value of the field, or nullopt; Python's `msg.get(name)`.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const header_field& f : fields_)
            if (detail::iequals(f.name, name)) return f.value;
        return std::nullopt;
    }

    /// The first value of the field, or `fallback`; Python's `msg.get(name, failobj)`.
    std::string_view get(std::string_view name, std::string_view fallback) const noexcept {
        return get(name).value_or(fallback);
    }

    /// Same as get(name); Python's `msg[name]` (which gives None when absent).
    std::optional<std::string_view> operator[](std::string_view name) const noexcept {
        return get(name);
    }

    /// Every value of the field in arrival order; Python's `msg.get_all(name)`.
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> values;
        for (const header_field& f : fields_)
            if (detail::iequals(f.name, name)) values.push_back(f.value);
        return values;
    }

    /// How many fields carry this name.
    std::size_t count(std::string_view name) const noexcept {
        std::size_t n = 0;
        for (const header_field& f : fields_)
            n += detail::iequals(f.name, name) ? 1 : 0;
        return n;
    }

    /// True when at least one field carries this name; Python's `name in msg`.
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    /// All fields in arrival order; Python's `msg.items()`.
    const std::vector<header_field>& items() const noexcept { return fields_; }

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

private:
    std::string head_;
    std::deque<std::string> owned_;
    std::vector<header_field> fields_;
};

} // namespace cgihttp
