// UTF-8 validation: simdjson's vectorised validator answers "valid?" for the common case; only invalid text
// pays for the scalar pass that locates the first bad sequence.
#include <simdjson.h>

#include "tarius/csv.hpp"

namespace tarius::csv {

namespace {

/// Length of the valid sequence at `p[0]`, or 0 when it is invalid (overlong, surrogate, > U+10FFFF, truncated).
size_t valid_sequence_length(const uint8_t* p, size_t avail) noexcept {
    const uint8_t b0 = p[0];
    if (b0 < 0x80) return 1;
    size_t len = 0;
    uint8_t lo = 0x80;  // allowed range of the second byte
    uint8_t hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // over U+10FFFF
    } else {
        return 0;
    }
    if (avail < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t idx = 2; idx < len; ++idx) {
        if ((p[idx] & 0xC0) != 0x80) return 0;
    }
    return len;
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) noexcept {
    if (simdjson::validate_utf8(text.data(), text.size())) return std::string_view::npos;
    const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t len = valid_sequence_length(bytes + pos, text.size() - pos);
        if (len == 0) return pos;
        pos += len;
    }
    return std::string_view::npos;  // unreachable when simdjson and this loop agree
}

}  // namespace tarius::csv
