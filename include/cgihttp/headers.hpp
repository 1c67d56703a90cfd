// cgihttp/headers.hpp - the request's header fields: a case-insensitive multimap kept in
// arrival order. Python counterpart: http.client.HTTPMessage (email.message.Message).
#pragma once

#include "detail/strings.hpp"

#include <cstddef>
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
/// The object owns the text of its fields: copies and moves are independent, and views
/// obtained from it stay valid until it is changed.
class headers {
public:
    using const_iterator = std::vector<header_field>::const_iterator;

    headers() = default;
    headers(const headers& other) : text_(other.text_), spans_(other.spans_) { rebuild(); }
    headers(headers&& other) noexcept
        : text_(std::move(other.text_)), spans_(std::move(other.spans_)) {
        rebuild();
        other.clear();
    }
    headers& operator=(const headers& other) {
        if (this != &other) {
            text_ = other.text_;
            spans_ = other.spans_;
            rebuild();
        }
        return *this;
    }
    headers& operator=(headers&& other) noexcept {
        if (this != &other) {
            text_ = std::move(other.text_);
            spans_ = std::move(other.spans_);
            rebuild();
            other.clear();
        }
        return *this;
    }

    /// Removes all fields, keeping the allocated capacity for the next request.
    void clear() noexcept {
        text_.clear();
        spans_.clear();
        fields_.clear();
    }

    /// Makes room for fields totalling `bytes` of text, so adding them allocates once.
    void reserve(std::size_t bytes) { text_.reserve(text_.size() + bytes); }

    /// Appends a field, copying name and value.
    void add(std::string_view name, std::string_view value) {
        const char* before = text_.data();
        const span sp{text_.size(), name.size(), text_.size() + name.size(), value.size()};
        text_.append(name);
        text_.append(value);
        spans_.push_back(sp);
        if (text_.data() != before)
            rebuild();
        else
            fields_.push_back(view(sp));
    }

    /// Removes every field with this name; Python's `del msg[name]`.
    void remove(std::string_view name) {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < spans_.size(); ++i)
            if (!detail::iequals(fields_[i].name, name)) spans_[kept++] = spans_[i];
        spans_.resize(kept);
        rebuild();
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
    /// Where a field's name and value lie in text_: the source of truth, as views move
    /// whenever text_ does.
    struct span {
        std::size_t name_offset, name_size, value_offset, value_size;
    };

    header_field view(const span& sp) const noexcept {
        const std::string_view text = text_;
        return {text.substr(sp.name_offset, sp.name_size),
                text.substr(sp.value_offset, sp.value_size)};
    }

    void rebuild() {
        fields_.clear();
        for (const span& sp : spans_)
            fields_.push_back(view(sp));
    }

    std::string text_;
    std::vector<span> spans_;
    std::vector<header_field> fields_;
};

} // namespace cgihttp
