// DynamoDB number rules: syntax, range, canonical form (checked against dynalite by test_dynalite_rules.py).
#include "mapping/number.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "json/writer.hpp"
#include "mapping/codec.hpp"
#include "mapping/item_size.hpp"

namespace {

using tarius::mapping::detail::append_canonical_number;
using tarius::mapping::detail::canonical_number_size;
using tarius::mapping::detail::is_canonical_number;

std::string canonical(std::string_view text) {
    std::string out;
    std::string message;
    if (append_canonical_number(text, out, message) == 0) return "ERR " + message;
    return out;
}

TEST(mapping_number, canonical_forms) {
    struct case_t {
        const char* input;
        const char* expected;
    };
    const case_t cases[] = {
        {"0", "0"},
        {"-0", "0"},
        {"+0", "0"},
        {"-0.000", "0"},
        {"0e999999999999", "0"},
        {"00", "0"},
        {"1", "1"},
        {"+5", "5"},
        {"-0012.50", "-12.5"},
        {"1e3", "1000"},
        {"1E3", "1000"},
        {"1e+3", "1000"},
        {"1.5e-3", "0.0015"},
        {"12.345e1", "123.45"},
        {"12.345e2", "1234.5"},
        {"12.345e3", "12345"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"1000.000", "1000"},
        {"0.00100", "0.001"},
        {"123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678"},
        {"9.9999999999999999999999999999999999999E+125",
         "9999999999999999999999999999999999999900000000000000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000"},
        {"100000000000000000000000000000000000000000000000", "100000000000000000000000000000000000000000000000"},
        {"0000000000000000000000000000000000000000000000000012", "12"},
        {"1.00000000000000000000000000000000000000000000000000", "1"},
        // A point with digits on one side only: DynamoDB documents numbers by value, not by spelling (README,
        // "Numbers"); dynalite accepts these too.
        {"5.", "5"},
        {"1.", "1"},
        {"-1.", "-1"},
        {"+5.", "5"},
        {"-1.e3", "-1000"},
        {"1.e-2", "0.01"},
        {"0.", "0"},
        {"-.5e1", "-5"},
    };
    for (const auto& test_case : cases) {
        EXPECT_EQ(canonical(test_case.input), test_case.expected) << test_case.input;
        EXPECT_TRUE(is_canonical_number(test_case.expected)) << test_case.expected;
    }
    // The smallest magnitude, 1E-130, written out.
    const std::string smallest = "0." + std::string(129, '0') + "1";
    EXPECT_EQ(canonical("1E-130"), smallest);
    EXPECT_EQ(canonical("0.1e-129"), smallest);
    EXPECT_EQ(canonical("-1E-130"), "-" + smallest);
    EXPECT_EQ(canonical("1234E-133"), "0." + std::string(129, '0') + "1234");
    EXPECT_TRUE(is_canonical_number("-" + smallest));
}

TEST(mapping_number, rejected_with_reason) {
    struct case_t {
        const char* input;
        const char* expected;
    };
    const case_t cases[] = {
        {"", "ERR empty text is not a number"},
        {"-", "ERR no digits; a number is [+-]digits[.digits][e[+-]digits]"},
        {".", "ERR no digits; a number is [+-]digits[.digits][e[+-]digits]"},
        {"-.", "ERR no digits; a number is [+-]digits[.digits][e[+-]digits]"},
        {"+", "ERR no digits; a number is [+-]digits[.digits][e[+-]digits]"},
        {".e5", "ERR no digits; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1.e", "ERR digits expected in the exponent"},
        {"+-1", "ERR unexpected character '-' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1e5.5", "ERR unexpected character '.' at offset 3; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1e", "ERR digits expected in the exponent"},
        {"1e+", "ERR digits expected in the exponent"},
        {"e5", "ERR unexpected character 'e' at offset 0; a number is [+-]digits[.digits][e[+-]digits]"},
        {" 1", "ERR unexpected character ' ' at offset 0; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1 ", "ERR unexpected character ' ' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1,000", "ERR unexpected character ',' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"0x10", "ERR unexpected character 'x' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"--1", "ERR unexpected character '-' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1\t", "ERR unexpected character '\\x09' at offset 1; a number is [+-]digits[.digits][e[+-]digits]"},
        {"NaN", "ERR unexpected character 'N' at offset 0; a number is [+-]digits[.digits][e[+-]digits]"},
        {"Infinity", "ERR unexpected character 'I' at offset 0; a number is [+-]digits[.digits][e[+-]digits]"},
        {"1.2.3", "ERR unexpected character '.' at offset 3; a number is [+-]digits[.digits][e[+-]digits]"},
        {"12345678901234567890123456789012345678901", "ERR 41 significant digits; DynamoDB keeps at most 38"},
        {"1.234567890123456789012345678901234567891", "ERR 40 significant digits; DynamoDB keeps at most 38"},
        {"123456789012345678901234567890123456789", "ERR 39 significant digits; DynamoDB keeps at most 38"},
        {"1E126",
         "ERR magnitude 1E+126 or more is over DynamoDB's maximum 9.9999999999999999999999999999999999999E+125"},
        {"1e99999999999999999999",
         "ERR magnitude 1E+1000000000 or more is over DynamoDB's maximum "
         "9.9999999999999999999999999999999999999E+125"},
        {"1E-131", "ERR magnitude under 1E-130 is below DynamoDB's minimum 1E-130"},
        {"0.9E-130", "ERR magnitude under 1E-130 is below DynamoDB's minimum 1E-130"},
    };
    for (const auto& test_case : cases) {
        EXPECT_EQ(canonical(test_case.input), test_case.expected) << test_case.input;
        EXPECT_FALSE(is_canonical_number(test_case.input)) << test_case.input;
    }
}

TEST(mapping_number, thirty_eight_digits_is_the_limit) {
    const std::string digits38(38, '7');
    EXPECT_EQ(canonical(digits38), digits38);
    EXPECT_EQ(canonical("-0." + digits38 + "000"), "-0." + digits38);
    EXPECT_EQ(canonical(digits38 + "7"), "ERR 39 significant digits; DynamoDB keeps at most 38");
    // Trailing zeros of an integer are not significant.
    EXPECT_EQ(canonical(digits38 + "0000"), digits38 + "0000");
}

TEST(mapping_number, canonical_detection) {
    const char* canonical_texts[] = {"0", "1", "-1", "12.5", "0.5", "-0.001", "1000"};
    for (const char* text : canonical_texts) EXPECT_TRUE(is_canonical_number(text)) << text;
    const char* others[] = {"-0", "+5", "0012", "1e3", "1.50", ".5", "0.50", "1.0", "00", "", "abc", "1."};
    for (const char* text : others) EXPECT_FALSE(is_canonical_number(text)) << text;
}

TEST(mapping_number, sizes_by_sign_and_digit_pairs) {
    // 1 byte, plus 1 per pair of digits aligned on even powers of ten (so an even count starting at an even
    // exponent takes one pair more), plus 1 when negative; zero takes 1 (docs/dynamodb-numbers.md).
    struct case_t {
        const char* input;
        size_t size;
    };
    const case_t cases[] = {
        {"0", 1},
        {"-0", 1},
        {"-0.000", 1},
        {"5", 2},          // 5
        {"-5", 3},         // 5, negative
        {"12", 2},         // 12
        {"-12", 3},        // 12, negative
        {"1.5", 3},        // 1|50
        {"-1.5", 4},       // 1|50, negative
        {"15", 2},         // 15
        {"0.15", 2},       // .15
        {"0.015", 3},      // .01|50
        {"123", 3},        // 1|23
        {"12.3", 3},       // 12|30
        {"1234", 3},       // 12|34
        {"123.4", 4},      // 1|23|40
        {"-123.4", 5},     // 1|23|40, negative
        {"12345", 4},      // 1|23|45
        {"1000", 2},       // 10: zero pairs are not stored
        {"0.001", 2},      // .00|10: the same
        {"12.5", 3},       // 12|50
        {"1e125", 2},      // 1 at an odd exponent: 10
        {"1E-130", 2},     // 1 at an even exponent: 01
        {"1234E-133", 4},  // 1.234E-130: 1|23|40
        {"-1234E-133", 5},
        {"-1234.5678", 6},                                     // 12|34|56|78, negative
        {"12345678901234567890123456789012345678", 20},        // 38 digits from an odd exponent
        {"-12345678901234567890123456789012345678", 21},       // the same, negative
        {"1.2345678901234567890123456789012345678", 21},       // 38 digits from an even exponent
        {"-1.2345678901234567890123456789012345678", 22},      // the largest number size
        {"1234567890123456789012345678901234567", 20},         // 37 digits: parity of the exponent is moot
        {"9.9999999999999999999999999999999999999E+125", 20},  // the largest number
        {"-9.9999999999999999999999999999999999999E+125", 21},
    };
    for (const auto& test_case : cases) {
        std::string out;
        std::string message;
        EXPECT_EQ(append_canonical_number(test_case.input, out, message), test_case.size) << test_case.input;
        EXPECT_EQ(canonical_number_size(out), test_case.size) << out;
    }
    // Only canonical text has a canonical size.
    for (const char* text : {"+5", "1.50", "1e3", "-0", "", "x"}) EXPECT_EQ(canonical_number_size(text), 0U) << text;
}

TEST(mapping_number, failure_leaves_output_unchanged) {
    std::string out = "prefix";
    std::string message;
    EXPECT_EQ(append_canonical_number("12x", out, message), 0U);
    EXPECT_EQ(out, "prefix");
    EXPECT_EQ(append_canonical_number("12", out, message), 2U);
    EXPECT_EQ(out, "prefix12");
}

TEST(mapping_item_size, documented_rules) {
    using tarius::mapping::detail::dynamodb_item_size;
    struct case_t {
        const char* item;
        size_t size;
    };
    const case_t cases[] = {
        {R"({})", 0},
        {R"({"a":{"S":"xy"}})", 3},
        {R"({"name":{"S":"h\u00e9"}})", 4 + 3},  // é is 2 UTF-8 bytes
        {R"({"n":{"N":"123"}})", 1 + 3},
        {R"({"n":{"N":"-0012.50"}})", 1 + 4},  // -12.5: 12|50, negative
        {R"({"n":{"N":"1.5"}})", 1 + 3},       // 1|50
        {R"({"n":{"N":"-7"}})", 1 + 3},
        {R"({"b":{"B":"AAEC"}})", 1 + 3},
        {R"({"t":{"BOOL":true},"z":{"NULL":true}})", 2 + 2},
        {R"({"l":{"L":[]}})", 1 + 3},
        {R"({"l":{"L":[{"S":"a"},{"NULL":true}]}})", 1 + 3 + 2 + 2},
        {R"({"m":{"M":{}}})", 1 + 3},
        {R"({"m":{"M":{"key":{"S":"v"}}}})", 1 + 3 + 1 + 3 + 1},
        {R"({"s":{"SS":["a","bc"]}})", 1 + 3},
        {R"({"s":{"NS":["1","22","333"]}})", 1 + 2 + 2 + 3},
        {R"({"s":{"NS":["-1","2.2","-33.3"]}})", 1 + 3 + 3 + 4},
        {R"({"l":{"L":[{"N":"-1.5"}]}})", 1 + 3 + 1 + 4},
        {R"({"m":{"M":{"k":{"N":"-1.5"}}}})", 1 + 3 + 1 + 1 + 4},
        {R"({"s":{"BS":["AA==","AAE="]}})", 1 + 3},
    };
    for (const auto& test_case : cases) {
        auto size = dynamodb_item_size(test_case.item);
        ASSERT_TRUE(size.has_value()) << test_case.item << ": " << size.err().message;
        EXPECT_EQ(*size, test_case.size) << test_case.item;
    }
    const char* invalid[] = {
        R"([])",   R"({"a":{"X":"1"}})", R"({"a":{"N":"1x"}})", R"({"a":{"B":"A"}})", R"({"a":{"S":"x","N":"1"}})",
        R"({"a":)"};
    for (const char* item : invalid) EXPECT_FALSE(dynamodb_item_size(item).has_value()) << item;
}

TEST(mapping_codec, base64) {
    using tarius::mapping::detail::base64_decoded_size;
    using tarius::mapping::detail::INVALID_BASE64;
    struct case_t {
        const char* text;
        size_t size;
    };
    const case_t cases[] = {
        {"", 0},
        {"AA==", 1},
        {"AAE=", 2},
        {"AAEC", 3},
        {"aGVsbG8=", 5},
        {"A", INVALID_BASE64},
        {"AB==", INVALID_BASE64},
        {"AAF=", INVALID_BASE64},
        {"AA=A", INVALID_BASE64},
        {"A-_A", INVALID_BASE64},
        {"AAE", INVALID_BASE64},
        {"====", INVALID_BASE64},
    };
    for (const auto& test_case : cases)
        EXPECT_EQ(base64_decoded_size(test_case.text), test_case.size) << test_case.text;
    std::string decoded;
    tarius::mapping::detail::append_base64_decoded("aGVsbG8=", decoded);
    EXPECT_EQ(decoded, "hello");
    std::string encoded;
    tarius::mapping::detail::append_base64("hello", encoded);
    EXPECT_EQ(encoded, "aGVsbG8=");
}

TEST(mapping_codec, hash_spreads_bits) {
    using tarius::mapping::detail::hash64;
    EXPECT_EQ(hash64("abc"), hash64("abc"));
    const std::string_view inputs[] = {
        "",         "a",         "b",
        "ab",       "ba",        "abcdefgh",
        "abcdefgi", "abcdefghi", std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16)};
    for (size_t lhs = 0; lhs < std::size(inputs); ++lhs) {
        for (size_t rhs = lhs + 1; rhs < std::size(inputs); ++rhs) {
            EXPECT_NE(hash64(inputs[lhs]), hash64(inputs[rhs])) << inputs[lhs] << " vs " << inputs[rhs];
        }
    }
    // Flipping one input bit flips about half the output bits.
    size_t total_flips = 0;
    std::string base = "partition-key-0001";
    const uint64_t base_hash = hash64(base);
    for (size_t bit = 0; bit < base.size() * 8; ++bit) {
        std::string flipped = base;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        total_flips += static_cast<size_t>(__builtin_popcountll(hash64(flipped) ^ base_hash));
    }
    const double mean = static_cast<double>(total_flips) / static_cast<double>(base.size() * 8);
    EXPECT_GT(mean, 28.0);
    EXPECT_LT(mean, 36.0);
}

}  // namespace

namespace {

// The word-at-a-time escaper must agree with the plain definition for every byte at every position.
std::string reference_escape(std::string_view text) {
    std::string out;
    for (char ch : text) {
        const auto byte = static_cast<uint8_t>(ch);
        switch (byte) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (byte < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", byte);
                    out += buf;
                } else {
                    out.push_back(ch);
                }
        }
    }
    return out;
}

TEST(mapping_json_escape, literal_cases) {
    struct case_t {
        const char* input;
        const char* expected;
    };
    const case_t cases[] = {
        {"", ""},
        {"plain text longer than eight", "plain text longer than eight"},
        {"a\"b", "a\\\"b"},
        {"12345678\\", "12345678\\\\"},
        {"\x01\x1f\x7f", "\\u0001\\u001f\x7f"},
        {"tab\there\nnew\rline\b\f", "tab\\there\\nnew\\rline\\b\\f"},
        {"h\xc3\xa9llo \xe2\x82\xac", "h\xc3\xa9llo \xe2\x82\xac"},
    };
    for (const auto& test_case : cases) {
        std::string out = "[";
        tarius::json::append_escaped(out, test_case.input);
        EXPECT_EQ(out, std::string("[") + test_case.expected) << test_case.input;
    }
}

TEST(mapping_json_escape, every_byte_at_every_offset) {
    for (int byte = 0; byte < 256; ++byte) {
        for (size_t offset = 0; offset < 20; ++offset) {
            std::string text(23, 'x');
            text[offset] = static_cast<char>(byte);
            text[22 - offset % 5] = static_cast<char>(0xff - byte);
            std::string out;
            tarius::json::append_escaped(out, text);
            ASSERT_EQ(out, reference_escape(text)) << "byte " << byte << " at " << offset;
        }
    }
}

}  // namespace
