// Unit tests of cgihttp/headers.hpp: the case-insensitive, ordered multimap of header fields
// (Python's http.client.HTTPMessage as handlers use it).
#include <cgihttp/headers.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

std::vector<std::pair<std::string, std::string>> items_of(const cgihttp::headers& h) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const cgihttp::header_field& f : h)
        out.emplace_back(f.name, f.value);
    return out;
}

using item_list = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_SUITE("headers") {

    TEST_CASE("A new headers object is empty") {
        const cgihttp::headers h;
        CHECK(h.empty());
        CHECK(h.size() == 0);
        CHECK(h.begin() == h.end());
        CHECK_FALSE(h.get("Host").has_value());
        CHECK_FALSE(h.contains("Host"));
        CHECK(h.get_all("Host").empty());
        CHECK(h.count("Host") == 0);
    }

    TEST_CASE("get finds a field whatever the case of its name") {
        cgihttp::headers h;
        h.add("Content-Type", "text/plain");
        CHECK(h.get("Content-Type") == std::optional<std::string_view>("text/plain"));
        CHECK(h.get("content-type") == std::optional<std::string_view>("text/plain"));
        CHECK(h.get("CONTENT-TYPE") == std::optional<std::string_view>("text/plain"));
        CHECK_FALSE(h.get("Content-Typ").has_value());
        CHECK_FALSE(h.get("Content-Type ").has_value());
        CHECK(h.contains("cOnTeNt-TyPe"));
        CHECK(h["content-type"] == std::optional<std::string_view>("text/plain"));
        CHECK_FALSE(h["Accept"].has_value());
    }

    TEST_CASE("get with a fallback returns the fallback only when the field is absent") {
        cgihttp::headers h;
        h.add("Empty", "");
        CHECK(h.get("Missing", "default") == "default");
        CHECK(h.get("Empty", "default") == "");
    }

    TEST_CASE("Repeated fields are kept in arrival order") {
        cgihttp::headers h;
        h.add("Accept", "text/html");
        h.add("Host", "example.com");
        h.add("accept", "text/plain");
        h.add("ACCEPT", "*/*");
        CHECK(h.size() == 4);
        CHECK(h.get("Accept") == std::optional<std::string_view>("text/html"));
        CHECK(h.get_all("Accept") ==
              std::vector<std::string_view>{"text/html", "text/plain", "*/*"});
        CHECK(h.count("accept") == 3);
        CHECK(h.count("host") == 1);
        // items() keeps names as received.
        CHECK(items_of(h) == item_list{{"Accept", "text/html"},
                                       {"Host", "example.com"},
                                       {"accept", "text/plain"},
                                       {"ACCEPT", "*/*"}});
        REQUIRE(h.items().size() == 4);
        CHECK(h.items()[2].name == "accept");
    }

    TEST_CASE("remove deletes every field of a name and keeps the others in order") {
        cgihttp::headers h;
        h.add("A", "1");
        h.add("B", "2");
        h.add("a", "3");
        h.add("C", "4");
        h.remove("A");
        CHECK(items_of(h) == item_list{{"B", "2"}, {"C", "4"}});
        h.remove("missing");
        CHECK(h.size() == 2);
        // Fields added after a removal are found as usual.
        h.add("A", "5");
        CHECK(h.get("a") == std::optional<std::string_view>("5"));
    }

    TEST_CASE("clear removes all fields and the object can be reused") {
        cgihttp::headers h;
        h.add("A", "1");
        h.add("B", "2");
        h.clear();
        CHECK(h.empty());
        CHECK_FALSE(h.contains("A"));
        h.add("C", "3");
        CHECK(items_of(h) == item_list{{"C", "3"}});
    }

    TEST_CASE("add copies name and value") {
        cgihttp::headers h;
        std::string name = "X-Name";
        std::string value = "original value that is long enough to live on the heap";
        h.add(name, value);
        name.assign("Changed");
        value.assign("changed");
        CHECK(h.get("X-Name") == std::optional<std::string_view>(
                                     "original value that is long enough to live on the heap"));
        CHECK_FALSE(h.contains("Changed"));
    }

    TEST_CASE("Fields added with add stay valid as more fields are added") {
        cgihttp::headers h;
        for (int i = 0; i < 1000; ++i)
            h.add("X-" + std::to_string(i), "v" + std::to_string(i));
        CHECK(h.size() == 1000);
        CHECK(h.get("x-0") == std::optional<std::string_view>("v0"));
        CHECK(h.get("X-500") == std::optional<std::string_view>("v500"));
        CHECK(h.get("X-999") == std::optional<std::string_view>("v999"));
    }

    TEST_CASE("A copy of a headers object is independent of the original") {
        auto original = std::make_unique<cgihttp::headers>();
        original->add("Name", "value");
        original->add("A", "b"); // short text: kept inline by std::string
        const cgihttp::headers copy = *original;
        cgihttp::headers assigned;
        assigned = *original;
        original->clear();
        original->add("Other", "xxxxx");
        original.reset();
        CHECK(items_of(copy) == item_list{{"Name", "value"}, {"A", "b"}});
        CHECK(items_of(assigned) == item_list{{"Name", "value"}, {"A", "b"}});
    }

    TEST_CASE("A moved headers object keeps its fields, and short ones too") {
        cgihttp::headers original;
        original.add("A", "b");
        cgihttp::headers moved = std::move(original);
        CHECK(items_of(moved) == item_list{{"A", "b"}});
        cgihttp::headers target;
        target.add("X", "y");
        target = std::move(moved);
        CHECK(items_of(target) == item_list{{"A", "b"}});
    }

} // TEST_SUITE
