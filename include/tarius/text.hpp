#pragma once
/// Small text helpers shared by the layers.

#include <cstddef>
#include <string_view>

namespace tarius {

/// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8 character (for
/// messages, keys and subjects that must stay valid UTF-8 when shortened).
[[nodiscard]] std::string_view utf8_prefix(std::string_view text, size_t max_bytes) noexcept;

/// `c` in lower case when it is an ASCII capital letter, else `c`.
[[nodiscard]] constexpr char lower_ascii(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// True when `text` equals `lower` (lower-case ASCII) ignoring the case of ASCII letters.
[[nodiscard]] constexpr bool equals_lower(std::string_view text, std::string_view lower) noexcept {
    if (text.size() != lower.size()) return false;
    for (size_t idx = 0; idx < text.size(); ++idx) {
        if (lower_ascii(text[idx]) != lower[idx]) return false;
    }
    return true;
}

}  // namespace tarius
