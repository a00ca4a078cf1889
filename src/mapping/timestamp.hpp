#pragma once
// ISO-8601 / RFC 3339 timestamps as comparable strings: the canonical form is UTC with a fixed width
// (YYYY-MM-DDThh:mm:ss.fffffffffZ, 30 bytes), so that DynamoDB's byte-wise string order is the order of instants.

#include <string>
#include <string_view>

namespace tarius::mapping::detail {

/// Length of a canonical timestamp.
inline constexpr size_t CANONICAL_TIMESTAMP_SIZE = 30;

/// Parses `text` — `YYYY-MM-DD`, or `YYYY-MM-DD[T ]hh:mm[:ss[.f{1,9}]]` followed by `Z`, `±hh:mm` or `±hhmm` —
/// and appends its instant in UTC, canonical, to `out` (a date alone is midnight UTC). A time without an offset is
/// refused (ambiguous) unless `assume_utc`. Returns false with the reason in `message` (e.g. "month 13", "no UTC
/// offset: add Z or +hh:mm"), leaving `out` unchanged. Years 0000–9999 only (after conversion to UTC); second 60
/// is refused.
[[nodiscard]] bool append_canonical_timestamp(std::string_view text, bool assume_utc, std::string& out,
                                              std::string& message);

}  // namespace tarius::mapping::detail
