// Encoding must not allocate per row once the encoder and the reused item have warmed up.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TARIUS_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TARIUS_ASAN_BUILD 1
#endif
#endif

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

// The sanitizer owns the allocation functions (and shared libraries bind to its versions), so counting is
// done in ordinary builds only.
#ifndef TARIUS_ASAN_BUILD

// Counting replacements of the global allocation functions (this test executable only). GCC cannot see that
// the replaced operator new returns malloc'ed memory, so its mismatch warning is a false positive here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* ptr = std::malloc(size == 0 ? 1 : size)) return ptr;
    throw std::bad_alloc();
}
void operator delete(void* ptr) noexcept {
    std::free(ptr);
}
void operator delete(void* ptr, size_t) noexcept {
    std::free(ptr);
}
#endif

namespace {

using namespace tarius::mapping;

TEST(mapping_alloc, steady_state_encode_does_not_allocate) {
#ifdef TARIUS_ASAN_BUILD
    GTEST_SKIP() << "allocation counting needs the ordinary allocator";
#endif
    mapping m;
    auto add = [&](const char* column, value_type type, bool currency = false,
                   empty_policy empty = empty_policy::OMIT) {
        column_rule rule;
        rule.column = column;
        rule.type = type;
        rule.currency = currency;
        rule.empty = empty;
        m.columns.push_back(rule);
    };
    add("Price", value_type::NUMBER, true);
    add("InStock", value_type::BOOL);
    add("Meta", value_type::JSON);
    add("Tags", value_type::STRING_SET);
    add("Sizes", value_type::NUMBER_SET);
    add("Parts", value_type::LIST);
    add("Guess", value_type::AUTO);
    add("Seen", value_type::TIMESTAMP, false, empty_policy::REMOVE);
    add("Color", value_type::STRING, false, empty_policy::REMOVE);
    const std::vector<std::string> header{"ID",    "Title", "Price", "InStock", "Meta", "Tags",
                                          "Sizes", "Parts", "Guess", "Seen",    "Color"};
    const key_schema keys{key_attribute{"ID", key_type::S}, std::nullopt};
    auto encoder = item_encoder::bind(m, keys, header);
    ASSERT_TRUE(encoder.has_value());

    const std::vector<std::vector<std::string>> rows{
        {"A1", "Widget \"deluxe\"", "$1,299.00", "yes", R"({"a":[1,2.50,{"b":null}],"c":"x"})", "a,b,a", "1,2,01",
         "x,y", "12.5", "2026-03-14T15:09:26.5+02:00", "red"},
        {"A2", " padded ", "€5", "0", "[true,false]", "z", "3e2, 300", "q", "true", "", ""},
        {"A3", "", "-$0.10", "N", R"("text")", "", "", "", "0012", "2026-03-14", ""},
    };
    std::vector<std::vector<std::string_view>> views;
    for (const auto& row : rows) views.emplace_back(row.begin(), row.end());
    const std::vector<uint8_t> quoted(header.size(), 0);
    encoded_item item;
    tarius::row_problem problem;
    auto encode_all = [&] {
        for (const auto& fields : views) {
            tarius::csv::row r;
            r.fields = fields;
            r.quoted = quoted;
            ASSERT_TRUE(encoder->encode(r, item, problem)) << problem.message;
        }
    };
    const size_t cold = g_allocations.load();
    encode_all();  // warm-up: buffers grow to their working size, which the counter must see
    EXPECT_GT(g_allocations.load(), cold);
    encode_all();
    const size_t before = g_allocations.load();
    for (int round = 0; round < 100; ++round) encode_all();
    EXPECT_EQ(g_allocations.load() - before, 0U);
}

}  // namespace
