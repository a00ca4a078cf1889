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

/// Validates `text` as a DynamoDB number (`[+-]?(digits[.[digits]]|.digits)([eE][+-]?digits)?`, at most 38
/// significant digits, zero or magnitude in [1E-130, 9.99..E+125]) and appends its canonical form to `out`:
/// no exponent, no leading/trailing zeros, no `+`, no trailing point, `0` for any zero (`-0012.50` → `-12.5`,
/// `1e3` → `1000`, `+5.` → `5`). Returns the DynamoDB size of the value in bytes (see `number_size`), or 0 on
/// failure, in which case `out` is unchanged and `message` holds the reason (e.g. "41 significant digits;
/// DynamoDB keeps at most 38").
[[nodiscard]] size_t append_canonical_number(std::string_view text, std::string& out, std::string& message);

/// True when `text` is a valid number already in canonical form (what `append_canonical_number` prints).
[[nodiscard]] bool is_canonical_number(std::string_view text) noexcept;

/// The size DynamoDB charges for a nonzero number whose `significant_digits` digits start at decimal exponent
/// `lead_exponent` (the leading digit is worth 10^lead_exponent). DynamoDB documents the size as
/// "approximately 1 byte per two significant digits + 1 byte"; the digits are stored in pairs aligned on even
/// powers of ten (base 100), so an even count that starts at an even exponent takes one pair more (`12.5`:
/// 1|25, `1.5`: 1|50), and a negative number takes one byte more. This is dynalite's rule, never below the
/// documented one: the larger of the two is used so that no item either refuses passes (docs/dynamodb-numbers.md).
/// Zero takes 1 byte. Precondition: `significant_digits` ≥ 1.
[[nodiscard]] constexpr size_t number_size(size_t significant_digits, long long lead_exponent, bool negative) noexcept {
    const bool extra_pair = significant_digits % 2 == 0 && lead_exponent % 2 == 0;
    return 1 + (significant_digits + 1) / 2 + (extra_pair ? 1 : 0) + (negative ? 1 : 0);
}

/// The size of `text` (see `number_size`) when it is a valid number in canonical form, else 0.
[[nodiscard]] size_t canonical_number_size(std::string_view text) noexcept;

}  // namespace tarius::mapping::detail
