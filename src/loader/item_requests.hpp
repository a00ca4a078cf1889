#pragma once
// Request bodies of single-item writes: PutItem with the insert or newer condition, UpdateItem of a merge.
// Pure functions, so that each body can be checked literally. Every name and value goes through a placeholder
// (#k, :v): attribute names with spaces, dots or reserved words need them anyway.

#include <string>
#include <string_view>

#include "tarius/mapping.hpp"

namespace tarius::loader::detail {

/// The row marker's value: the load (first 16 characters of its id) and the row's line, "0123456789abcdef:12".
[[nodiscard]] std::string row_marker(std::string_view load_id, uint64_t line);

/// PutItem of `item` (DynamoDB JSON) only when no item has its key — or when the stored item is this very row
/// (same marker), written by an earlier run of the load. `marker_attribute` empty: no marker.
void insert_body(std::string& out, std::string_view table, std::string_view partition_key, std::string_view item,
                 std::string_view marker_attribute, std::string_view marker);

/// PutItem of `item` only when the stored version (`version_attribute`) is absent or lower than `version`
/// (DynamoDB JSON, {"N":"3"}) — or equal and written by this very row (same marker).
void newer_body(std::string& out, std::string_view table, std::string_view item, std::string_view version_attribute,
                std::string_view version, std::string_view marker_attribute, std::string_view marker);

/// UpdateItem of the item's key: SET of its other attributes, REMOVE of `removed` (comma-separated JSON strings,
/// `"a","b"`). False with the reason in `why` when the item is not an object with the key attributes, or the
/// expression would pass DynamoDB's 4 KB limit (the row is then refused without being sent).
[[nodiscard]] bool merge_body(std::string& out, std::string_view table, const mapping::key_schema& keys,
                              std::string_view item, std::string_view removed, std::string& why);

/// DynamoDB's limit on one expression string.
inline constexpr size_t MAX_EXPRESSION_BYTES = 4096;

}  // namespace tarius::loader::detail
