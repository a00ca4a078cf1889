#include "json/writer.hpp"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace tarius::json {
namespace {

// Writes the escape sequence of one byte that needs it at `dst`; returns the end.
char* write_escape(char* dst, uint8_t byte) noexcept {
    char second = 0;
    switch (byte) {
        case '"': second = '"'; break;
        case '\\': second = '\\'; break;
        case '\n': second = 'n'; break;
        case '\r': second = 'r'; break;
        case '\t': second = 't'; break;
        case '\b': second = 'b'; break;
        case '\f': second = 'f'; break;
        default: {
            static constexpr char HEX[] = "0123456789abcdef";
            const char seq[6] = {'\\', 'u', '0', '0', HEX[byte >> 4], HEX[byte & 0xf]};
            std::memcpy(dst, seq, sizeof seq);
            return dst + sizeof seq;
        }
    }
    dst[0] = '\\';
    dst[1] = second;
    return dst + 2;
}

// Index of the first byte of `data[0, size)` that needs escaping, or `size`. Reads only inside the span: the
// last partial block is read as an overlapping full block, short spans as two overlapping words.
size_t find_escape(const char* data, size_t size) noexcept {
    if (size >= 16) {
#if defined(__SSE2__)
        size_t idx = 0;
        for (; idx + 16 <= size; idx += 16) {
            const unsigned mask = detail::escape_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + idx)));
            if (mask != 0) return idx + static_cast<size_t>(__builtin_ctz(mask));
        }
        if (idx < size) {
            const unsigned mask =
                detail::escape_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + size - 16)));
            if (mask != 0) return size - 16 + static_cast<size_t>(__builtin_ctz(mask));
        }
        return size;
#else
        size_t idx = 0;
        for (; idx + 8 <= size; idx += 8) {
            uint64_t word;
            std::memcpy(&word, data + idx, 8);
            if (detail::needs_escape(word)) return detail::first_escape_from(data, idx, size);
        }
        if (idx < size) {
            uint64_t word;
            std::memcpy(&word, data + size - 8, 8);
            if (detail::needs_escape(word)) return detail::first_escape_from(data, idx, size);
        }
        return size;
#endif
    }
    if (size >= 8) {
        uint64_t head;
        uint64_t tail;
        std::memcpy(&head, data, 8);
        std::memcpy(&tail, data + size - 8, 8);
        if (!detail::needs_escape(head) && !detail::needs_escape(tail)) return size;
    } else if (size >= 4) {
        uint32_t head;
        uint32_t tail;
        std::memcpy(&head, data, 4);
        std::memcpy(&tail, data + size - 4, 4);
        if (!detail::needs_escape(head) && !detail::needs_escape(tail)) return size;
    }
    return detail::first_escape_from(data, 0, size);
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
        char seq[MAX_ESCAPED_BYTES];
        const char* end = write_escape(seq, static_cast<uint8_t>(data[hit]));
        out.append(seq, static_cast<size_t>(end - seq));
        run_start = hit + 1;
    }
}

char* write_escaped(char* dst, const char* src, size_t len) noexcept {
    for (;;) {
        const size_t clean = copy_unescaped(dst, src, len);
        dst += clean;
        if (clean == len) return dst;
        dst = write_escape(dst, static_cast<uint8_t>(src[clean]));
        src += clean + 1;
        len -= clean + 1;
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
