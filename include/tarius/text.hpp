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

/// True when `a` equals `b` ignoring the case of ASCII letters (header names, tokens).
[[nodiscard]] constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t idx = 0; idx < a.size(); ++idx) {
        if (lower_ascii(a[idx]) != lower_ascii(b[idx])) return false;
    }
    return true;
}

/// The value of a hexadecimal digit (either case), or -1.
[[nodiscard]] constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// `s` without the spaces and tabs at either end.
[[nodiscard]] constexpr std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace tarius
