// Canonical timestamps: accepted spellings and their UTC form, refusals and their messages, offsets across day
// and year boundaries, leap days; and, against std::chrono's calendar as the oracle, that canonical strings of
// random instants written with random offsets convert exactly and sort as the instants do.
#include "mapping/timestamp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using tarius::mapping::detail::append_canonical_timestamp;
using tarius::mapping::detail::CANONICAL_TIMESTAMP_SIZE;

struct accepted_case {
    std::string_view text;
    std::string_view canonical;
};

struct refused_case {
    std::string_view text;
    std::string_view message;
};

void expect_accepted(const std::vector<accepted_case>& cases, bool assume_utc) {
    for (const auto& test_case : cases) {
        std::string out = "prefix|";
        std::string message;
        EXPECT_TRUE(append_canonical_timestamp(test_case.text, assume_utc, out, message))
            << test_case.text << ": " << message;
        EXPECT_EQ(out, "prefix|" + std::string(test_case.canonical)) << test_case.text;
        EXPECT_EQ(out.size() - 7, CANONICAL_TIMESTAMP_SIZE) << test_case.text;
    }
}

void expect_refused(const std::vector<refused_case>& cases, bool assume_utc) {
    for (const auto& test_case : cases) {
        std::string out = "prefix|";
        std::string message;
        EXPECT_FALSE(append_canonical_timestamp(test_case.text, assume_utc, out, message)) << test_case.text;
        EXPECT_EQ(message, test_case.message) << test_case.text;
        EXPECT_EQ(out, "prefix|") << test_case.text;  // unchanged
    }
}

TEST(mapping_timestamp, accepted_spellings) {
    expect_accepted(
        {
            {"2026-03-14", "2026-03-14T00:00:00.000000000Z"},
            {"2026-03-14T15:09Z", "2026-03-14T15:09:00.000000000Z"},
            {"2026-03-14T15:09:26Z", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14t15:09:26z", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14 15:09:26Z", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14T15:09:26.5Z", "2026-03-14T15:09:26.500000000Z"},
            {"2026-03-14T15:09:26.535897932Z", "2026-03-14T15:09:26.535897932Z"},
            {"2026-03-14T15:09:26.000000001Z", "2026-03-14T15:09:26.000000001Z"},
            {"2026-03-14T15:09:26+00:00", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14T15:09:26-00:00", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14T15:09:26+02:00", "2026-03-14T13:09:26.000000000Z"},
            {"2026-03-14T15:09:26+0200", "2026-03-14T13:09:26.000000000Z"},
            {"2026-03-14T15:09:26-0530", "2026-03-14T20:39:26.000000000Z"},
            {"2026-03-14T15:09:26.25+05:45", "2026-03-14T09:24:26.250000000Z"},
            {"2026-03-14T15:09-07:00", "2026-03-14T22:09:00.000000000Z"},
            {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000000000Z"},
            {"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z"},
            {"1969-12-31T23:59:59.9Z", "1969-12-31T23:59:59.900000000Z"},
            {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000000Z"},
        },
        false);
}

TEST(mapping_timestamp, offsets_cross_days_months_and_years) {
    expect_accepted(
        {
            // Forward across midnight, a month end and a year end.
            {"2026-03-14T22:30:00-02:00", "2026-03-15T00:30:00.000000000Z"},
            {"2026-04-30T23:00:00-01:00", "2026-05-01T00:00:00.000000000Z"},
            {"2025-12-31T23:59:59.999999999-00:01", "2026-01-01T00:00:59.999999999Z"},
            {"2025-12-31T20:00-23:59", "2026-01-01T19:59:00.000000000Z"},
            // Backward across midnight, a month start and a year start.
            {"2026-03-15T00:30:00+02:00", "2026-03-14T22:30:00.000000000Z"},
            {"2026-05-01T00:00+0100", "2026-04-30T23:00:00.000000000Z"},
            {"2026-01-01T00:00:00+23:59", "2025-12-31T00:01:00.000000000Z"},
            {"1970-01-01T00:00:00+00:01", "1969-12-31T23:59:00.000000000Z"},
            // Right at the edges of the supported years.
            {"0000-01-01T23:59+23:59", "0000-01-01T00:00:00.000000000Z"},
            {"9999-12-31T00:00-23:59", "9999-12-31T23:59:00.000000000Z"},
        },
        false);
}

TEST(mapping_timestamp, leap_days) {
    expect_accepted(
        {
            {"2024-02-29", "2024-02-29T00:00:00.000000000Z"},
            {"2000-02-29", "2000-02-29T00:00:00.000000000Z"},  // divisible by 400
            {"0000-02-29", "0000-02-29T00:00:00.000000000Z"},  // year 0 is a leap year (proleptic Gregorian)
            {"2024-02-28T23:30-01:00", "2024-02-29T00:30:00.000000000Z"},
            {"2024-03-01T00:30+01:00", "2024-02-29T23:30:00.000000000Z"},
            {"2023-03-01T00:30+01:00", "2023-02-28T23:30:00.000000000Z"},
            {"2024-12-31T23:00-02:00", "2025-01-01T01:00:00.000000000Z"},
        },
        false);
    expect_refused(
        {
            {"2023-02-29", "day 29 of a 28-day month"},
            {"1900-02-29", "day 29 of a 28-day month"},  // divisible by 100, not 400
            {"2100-02-29T00:00Z", "day 29 of a 28-day month"},
            {"2024-02-30", "day 30 of a 29-day month"},
        },
        false);
}

TEST(mapping_timestamp, refused_with_reason) {
    expect_refused(
        {
            {"", "expected a date YYYY-MM-DD"},
            {"2026", "expected a date YYYY-MM-DD"},
            {"2026-3-14", "expected a date YYYY-MM-DD"},
            {"26-03-14", "expected a date YYYY-MM-DD"},
            {"2026/03/14", "expected a date YYYY-MM-DD"},
            {"20260314", "expected a date YYYY-MM-DD"},
            {" 2026-03-14", "expected a date YYYY-MM-DD"},
            {"+12026-03-14", "expected a date YYYY-MM-DD"},
            {"2026-13-01", "month 13"},
            {"2026-00-01", "month 0"},
            {"2026-04-31", "day 31 of a 30-day month"},
            {"2026-01-32", "day 32 of a 31-day month"},
            {"2026-01-00", "day 0"},
            {"2026-03-14X", "unexpected 'X' after the date (expected T or a space, then hh:mm)"},
            {"2026-03-14Z", "unexpected 'Z' after the date (expected T or a space, then hh:mm)"},
            {"2026-03-14\xc3\xa9", "unexpected character after the date (expected T or a space, then hh:mm)"},
            {"2026-03-14T", "expected a time hh:mm after the date"},
            {"2026-03-14T1:00Z", "expected a time hh:mm after the date"},
            {"2026-03-14T1500Z", "expected a time hh:mm after the date"},
            {"2026-03-14T24:00Z", "hour 24"},
            {"2026-03-14T15:60Z", "minute 60"},
            {"2026-03-14T15:09:60Z", "second 60 (leap seconds are not accepted)"},
            {"2026-03-14T15:09:61Z", "second 61"},
            {"2026-03-14T15:09:5Z", "expected two digits of seconds after hh:mm:"},
            {"2026-03-14T15:09:26.Z", "no digits after the decimal point"},
            {"2026-03-14T15:09:26.1234567890Z", "more than 9 fraction digits"},
            {"2026-03-14T15:09:26,5Z", "unexpected ',' after the time (expected Z, +hh:mm or -hh:mm)"},
            {"2026-03-14T15:09.5Z", "unexpected '.' after the time (expected Z, +hh:mm or -hh:mm)"},
            {"2026-03-14T15:09:26", "no UTC offset: add Z or +hh:mm"},
            {"2026-03-14 15:09", "no UTC offset: add Z or +hh:mm"},
            {"2026-03-14T15:09:26 Z", "unexpected ' ' after the time (expected Z, +hh:mm or -hh:mm)"},
            {"2026-03-14T15:09:26ZZ", "text after the UTC offset Z"},
            {"2026-03-14T15:09:26+02", "UTC offset: expected ±hh:mm or ±hhmm"},
            {"2026-03-14T15:09:26+2:00", "UTC offset: expected ±hh:mm or ±hhmm"},
            {"2026-03-14T15:09:26+02:0", "UTC offset: expected ±hh:mm or ±hhmm"},
            {"2026-03-14T15:09:26+02:00:00", "text after the UTC offset"},
            {"2026-03-14T15:09:26+02:00 ", "text after the UTC offset"},
            {"2026-03-14T15:09:26+24:00", "UTC offset hour 24"},
            {"2026-03-14T15:09:26+02:60", "UTC offset minute 60"},
            {"0000-01-01T00:00:00+00:01", "outside years 0000-9999 once converted to UTC"},
            {"9999-12-31T23:59:59.999999999-00:01", "outside years 0000-9999 once converted to UTC"},
        },
        false);
}

TEST(mapping_timestamp, assume_utc_only_fills_a_missing_offset) {
    expect_accepted(
        {
            {"2026-03-14T15:09:26", "2026-03-14T15:09:26.000000000Z"},
            {"2026-03-14 15:09", "2026-03-14T15:09:00.000000000Z"},
            {"2026-03-14T15:09:26.75", "2026-03-14T15:09:26.750000000Z"},
            {"2026-03-14T15:09:26+02:00", "2026-03-14T13:09:26.000000000Z"},  // an explicit offset still applies
            {"2026-03-14", "2026-03-14T00:00:00.000000000Z"},
        },
        true);
    expect_refused(
        {
            {"2026-03-14T15:09:60", "second 60 (leap seconds are not accepted)"},
            {"2026-03-14T", "expected a time hh:mm after the date"},
        },
        true);
}

// The oracle: std::chrono's proleptic Gregorian calendar (pure arithmetic, no time zone database).
struct instant {
    int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
    uint32_t nanos = 0;
    friend bool operator<(const instant& lhs, const instant& rhs) {
        return lhs.seconds != rhs.seconds ? lhs.seconds < rhs.seconds : lhs.nanos < rhs.nanos;
    }
    friend bool operator==(const instant&, const instant&) = default;
};

int64_t epoch_days(int year, unsigned month, unsigned day) {
    using namespace std::chrono;
    return sys_days{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}}
        .time_since_epoch()
        .count();
}

// Writes `seconds` (local, since the epoch) as "YYYY-MM-DD<sep>hh:mm[:ss]" with std::chrono.
std::string civil_text(int64_t seconds, char separator, bool with_seconds) {
    using namespace std::chrono;
    const int64_t day_count = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
    const int64_t of_day = seconds - day_count * 86400;
    const year_month_day date{sys_days{days{day_count}}};
    char text[32];
    std::snprintf(text, sizeof(text), "%04d-%02u-%02u%c%02d:%02d", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), separator,
                  static_cast<int>(of_day / 3600), static_cast<int>(of_day / 60 % 60));
    std::string out = text;
    if (with_seconds) {
        std::snprintf(text, sizeof(text), ":%02d", static_cast<int>(of_day % 60));
        out += text;
    }
    return out;
}

std::string expected_canonical(const instant& at) {
    char fraction[16];
    std::snprintf(fraction, sizeof(fraction), ".%09uZ", at.nanos);
    return civil_text(at.seconds, 'T', true) + fraction;
}

TEST(mapping_timestamp, chrono_agrees_on_the_calendar) {
    // Spot checks that the oracle itself is the calendar we think it is.
    EXPECT_EQ(epoch_days(1970, 1, 1), 0);
    EXPECT_EQ(epoch_days(2000, 3, 1), 11017);
    EXPECT_EQ(civil_text(-1, 'T', true), "1969-12-31T23:59:59");
}

TEST(mapping_timestamp, random_instants_convert_exactly_and_sort_as_instants) {
    const int64_t first = epoch_days(0, 1, 1) * 86400;
    const int64_t last = epoch_days(9999, 12, 31) * 86400 + 86399;
    constexpr int64_t MAX_OFFSET = 23 * 3600 + 59 * 60;
    std::mt19937_64 rng(20260314);
    std::uniform_int_distribution<int64_t> any_second(first, last);
    std::uniform_int_distribution<int64_t> near_second(-3, 3);
    std::uniform_int_distribution<uint32_t> any_nanos(0, 999'999'999);
    std::uniform_int_distribution<int> any_offset_minutes(-(23 * 60 + 59), 23 * 60 + 59);
    std::uniform_int_distribution<int> coin(0, 1);
    std::uniform_int_distribution<int> form(0, 3);

    std::vector<std::pair<instant, std::string>> samples;
    constexpr int SAMPLES = 20000;
    for (int idx = 0; idx < SAMPLES; ++idx) {
        instant at;
        // Some instants cluster around a few seconds, so that ties and near-ties (same second, other nanos) occur.
        at.seconds = idx % 4 == 0 ? 1'773'500'000 + near_second(rng) : any_second(rng);
        switch (form(rng)) {
            case 0: at.nanos = 0; break;
            case 1: at.nanos = any_nanos(rng) / 1'000'000 * 1'000'000; break;
            default: at.nanos = any_nanos(rng); break;
        }
        const int64_t offset = static_cast<int64_t>(any_offset_minutes(rng)) * 60;
        const int64_t local = at.seconds + offset;
        if (local < first || local > last) continue;  // the local time must be writable with 4-digit years
        ASSERT_LE(offset < 0 ? -offset : offset, MAX_OFFSET);

        // The local time, in one of the accepted spellings.
        const bool whole_minute = at.nanos == 0 && ((local % 60) + 60) % 60 == 0;
        const bool with_seconds = !whole_minute || coin(rng) == 1;
        std::string text = civil_text(local, coin(rng) == 1 ? 'T' : ' ', with_seconds);
        if (at.nanos != 0) {
            char digits[16];
            std::snprintf(digits, sizeof(digits), "%09u", at.nanos);
            std::string fraction = digits;
            const size_t needed = fraction.find_last_not_of('0') + 1;
            // Any width from the shortest exact one to 9 digits.
            fraction.resize(needed + static_cast<size_t>(rng() % (10 - needed)));
            text += "." + fraction;
        }
        const int64_t magnitude = offset < 0 ? -offset : offset;
        char offset_text[16];
        if (offset == 0 && coin(rng) == 1) {
            std::snprintf(offset_text, sizeof(offset_text), "Z");
        } else {
            std::snprintf(offset_text, sizeof(offset_text), coin(rng) == 1 ? "%c%02d:%02d" : "%c%02d%02d",
                          offset < 0 ? '-' : '+', static_cast<int>(magnitude / 3600),
                          static_cast<int>(magnitude / 60 % 60));
        }
        text += offset_text;

        std::string canonical;
        std::string message;
        ASSERT_TRUE(append_canonical_timestamp(text, false, canonical, message)) << text << ": " << message;
        ASSERT_EQ(canonical, expected_canonical(at)) << text;
        samples.emplace_back(at, canonical);
    }
    ASSERT_GT(samples.size(), static_cast<size_t>(SAMPLES) * 9 / 10);

    // Sorting by the strings gives the order of the instants, ties included.
    std::vector<size_t> by_text(samples.size());
    for (size_t idx = 0; idx < by_text.size(); ++idx) by_text[idx] = idx;
    std::sort(by_text.begin(), by_text.end(),
              [&](size_t lhs, size_t rhs) { return samples[lhs].second < samples[rhs].second; });
    for (size_t idx = 1; idx < by_text.size(); ++idx) {
        const auto& before = samples[by_text[idx - 1]];
        const auto& after = samples[by_text[idx]];
        ASSERT_FALSE(after.first < before.first) << before.second << " sorts before " << after.second;
        ASSERT_EQ(before.first == after.first, before.second == after.second) << before.second << " " << after.second;
    }
}

}  // namespace
