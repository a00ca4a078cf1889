#include "json/writer.hpp"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tarius::json {
namespace {

// 1 for bytes that need escaping inside a JSON string: controls, '"' and '\'.
constexpr std::array<uint8_t, 256> make_escape_table() {
    std::array<uint8_t, 256> table{};
    for (int byte = 0; byte < 0x20; ++byte) table[static_cast<size_t>(byte)] = 1;
    table['"'] = 1;
    table['\\'] = 1;
    return table;
}
constexpr auto NEEDS_ESCAPE = make_escape_table();

// True when one of the 8 bytes in `word` is a control character, '"' or '\\'. The SWAR tests (bytewise
// "less than" and "equal" via borrow propagation) are exact about whether such a byte exists, which is all
// the fast path needs: a word that may hold one is handled byte by byte.
inline bool word_needs_escape(uint64_t word) noexcept {
    constexpr uint64_t ONES = 0x0101010101010101ULL;
    constexpr uint64_t HIGHS = 0x8080808080808080ULL;
    const uint64_t controls = (word - ONES * 0x20) & ~word;
    const uint64_t quote = word ^ (ONES * '"');
    const uint64_t backslash = word ^ (ONES * '\\');
    const uint64_t quotes = (quote - ONES) & ~quote;
    const uint64_t backslashes = (backslash - ONES) & ~backslash;
    return ((controls | quotes | backslashes) & HIGHS) != 0;
}

void append_escape(std::string& out, uint8_t byte) {
    switch (byte) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default: {
            static constexpr char HEX[] = "0123456789abcdef";
            const char buf[6] = {'\\', 'u', '0', '0', HEX[byte >> 4], HEX[byte & 0xf]};
            out.append(buf, 6);
        }
    }
}

// Index of the first byte of `data[0, size)` that needs escaping, or `size`.
size_t find_escape(const char* data, size_t size) noexcept {
    size_t idx = 0;
#if defined(__SSE2__)
    // 16 bytes per step: most cells hold nothing to escape and leave in one pass and one append.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
    const __m128i control_limit = _mm_set1_epi8(static_cast<char>(0x20 ^ 0x80));  // unsigned < 0x20, biased
    for (; idx + 16 <= size; idx += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + idx));
        const __m128i controls = _mm_cmplt_epi8(_mm_xor_si128(bytes, bias), control_limit);
        const __m128i specials = _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
        const int mask = _mm_movemask_epi8(_mm_or_si128(controls, specials));
        if (mask != 0) return idx + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
#endif
    // Clean 8-byte words, then single bytes.
    while (idx + 8 <= size) {
        uint64_t word;
        std::memcpy(&word, data + idx, sizeof word);
        if (word_needs_escape(word)) break;
        idx += 8;
    }
    for (; idx < size; ++idx) {
        if (NEEDS_ESCAPE[static_cast<uint8_t>(data[idx])] != 0) return idx;
    }
    return size;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
    const char* data = text.data();
    const size_t size = text.size();
    size_t run_start = 0;
    while (run_start < size) {
        const size_t hit = run_start + find_escape(data + run_start, size - run_start);
        out.append(data + run_start, hit - run_start);
        if (hit == size) return;
        append_escape(out, static_cast<uint8_t>(data[hit]));
        run_start = hit + 1;
    }
}

void writer::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (need_comma_) out_.push_back(',');
}

writer& writer::open(char bracket) {
    separate();
    out_.push_back(bracket);
    need_comma_ = false;
    return *this;
}

writer& writer::close(char bracket) {
    out_.push_back(bracket);
    need_comma_ = true;
    return *this;
}

writer& writer::key(std::string_view name) {
    separate();
    append_string(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

writer& writer::value(std::string_view text) {
    separate();
    append_string(out_, text);
    need_comma_ = true;
    return *this;
}

writer& writer::value(bool flag) {
    return raw(flag ? "true" : "false");
}

writer& writer::value(int64_t number) {
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%" PRId64, number);
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::value(uint64_t number) {
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%" PRIu64, number);
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::value(double number) {
    if (!std::isfinite(number)) return null();
    char buf[40];
    const int len = std::snprintf(buf, sizeof buf, "%.17g", number);
    // Shorter when exact enough: reports show durations like 0.8, not 0.80000000000000004.
    char short_buf[40];
    const int short_len = std::snprintf(short_buf, sizeof short_buf, "%.6g", number);
    if (std::strtod(short_buf, nullptr) == number || std::fabs(number) < 1e9) {
        return raw(std::string_view(short_buf, static_cast<size_t>(short_len)));
    }
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::null() {
    return raw("null");
}

writer& writer::raw(std::string_view json_text) {
    separate();
    out_.append(json_text);
    need_comma_ = true;
    return *this;
}

}  // namespace tarius::json
