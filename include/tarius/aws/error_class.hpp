#pragma once
/// One classification of failures into what the loader does about them, keyed by AWS service and error code
/// (as botocore classifies codes for its retry handlers), with the HTTP status and the error's kind as fallbacks.

#include <cstdint>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::aws {

/// What a failure means for the work that met it.
enum class error_class : uint8_t {
    THROTTLED,  ///< the service asks us to slow down: retry, slower, within the time budget
    TRANSIENT,  ///< a passing fault (5xx, connection, timeout, checksum): retry with backoff, within budget
    ITEM,       ///< permanent for one item of a write (DynamoDB refused it as invalid): reject that item
    CONDITION,  ///< a conditional write's condition was false: not an error, the write strategy names the fate
    RECORD,     ///< permanent for the object or record being loaded: fail it, record it, never retry
    FATAL,      ///< the process cannot work at all (credentials or signatures refused): stop, retry nothing
};

/// Returns "throttled", "transient", "item", "condition", "record" or "fatal".
[[nodiscard]] const char* error_class_name(error_class c) noexcept;

/// Where the failing call was made: a write of table items makes a validation failure the item's, any other call
/// makes it the record's.
enum class call_scope : uint8_t {
    ITEM_WRITE,  ///< BatchWriteItem / PutItem / UpdateItem / DeleteItem of the loaded rows
    OTHER,       ///< everything else (reads, the ledger, rejects, reports, notifications, handover)
};

/// Classifies one failure (by its service detail when a service answered, else by its kind).
[[nodiscard]] error_class classify(const error& e, call_scope scope = call_scope::OTHER);

/// The same from the parts: service id ("s3", "dynamodb", "sqs", "sns", "lambda"), AWS error code (may be
/// empty), HTTP status (0 when no response arrived), the error's kind, and its retryable flag.
[[nodiscard]] error_class classify(std::string_view service, std::string_view code, long http_status, errc kind,
                                   bool retryable, call_scope scope);

}  // namespace tarius::aws
