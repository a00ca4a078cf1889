#include "mapping/number.hpp"

#include <cstdint>
#include <cstring>

namespace tarius::mapping::detail {
namespace {

// Exponents are saturated here while parsing so that `1e99999999999999999999` cannot overflow; anything
// this far out is rejected by the range check anyway.
constexpr long long EXPONENT_SATURATION = 1'000'000'000LL;

enum class number_fault : uint8_t { NONE, EMPTY, CHARACTER, NO_DIGITS, EXPONENT, DIGITS, HIGH, LOW };

struct number_outcome {
    number_fault fault = number_fault::NONE;
    size_t length = 0;       // canonical length written to the buffer
    size_t digits = 0;       // significant digits (0 for zero)
    size_t offset = 0;       // offending byte for CHARACTER
    long long exponent = 0;  // exponent of the leading digit (nonzero values, HIGH and LOW)
    bool negative = false;   // a nonzero negative value
    size_t size = 0;         // DynamoDB's size of the value (see number_size)
};

bool is_digit(char ch) noexcept {
    return ch >= '0' && ch <= '9';
}

// Writes the canonical text into `buf` (MAX_CANONICAL_NUMBER bytes); nothing is written on failure.
number_outcome canonicalize(std::string_view text, char* buf) noexcept {
    number_outcome res;
    const size_t size = text.size();
    if (size == 0) {
        res.fault = number_fault::EMPTY;
        return res;
    }
    size_t pos = 0;
    bool negative = false;
    if (text[0] == '+' || text[0] == '-') {
        negative = text[0] == '-';
        ++pos;
    }
    const size_t int_begin = pos;
    while (pos < size && is_digit(text[pos])) ++pos;
    const size_t int_end = pos;
    size_t frac_begin = pos;
    size_t frac_end = pos;
    if (pos < size && text[pos] == '.') {
        // Digits on one side of the point suffice ("5." is 5, ".5" is 0.5), as in every decimal notation.
        ++pos;
        frac_begin = pos;
        while (pos < size && is_digit(text[pos])) ++pos;
        frac_end = pos;
        if (frac_end == frac_begin && int_end == int_begin) {
            res.fault = number_fault::NO_DIGITS;
            return res;
        }
    } else if (int_end == int_begin) {
        res.fault = pos < size ? number_fault::CHARACTER : number_fault::NO_DIGITS;
        res.offset = pos;
        return res;
    }
    long long exponent = 0;
    if (pos < size && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        bool exp_negative = false;
        if (pos < size && (text[pos] == '+' || text[pos] == '-')) {
            exp_negative = text[pos] == '-';
            ++pos;
        }
        const size_t exp_begin = pos;
        while (pos < size && is_digit(text[pos])) {
            if (exponent < EXPONENT_SATURATION) exponent = exponent * 10 + (text[pos] - '0');
            ++pos;
        }
        if (exponent > EXPONENT_SATURATION) exponent = EXPONENT_SATURATION;
        if (pos == exp_begin) {
            res.fault = number_fault::EXPONENT;
            return res;
        }
        if (exp_negative) exponent = -exponent;
    }
    if (pos != size) {
        res.fault = number_fault::CHARACTER;
        res.offset = pos;
        return res;
    }

    // The mantissa digits are text[int_begin, int_end) followed by text[frac_begin, frac_end); index them as
    // one sequence so no copy is needed.
    const size_t int_count = int_end - int_begin;
    const size_t total = int_count + (frac_end - frac_begin);
    auto digit_at = [&](size_t idx) {
        return idx < int_count ? text[int_begin + idx] : text[frac_begin + idx - int_count];
    };
    size_t first = 0;
    while (first < total && digit_at(first) == '0') ++first;
    if (first == total) {
        buf[0] = '0';
        res.length = 1;
        res.size = 1;
        return res;
    }
    size_t last = total - 1;
    while (digit_at(last) == '0') --last;
    const size_t digits = last - first + 1;
    // The value is 0.D × 10^point with D the significant digits.
    const long long point = static_cast<long long>(int_count) - static_cast<long long>(first) + exponent;
    const long long lead_exponent = point - 1;
    if (lead_exponent > MAX_NUMBER_EXPONENT) {
        res.fault = number_fault::HIGH;
        res.exponent = lead_exponent;
        return res;
    }
    if (lead_exponent < MIN_NUMBER_EXPONENT) {
        res.fault = number_fault::LOW;
        res.exponent = lead_exponent;
        return res;
    }
    if (digits > MAX_NUMBER_DIGITS) {
        res.fault = number_fault::DIGITS;
        res.digits = digits;
        return res;
    }
    char* out = buf;
    if (negative) *out++ = '-';
    if (point <= 0) {
        *out++ = '0';
        *out++ = '.';
        for (long long zero_idx = 0; zero_idx < -point; ++zero_idx) *out++ = '0';
        for (size_t idx = first; idx <= last; ++idx) *out++ = digit_at(idx);
    } else {
        const auto upoint = static_cast<size_t>(point);
        for (size_t idx = 0; idx < digits; ++idx) {
            if (idx == upoint) *out++ = '.';
            *out++ = digit_at(first + idx);
        }
        for (size_t idx = digits; idx < upoint; ++idx) *out++ = '0';
    }
    res.length = static_cast<size_t>(out - buf);
    res.digits = digits;
    res.exponent = lead_exponent;
    res.negative = negative;
    res.size = number_size(digits, lead_exponent, negative);
    return res;
}

void describe(const number_outcome& res, std::string_view text, std::string& message) {
    switch (res.fault) {
        case number_fault::EMPTY: message = "empty text is not a number"; return;
        case number_fault::CHARACTER: {
            message = "unexpected character '";
            const char ch = text[res.offset];
            if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
                static constexpr char HEX[] = "0123456789abcdef";
                message += "\\x";
                message += HEX[(static_cast<unsigned char>(ch) >> 4) & 0xf];
                message += HEX[static_cast<unsigned char>(ch) & 0xf];
            } else {
                message += ch;
            }
            message += "' at offset " + std::to_string(res.offset) + "; a number is [+-]digits[.digits][e[+-]digits]";
            return;
        }
        case number_fault::NO_DIGITS: message = "no digits; a number is [+-]digits[.digits][e[+-]digits]"; return;
        case number_fault::EXPONENT: message = "digits expected in the exponent"; return;
        case number_fault::DIGITS:
            message = std::to_string(res.digits) + " significant digits; DynamoDB keeps at most 38";
            return;
        case number_fault::HIGH:
            message = "magnitude 1E+" + std::to_string(res.exponent) +
                      " or more is over DynamoDB's maximum 9.9999999999999999999999999999999999999E+125";
            return;
        case number_fault::LOW:
            message = "magnitude under 1E" + std::to_string(res.exponent + 1) + " is below DynamoDB's minimum 1E-130";
            return;
        case number_fault::NONE: break;
    }
}

}  // namespace

size_t append_canonical_number(std::string_view text, std::string& out, std::string& message) {
    char buf[MAX_CANONICAL_NUMBER];
    const number_outcome res = canonicalize(text, buf);
    if (res.fault != number_fault::NONE) {
        describe(res, text, message);
        return 0;
    }
    out.append(buf, res.length);
    return res.size;
}

bool is_canonical_number(std::string_view text) noexcept {
    return canonical_number_size(text) != 0;
}

size_t canonical_number_size(std::string_view text) noexcept {
    if (text.empty() || text.size() > MAX_CANONICAL_NUMBER) return 0;
    char buf[MAX_CANONICAL_NUMBER];
    const number_outcome res = canonicalize(text, buf);
    const bool canonical =
        res.fault == number_fault::NONE && res.length == text.size() && std::memcmp(buf, text.data(), text.size()) == 0;
    return canonical ? res.size : 0;
}

}  // namespace tarius::mapping::detail
