#pragma once
/// Why a row was rejected, and where: shared by the CSV reader and the mapping.

#include <cstdint>
#include <string>
#include <string_view>

namespace tarius {

/// The reason a row could not become an item. Names (see `reject_reason_name`) appear in reports and rejects.
enum class reject_reason : uint8_t {
    FIELD_COUNT,          ///< "field_count": more or fewer fields than the header
    FIELD_TOO_LARGE,      ///< "field_too_large": a field over dialect::max_field_size
    ROW_TOO_LARGE,        ///< "row_too_large": a row over dialect::max_row_size
    UNTERMINATED_QUOTE,   ///< "unterminated_quote": a quoted field still open at end of input
    INVALID_UTF8,         ///< "invalid_utf8": bytes that are not UTF-8
    EMPTY_KEY,            ///< "empty_key": a key attribute is empty
    KEY_TOO_LARGE,        ///< "key_too_large": partition key > 2048 bytes or sort key > 1024 bytes
    INVALID_NUMBER,       ///< "invalid_number": not a number DynamoDB accepts (syntax, digits, magnitude)
    INVALID_BOOL,         ///< "invalid_bool": not one of true/false/yes/no/1/0/y/n
    INVALID_NULL,         ///< "invalid_null": a `null` column holding something else than an empty cell
    INVALID_JSON,         ///< "invalid_json": a `json` column that does not parse, or holds an invalid value
    INVALID_BINARY,       ///< "invalid_binary": a binary key that is not base64
    ITEM_TOO_LARGE,       ///< "item_too_large": the item is over DynamoDB's 400 KB limit
    REFUSED_BY_DYNAMODB,  ///< "refused_by_dynamodb": DynamoDB refused the item as invalid (its message says why)
    INVALID_OPERATION,    ///< "invalid_operation": the operation column holds neither a delete nor a put value
    INVALID_VERSION,      ///< "invalid_version": a newer feed's version cell is empty or not a number/timestamp
    INVALID_TIMESTAMP,    ///< "invalid_timestamp": a `timestamp` column holding no valid ISO-8601 timestamp
    COUNT_,               ///< number of reasons; not a reason
};

/// Returns the stable snake_case name of `reason`, e.g. "field_count".
const char* reject_reason_name(reject_reason reason) noexcept;

/// One problem with one row: what, where and why.
struct row_problem {
    reject_reason reason = reject_reason::FIELD_COUNT;  ///< what went wrong
    uint64_t line = 0;                                  ///< 1-based physical line of the row
    uint64_t byte_offset = 0;   ///< byte offset of the problem: the row's start, or the bad byte
    int64_t column_index = -1;  ///< 0-based column of the problem, -1 when it concerns the whole row
    std::string column;         ///< the column's header name, empty when none
    std::string message;        ///< human explanation with a fix hint, no source prefix
};

}  // namespace tarius
