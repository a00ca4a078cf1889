// Shortening text without splitting a UTF-8 character.

#include "tarius/text.hpp"

#include <gtest/gtest.h>

namespace {

TEST(text, utf8_prefix_never_splits_a_character) {
    const struct {
        const char* text;
        size_t max;
        const char* expected;
    } cases[] = {
        {"abc", 10, "abc"},
        {"abc", 2, "ab"},
        {"abc", 0, ""},
        {"a\xC3\xA9", 2, "a"},  // é is two bytes: cut before it
        {"a\xC3\xA9", 3, "a\xC3\xA9"},
        {"\xE2\x82\xAC\xE2\x82\xAC", 4, "\xE2\x82\xAC"},  // € is three bytes
        {"\xF0\x9F\x98\x80x", 3, ""},                     // a four-byte character
        {"\xF0\x9F\x98\x80x", 4, "\xF0\x9F\x98\x80"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(tarius::utf8_prefix(c.text, c.max), c.expected) << c.text << " / " << c.max;
    }
}

}  // namespace
