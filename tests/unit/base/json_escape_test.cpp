// JSON string escaping: the wide fast paths (copy_unescaped, write_escaped, append_escaped) against a plain
// byte-at-a-time reference, for every byte value at every position of strings of 1..40 bytes, and without
// reading or writing outside the given spans.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "json/writer.hpp"

namespace {

// RFC 8259 escaping, one byte at a time: the obviously right version.
std::string reference_escape(std::string_view text) {
    std::string out;
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
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

size_t reference_clean_prefix(std::string_view text) {
    size_t idx = 0;
    while (idx < text.size()) {
        const auto byte = static_cast<unsigned char>(text[idx]);
        if (byte < 0x20 || byte == '"' || byte == '\\') break;
        ++idx;
    }
    return idx;
}

std::string via_write_escaped(std::string_view text) {
    std::string buf(text.size() * tarius::json::MAX_ESCAPED_BYTES, '\0');
    char* end = tarius::json::write_escaped(buf.data(), text.data(), text.size());
    buf.resize(static_cast<size_t>(end - buf.data()));
    return buf;
}

std::string via_append_escaped(std::string_view text) {
    std::string out = "prefix:";
    tarius::json::append_escaped(out, text);
    return out.substr(7);
}

// Checks all three entry points on one input.
void check(const std::string& text, const std::string& what) {
    const std::string expected = reference_escape(text);
    ASSERT_EQ(via_write_escaped(text), expected) << what;
    ASSERT_EQ(via_append_escaped(text), expected) << what;
    std::vector<char> dst(text.size() + 2, '#');
    const size_t clean = tarius::json::copy_unescaped(dst.data() + 1, text.data(), text.size());
    ASSERT_EQ(clean, reference_clean_prefix(text)) << what;
    ASSERT_EQ(std::string(dst.data() + 1, clean), text.substr(0, clean)) << what;
    ASSERT_EQ(dst.front(), '#') << what;  // nothing written before dst
    ASSERT_EQ(dst.back(), '#') << what;   // nor after dst + len
}

TEST(json_escape, every_byte_at_every_position_of_short_strings) {
    for (size_t len = 1; len <= 40; ++len) {
        const std::string base(len, 'a');
        for (size_t pos = 0; pos < len; ++pos) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string text = base;
                text[pos] = static_cast<char>(byte);
                check(text,
                      "len " + std::to_string(len) + " pos " + std::to_string(pos) + " byte " + std::to_string(byte));
            }
        }
    }
}

TEST(json_escape, two_special_bytes_and_multibyte_text) {
    // Every pair of positions holding one escapable byte each, among UTF-8 multibyte text (bytes >= 0x80
    // are never escaped: the SWAR and SIMD compares must treat them as unsigned).
    const char* specials = "\"\\\n\x01\x1f";
    for (size_t len = 2; len <= 40; ++len) {
        std::string base;
        while (base.size() < len) base += "\xc3\xa9";  // é
        base.resize(len);
        for (size_t first = 0; first < len; ++first) {
            for (size_t second = first + 1; second < len; ++second) {
                std::string text = base;
                text[first] = specials[first % 5];
                text[second] = specials[second % 5];
                check(text,
                      "len " + std::to_string(len) + " at " + std::to_string(first) + "," + std::to_string(second));
            }
        }
    }
}

TEST(json_escape, literal_cases) {
    const struct {
        std::string in;
        std::string out;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"C:\\dir\\", "C:\\\\dir\\\\"},
        {"a\nb\r\nc\td", "a\\nb\\r\\nc\\td"},
        {std::string("\0", 1), "\\u0000"},
        {"\x1b[0m", "\\u001b[0m"},
        {"\x7f", "\x7f"},
        {"\b\f", "\\b\\f"},
        {"€ ünïcödé 日本", "€ ünïcödé 日本"},
        {std::string(100, 'x') + "\"", std::string(100, 'x') + "\\\""},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(via_write_escaped(c.in), c.out) << c.in;
        EXPECT_EQ(via_append_escaped(c.in), c.out) << c.in;
        EXPECT_EQ(reference_escape(c.in), c.out) << c.in;
    }
}

TEST(json_escape, long_strings_with_sparse_escapes) {
    for (size_t len : {size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{4097}}) {
        std::string text;
        for (size_t idx = 0; idx < len; ++idx) text.push_back(static_cast<char>('a' + idx % 26));
        check(text, "clean " + std::to_string(len));
        for (size_t pos : {size_t{0}, size_t{15}, size_t{16}, len / 2, len - 17, len - 16, len - 1}) {
            std::string dirty = text;
            dirty[pos] = '"';
            check(dirty, "len " + std::to_string(len) + " quote at " + std::to_string(pos));
        }
    }
}

// A span that ends (or starts) at a page boundary next to an inaccessible page: reading past it crashes.
TEST(json_escape, reads_nothing_outside_the_source) {
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* mem = mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    char* base = static_cast<char*>(mem);
    ASSERT_EQ(mprotect(base, page, PROT_NONE), 0);
    ASSERT_EQ(mprotect(base + 2 * page, page, PROT_NONE), 0);
    char* first = base + page;
    char* limit = base + 2 * page;
    std::memset(first, 'z', page);
    std::vector<char> dst(64 * tarius::json::MAX_ESCAPED_BYTES);
    for (size_t len = 0; len <= 40; ++len) {
        for (const bool dirty : {false, true}) {
            char* at_end = limit - len;
            char* at_start = first;
            std::memset(first, 'z', page);
            if (dirty && len > 0) {
                at_end[len - 1] = '"';
                at_start[len - 1] = '"';
            }
            const std::string expected_end = reference_escape(std::string_view(at_end, len));
            const std::string expected_start = reference_escape(std::string_view(at_start, len));
            char* end = tarius::json::write_escaped(dst.data(), at_end, len);
            EXPECT_EQ(std::string(dst.data(), static_cast<size_t>(end - dst.data())), expected_end) << len;
            end = tarius::json::write_escaped(dst.data(), at_start, len);
            EXPECT_EQ(std::string(dst.data(), static_cast<size_t>(end - dst.data())), expected_start) << len;
            std::string appended;
            tarius::json::append_escaped(appended, std::string_view(at_end, len));
            EXPECT_EQ(appended, expected_end) << len;
            appended.clear();
            tarius::json::append_escaped(appended, std::string_view(at_start, len));
            EXPECT_EQ(appended, expected_start) << len;
        }
    }
    munmap(mem, 3 * page);
}

}  // namespace
