#pragma once
// JSON text output: string escaping for the hot path, and a small writer for reports and logs.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tarius::json {

/// Appends `text` (valid UTF-8) to `out` as the body of a JSON string, without the quotes:
/// `"` and `\` escaped, control characters as \n \r \t \b \f or \u00XX, everything else copied.
void append_escaped(std::string& out, std::string_view text);

/// Appends `text` as a quoted JSON string.
inline void append_string(std::string& out, std::string_view text) {
    out.push_back('"');
    append_escaped(out, text);
    out.push_back('"');
}

/// Most bytes one input byte can become when escaped (`\u00XX`).
inline constexpr size_t MAX_ESCAPED_BYTES = 6;

/// Writes the escaped form of `src[0, len)` (as `append_escaped`) at `dst` and returns the end of what it wrote.
/// Precondition: `dst` has room for `MAX_ESCAPED_BYTES * len` bytes.
char* write_escaped(char* dst, const char* src, size_t len) noexcept;

namespace detail {

// True when one of the bytes of `word` (8 of a uint64_t, 4 of a uint32_t) is a control character (< 0x20), '"' or
// '\\'. The SWAR tests (bytewise "less than" and "equal" through borrow propagation) may flag bytes above a true hit,
// never a word without one, which is all a fast path needs: a flagged word is looked at byte by byte.
template <typename Word>
inline bool needs_escape(Word word) noexcept {
    constexpr Word ONES = static_cast<Word>(~Word{0}) / 0xFF;
    constexpr Word HIGHS = ONES * 0x80;
    const Word controls = (word - ONES * 0x20) & ~word;
    const Word quote = word ^ (ONES * '"');
    const Word backslash = word ^ (ONES * '\\');
    const Word quotes = (quote - ONES) & ~quote;
    const Word backslashes = (backslash - ONES) & ~backslash;
    return ((controls | quotes | backslashes) & HIGHS) != 0;
}

inline bool byte_needs_escape(char c) noexcept {
    const auto byte = static_cast<uint8_t>(c);
    return byte < 0x20 || byte == '"' || byte == '\\';
}

// Index of the first byte of src[from, len) that needs escaping, or len; for short spans after a flagged word.
inline size_t first_escape_from(const char* src, size_t from, size_t len) noexcept {
    while (from < len && !byte_needs_escape(src[from])) ++from;
    return from;
}

#if defined(__SSE2__)
// Bit i set when byte i of `bytes` needs escaping.
inline unsigned escape_mask(__m128i bytes) noexcept {
    const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
    const __m128i control_limit = _mm_set1_epi8(static_cast<char>(0x20 ^ 0x80));  // unsigned < 0x20, biased
    const __m128i controls = _mm_cmplt_epi8(_mm_xor_si128(bytes, bias), control_limit);
    const __m128i specials =
        _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\')));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(controls, specials)));
}
#endif

}  // namespace detail

/// Copies the longest prefix of `src[0, len)` that needs no JSON escaping to `dst` and returns its length
/// (`len` when no byte needs escaping: the usual case, one pass of wide loads and stores). Bytes of `dst` past
/// the returned length, up to `len`, may have been written. Nothing outside `src[0, len)` is read, nothing
/// outside `dst[0, len)` is written. Precondition: `dst` has room for `len` bytes and does not overlap `src`.
[[gnu::always_inline]] inline size_t copy_unescaped(char* dst, const char* src, size_t len) noexcept {
    if (len >= 16) {
#if defined(__SSE2__)
        size_t idx = 0;
        for (; idx + 16 <= len; idx += 16) {
            const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + idx));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + idx), bytes);
            const unsigned mask = detail::escape_mask(bytes);
            if (mask != 0) return idx + static_cast<size_t>(__builtin_ctz(mask));
        }
        if (idx < len) {
            // The last 16 bytes, overlapping bytes already known to be clean (their mask bits are zero).
            const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + len - 16));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + len - 16), bytes);
            const unsigned mask = detail::escape_mask(bytes);
            if (mask != 0) return len - 16 + static_cast<size_t>(__builtin_ctz(mask));
        }
        return len;
#else
        size_t idx = 0;
        for (; idx + 8 <= len; idx += 8) {
            uint64_t word;
            std::memcpy(&word, src + idx, 8);
            if (detail::needs_escape(word)) {
                const size_t hit = detail::first_escape_from(src, idx, len);
                std::memcpy(dst + idx, src + idx, hit - idx);
                return hit;
            }
            std::memcpy(dst + idx, &word, 8);
        }
        if (idx < len) {
            uint64_t word;
            std::memcpy(&word, src + len - 8, 8);
            if (detail::needs_escape(word)) {
                const size_t hit = detail::first_escape_from(src, idx, len);
                std::memcpy(dst + idx, src + idx, hit - idx);
                return hit;
            }
            std::memcpy(dst + len - 8, &word, 8);
        }
        return len;
#endif
    }
    if (len >= 8) {
        // Two 8-byte words that overlap in the middle cover 8..15 bytes.
        uint64_t head;
        uint64_t tail;
        std::memcpy(&head, src, 8);
        std::memcpy(&tail, src + len - 8, 8);
        if (!detail::needs_escape(head) && !detail::needs_escape(tail)) {
            std::memcpy(dst, &head, 8);
            std::memcpy(dst + len - 8, &tail, 8);
            return len;
        }
    } else if (len >= 4) {
        uint32_t head;
        uint32_t tail;
        std::memcpy(&head, src, 4);
        std::memcpy(&tail, src + len - 4, 4);
        if (!detail::needs_escape(head) && !detail::needs_escape(tail)) {
            std::memcpy(dst, &head, 4);
            std::memcpy(dst + len - 4, &tail, 4);
            return len;
        }
    }
    const size_t hit = detail::first_escape_from(src, 0, len);
    for (size_t idx = 0; idx < hit; ++idx) dst[idx] = src[idx];
    return hit;
}

/// Builds one JSON value in a string with commas placed automatically. Nesting is the caller's to balance.
class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    writer& begin_object() { return open('{'); }
    writer& end_object() { return close('}'); }
    writer& begin_array() { return open('['); }
    writer& end_array() { return close(']'); }
    /// Writes an object key; the next call writes its value.
    writer& key(std::string_view name);
    writer& value(std::string_view text);
    writer& value(const char* text) { return value(std::string_view(text)); }
    writer& value(const std::string& text) { return value(std::string_view(text)); }
    writer& value(bool flag);
    writer& value(int64_t number);
    writer& value(uint64_t number);
    writer& value(int number) { return value(static_cast<int64_t>(number)); }
    writer& value(double number);
    writer& null();
    /// Writes already-serialised JSON as the next value.
    writer& raw(std::string_view json_text);

private:
    writer& open(char bracket);
    writer& close(char bracket);
    void separate();

    std::string& out_;
    bool need_comma_ = false;
    bool after_key_ = false;
};

}  // namespace tarius::json
