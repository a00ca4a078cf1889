#pragma once
// DynamoDB numbers: validation, the canonical text DynamoDB stores and returns, and the sizing rule.

#include <cstddef>
#include <string>
#include <string_view>

namespace tarius::mapping::detail {

/// Most significant digits DynamoDB keeps in a number.
inline constexpr size_t MAX_NUMBER_DIGITS = 38;
/// Largest decimal exponent (of the leading digit) DynamoDB accepts: 9.99...E+125.
inline constexpr long MAX_NUMBER_EXPONENT = 125;
/// Smallest decimal exponent (of the leading digit) DynamoDB accepts: 1E-130.
inline constexpr long MIN_NUMBER_EXPONENT = -130;
/// Longest canonical text: sign, "0.", 129 zeros and 38 digits.
inline constexpr size_t MAX_CANONICAL_NUMBER = 1 + 2 + 129 + MAX_NUMBER_DIGITS;

/// Validates `text` as a DynamoDB number (`[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`, at most 38
/// significant digits, zero or magnitude in [1E-130, 9.99..E+125]) and appends its canonical form to `out`:
/// no exponent, no leading/trailing zeros, no `+`, `0` for any zero (`-0012.50` → `-12.5`, `1e3` → `1000`).
/// Returns the DynamoDB size of the value in bytes (see `number_size`), or 0 on failure, in which case `out`
/// is unchanged and `message` holds the reason (e.g. "41 significant digits; DynamoDB keeps at most 38").
[[nodiscard]] size_t append_canonical_number(std::string_view text, std::string& out, std::string& message);

/// True when `text` is a valid number already in canonical form (what `append_canonical_number` prints).
[[nodiscard]] bool is_canonical_number(std::string_view text) noexcept;

/// DynamoDB's documented size of a number with `significant_digits` digits: 1 byte per two significant
/// digits plus 1 byte; zero takes 1 byte.
[[nodiscard]] constexpr size_t number_size(size_t significant_digits) noexcept {
    return significant_digits == 0 ? 1 : (significant_digits + 1) / 2 + 1;
}

/// The size of a number given in canonical form. Precondition: `is_canonical_number(canonical)`.
[[nodiscard]] size_t canonical_number_size(std::string_view canonical) noexcept;

}  // namespace tarius::mapping::detail
