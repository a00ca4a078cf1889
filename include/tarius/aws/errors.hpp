#pragma once
/// AWS error responses parsed into one type, and DynamoDB's response checksum.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

/// An error answered by an AWS service.
struct service_error {
    std::string service;      ///< "s3", "dynamodb", ...
    std::string operation;    ///< "PutObject", "BatchWriteItem", ...
    long http_status = 0;     ///< HTTP status code
    std::string code;         ///< AWS error code, namespace stripped ("ThrottlingException"); may be empty
    std::string message;      ///< service message; may be empty
    std::string request_id;   ///< x-amzn-RequestId / x-amz-request-id / <RequestId>
    bool throttling = false;  ///< one of the SDKs' throttling codes
    bool retryable = false;   ///< throttling, transient codes and 500/502/503/504

    /// One line: "<service> <operation>: <code> (HTTP <status>): <message> [request id <id>]".
    [[nodiscard]] std::string describe() const;
    /// A tarius::error: AUTH for credential/signature codes and 401/403, NOT_FOUND for 404 and *NotFound codes,
    /// CONFLICT for ConditionalCheckFailedException and 412, SERVICE otherwise; retryable as above.
    [[nodiscard]] error to_error() const;
};

/// Parses an error response of `service`/`operation`: JSON (`__type` after '#', or `code`; `message`/`Message`),
/// XML (`<Error>`, `<ErrorResponse><Error>`, S3's `<Error>` with `<RequestId>`), the x-amzn-ErrorType header
/// (before ':'), request ids from x-amzn-RequestId, x-amz-request-id or the body. Never fails: an unparseable
/// body leaves code and message empty (the status still classifies it).
[[nodiscard]] service_error parse_service_error(std::string_view service, std::string_view operation,
                                                const http_response& response);

/// The first header named `name` (case-insensitive) in `response`.
[[nodiscard]] std::optional<std::string_view> find_header(const http_response& response, std::string_view name);

/// CRC-32 (the zlib/IEEE polynomial) of `data`, continuing from `crc` (0 to start).
[[nodiscard]] uint32_t crc32(std::string_view data, uint32_t crc = 0);

/// Checks DynamoDB's `x-amz-crc32` header against the body: ok when absent or equal, otherwise a retryable
/// errc::NETWORK error (the SDKs retry a mismatch as a transient failure).
[[nodiscard]] result<void> verify_dynamodb_crc32(const http_response& response);

}  // namespace tarius::aws
