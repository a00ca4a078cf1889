// ISO-8601 / RFC 3339 timestamps → canonical UTC text (see timestamp.hpp).
#include "mapping/timestamp.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace tarius::mapping::detail {
namespace {

constexpr int64_t SECONDS_PER_DAY = 86400;
constexpr size_t FRACTION_DIGITS = 9;

// The fields of a timestamp as written, before the offset is applied.
struct civil_time {
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    std::array<char, FRACTION_DIGITS> fraction{'0', '0', '0', '0', '0', '0', '0', '0', '0'};
};

bool is_digit(char ch) noexcept {
    return ch >= '0' && ch <= '9';
}

// Reads exactly `width` digits at `pos`; false when any of them is not a digit (or the text ends).
bool read_digits(std::string_view text, size_t pos, size_t width, unsigned& value) noexcept {
    if (text.size() < pos + width) return false;
    value = 0;
    for (size_t idx = pos; idx < pos + width; ++idx) {
        if (!is_digit(text[idx])) return false;
        value = value * 10 + static_cast<unsigned>(text[idx] - '0');
    }
    return true;
}

bool is_leap_year(int64_t year) noexcept {
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

unsigned days_in_month(int64_t year, unsigned month) noexcept {
    static constexpr unsigned DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : DAYS[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date. The year is counted from March, so that the leap day
// ends it; a 400-year era has 146097 days, and the day of the shifted year follows from a linear formula in the
// shifted month (153 days per 5 months: 31 30 31 30 31).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) noexcept {
    const int64_t shifted_year = month <= 2 ? year - 1 : year;
    const int64_t era = (shifted_year >= 0 ? shifted_year : shifted_year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(shifted_year - era * 400);  // [0, 399]
    const unsigned shifted_month = month > 2 ? month - 3 : month + 9;          // March = 0
    const unsigned day_of_year = (153 * shifted_month + 2) / 5 + day - 1;      // [0, 365]
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;  // 719468: 0000-03-01 → 1970-01-01
}

// The inverse of days_from_civil.
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day) noexcept {
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<unsigned>(days - era * 146097);  // [0, 146096]
    // Leap days of the era so far come out of the count, so that a year is 365 days throughout.
    const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned shifted_month = (5 * day_of_year + 2) / 153;
    day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
}

void put_digits(char* at, unsigned value, size_t width) noexcept {
    for (size_t idx = width; idx > 0; --idx) {
        at[idx - 1] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

bool refuse(std::string& message, std::string text) {
    message = std::move(text);
    return false;
}

// Names an unexpected byte for a message: quoted when printable ASCII; other bytes may be part of a UTF-8
// sequence, and half of one would make the message invalid UTF-8.
std::string unexpected(char ch, const char* where) {
    const bool printable = ch >= 0x20 && ch < 0x7f;
    return std::string("unexpected ") + (printable ? std::string("'") + ch + "'" : std::string("character")) + " " +
           where;
}

// The date part: `YYYY-MM-DD` at the start of `text`.
bool parse_date(std::string_view text, civil_time& t, std::string& message) {
    unsigned year = 0;
    if (!read_digits(text, 0, 4, year) || text.size() < 5 || text[4] != '-' || !read_digits(text, 5, 2, t.month) ||
        text.size() < 8 || text[7] != '-' || !read_digits(text, 8, 2, t.day)) {
        return refuse(message, "expected a date YYYY-MM-DD");
    }
    t.year = year;
    if (t.month < 1 || t.month > 12) return refuse(message, "month " + std::to_string(t.month));
    const unsigned month_days = days_in_month(t.year, t.month);
    if (t.day < 1) return refuse(message, "day 0");
    if (t.day > month_days) {
        return refuse(message, "day " + std::to_string(t.day) + " of a " + std::to_string(month_days) + "-day month");
    }
    return true;
}

// The time part after the date separator, `hh:mm[:ss[.f{1,9}]]`; `pos` moves past it.
bool parse_time(std::string_view text, size_t& pos, civil_time& t, std::string& message) {
    if (!read_digits(text, pos, 2, t.hour) || text.size() < pos + 3 || text[pos + 2] != ':' ||
        !read_digits(text, pos + 3, 2, t.minute)) {
        return refuse(message, "expected a time hh:mm after the date");
    }
    if (t.hour > 23) return refuse(message, "hour " + std::to_string(t.hour));
    if (t.minute > 59) return refuse(message, "minute " + std::to_string(t.minute));
    pos += 5;
    if (pos >= text.size() || text[pos] != ':') return true;
    if (!read_digits(text, pos + 1, 2, t.second)) return refuse(message, "expected two digits of seconds after hh:mm:");
    if (t.second == 60) return refuse(message, "second 60 (leap seconds are not accepted)");
    if (t.second > 59) return refuse(message, "second " + std::to_string(t.second));
    pos += 3;
    if (pos >= text.size() || text[pos] != '.') return true;
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        if (digits == FRACTION_DIGITS) return refuse(message, "more than 9 fraction digits");
        t.fraction[digits++] = text[pos++];
    }
    if (digits == 0) return refuse(message, "no digits after the decimal point");
    return true;
}

// The UTC offset at `pos` to the end of `text`, in signed seconds to subtract from the local time.
bool parse_offset(std::string_view text, size_t pos, bool assume_utc, int64_t& offset_seconds, std::string& message) {
    offset_seconds = 0;
    if (pos == text.size()) return assume_utc || refuse(message, "no UTC offset: add Z or +hh:mm");
    const char sign = text[pos];
    if (sign == 'Z' || sign == 'z') {
        if (pos + 1 != text.size()) return refuse(message, "text after the UTC offset Z");
        return true;
    }
    if (sign != '+' && sign != '-') {
        return refuse(message, unexpected(sign, "after the time (expected Z, +hh:mm or -hh:mm)"));
    }
    unsigned hours = 0;
    unsigned minutes = 0;
    size_t end = pos + 1;
    if (!read_digits(text, end, 2, hours)) return refuse(message, "UTC offset: expected ±hh:mm or ±hhmm");
    end += 2;
    if (end < text.size() && text[end] == ':') ++end;
    if (!read_digits(text, end, 2, minutes)) return refuse(message, "UTC offset: expected ±hh:mm or ±hhmm");
    end += 2;
    if (end != text.size()) return refuse(message, "text after the UTC offset");
    if (hours > 23) return refuse(message, "UTC offset hour " + std::to_string(hours));
    if (minutes > 59) return refuse(message, "UTC offset minute " + std::to_string(minutes));
    const int64_t magnitude = int64_t{hours} * 3600 + int64_t{minutes} * 60;
    offset_seconds = sign == '-' ? -magnitude : magnitude;
    return true;
}

}  // namespace

bool append_canonical_timestamp(std::string_view text, bool assume_utc, std::string& out, std::string& message) {
    civil_time t;
    if (!parse_date(text, t, message)) return false;
    int64_t offset_seconds = 0;
    if (text.size() > 10) {
        const char separator = text[10];
        if (separator != 'T' && separator != 't' && separator != ' ') {
            return refuse(message, unexpected(separator, "after the date (expected T or a space, then hh:mm)"));
        }
        size_t pos = 11;
        if (!parse_time(text, pos, t, message)) return false;
        if (!parse_offset(text, pos, assume_utc, offset_seconds, message)) return false;
    }
    // An instant in seconds since the epoch: years 0000–9999 span about ±2^38 seconds, far inside int64_t.
    const int64_t local_seconds = days_from_civil(t.year, t.month, t.day) * SECONDS_PER_DAY + int64_t{t.hour} * 3600 +
                                  int64_t{t.minute} * 60 + int64_t{t.second};
    const int64_t utc_seconds = local_seconds - offset_seconds;
    // Floor division: instants before 1970 have negative seconds.
    int64_t days = utc_seconds / SECONDS_PER_DAY;
    int64_t second_of_day = utc_seconds % SECONDS_PER_DAY;
    if (second_of_day < 0) {
        second_of_day += SECONDS_PER_DAY;
        days -= 1;
    }
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    civil_from_days(days, year, month, day);
    if (year < 0 || year > 9999) return refuse(message, "outside years 0000-9999 once converted to UTC");
    const auto seconds = static_cast<unsigned>(second_of_day);
    std::array<char, CANONICAL_TIMESTAMP_SIZE> canonical{};
    char* at = canonical.data();
    put_digits(at, static_cast<unsigned>(year), 4);
    at[4] = '-';
    put_digits(at + 5, month, 2);
    at[7] = '-';
    put_digits(at + 8, day, 2);
    at[10] = 'T';
    put_digits(at + 11, seconds / 3600, 2);
    at[13] = ':';
    put_digits(at + 14, seconds / 60 % 60, 2);
    at[16] = ':';
    put_digits(at + 17, seconds % 60, 2);
    at[19] = '.';
    for (size_t idx = 0; idx < FRACTION_DIGITS; ++idx) at[20 + idx] = t.fraction[idx];
    at[29] = 'Z';
    out.append(canonical.data(), canonical.size());
    return true;
}

}  // namespace tarius::mapping::detail
