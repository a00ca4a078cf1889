// The UTF-8 validator against a table of valid and invalid sequences (Unicode 15 table 3-7, "Well-Formed UTF-8
// Byte Sequences"), with the expected offset of the first bad byte.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tarius/csv.hpp"

namespace tarius::csv {
namespace {

constexpr size_t NPOS = std::string_view::npos;

TEST(csv_utf8, table_of_sequences) {
    const std::vector<std::pair<std::string_view, size_t>> cases = {
        {"", NPOS},
        {"plain ascii", NPOS},
        {std::string_view("\0", 1), NPOS},
        {"\x7F", NPOS},
        {"\xC2\x80", NPOS},          // U+0080, smallest 2-byte
        {"\xDF\xBF", NPOS},          // U+07FF
        {"\xE0\xA0\x80", NPOS},      // U+0800, smallest 3-byte
        {"\xED\x9F\xBF", NPOS},      // U+D7FF, just below the surrogates
        {"\xEE\x80\x80", NPOS},      // U+E000, just above them
        {"\xEF\xBF\xBF", NPOS},      // U+FFFF
        {"\xF0\x90\x80\x80", NPOS},  // U+10000, smallest 4-byte
        {"\xF4\x8F\xBF\xBF", NPOS},  // U+10FFFF, the largest code point
        {"caf\xC3\xA9 \xF0\x9F\x98\x80", NPOS},
        {"\x80", 0},  // lone continuation byte
        {"ab\xBF", 2},
        {"\xC0\x80", 0},          // overlong NUL
        {"\xC1\xBF", 0},          // overlong
        {"a\xE0\x80\xAF", 1},     // overlong '/'
        {"ab\xE0\x9F\xBF", 2},    // overlong U+07FF
        {"\xF0\x8F\xBF\xBF", 0},  // overlong U+FFFF
        {"xy\xED\xA0\x80", 2},    // U+D800 surrogate
        {"\xED\xBF\xBF", 0},      // U+DFFF surrogate
        {"\xF4\x90\x80\x80", 0},  // U+110000
        {"\xF5\x80\x80\x80", 0},
        {"\xF8\x88\x80\x80\x80", 0},  // 5-byte form
        {"\xFE", 0},
        {"\xFF", 0},
        {"abc\xC3", 3},  // truncated at the end
        {"abc\xE2\x82", 3},
        {"abc\xF0\x9F\x98", 3},
        {"\xC3(", 0},  // bad continuation
        {"\xE2\x28\xA1", 0},
        {"\xF0\x9F\x98(", 0},
        {"ok\xC3\xA9\xC3", 4},
    };
    for (const auto& [text, expected] : cases) {
        EXPECT_EQ(find_invalid_utf8(text), expected) << "case of " << text.size() << " bytes";
    }
}

TEST(csv_utf8, long_inputs_use_the_fast_path_and_still_locate) {
    // Errors deep inside long text (past simdjson's 64-byte blocks), and every position of one bad byte.
    std::string text(1000, 'a');
    EXPECT_EQ(find_invalid_utf8(text), NPOS);
    for (size_t pos = 0; pos < text.size(); pos += 37) {
        std::string bad = text;
        bad[pos] = '\xFF';
        EXPECT_EQ(find_invalid_utf8(bad), pos);
        std::string truncated = text.substr(0, pos) + "\xE2\x82";
        EXPECT_EQ(find_invalid_utf8(truncated), pos);
    }
    std::string emoji;
    for (int rep = 0; rep < 300; ++rep) emoji += "\xF0\x9F\x98\x80";
    EXPECT_EQ(find_invalid_utf8(emoji), NPOS);
    emoji[601] = 'x';  // breaks the sequence starting at 600
    EXPECT_EQ(find_invalid_utf8(emoji), 600U);
}

}  // namespace
}  // namespace tarius::csv
