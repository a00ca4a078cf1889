#pragma once
/// The DynamoDB calls Tarius needs: BatchWriteItem (also asynchronous, many in flight), DescribeTable, and the
/// item calls with condition expressions used by the load ledger. Bodies are DynamoDB JSON text.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tarius/aws/client.hpp"
#include "tarius/mapping.hpp"

namespace tarius::aws {

/// What DescribeTable tells Tarius.
struct table_description {
    std::string name;             ///< TableName
    std::string arn;              ///< TableArn
    std::string status;           ///< TableStatus, e.g. ACTIVE
    mapping::key_schema keys;     ///< HASH (+ RANGE) key names and S/N/B types
    std::string billing_mode;     ///< PROVISIONED or PAY_PER_REQUEST
    uint64_t write_capacity = 0;  ///< provisioned WCU (0 on demand)
};

/// Result of one BatchWriteItem call.
struct batch_write_result {
    /// The UnprocessedItems object as raw JSON ({"table":[{"PutRequest":...}]}), empty when none: the caller
    /// must send these again (nothing is dropped here).
    std::string unprocessed_items;
    size_t unprocessed_count = 0;  ///< number of requests in unprocessed_items
    double consumed_capacity = 0;  ///< WCU from ConsumedCapacity (when ReturnConsumedCapacity was asked)
    int attempts = 1;              ///< HTTP attempts it took (retries of throttling/5xx included)
    int throttled_attempts = 0;    ///< attempts answered with a throttling error
};

/// Completion of an asynchronous BatchWriteItem.
using batch_write_callback = std::function<void(result<batch_write_result>)>;

/// A DynamoDB client (JSON 1.0 protocol, x-amz-crc32 verified). Thread-safe except the async pair
/// (batch_write_item_async + poll), which belongs to the thread that calls poll.
class dynamodb_client {
public:
    /// Creates a client for the context's region and DynamoDB endpoint. `caller_retries`: one attempt per call
    /// (no SDK retries, no adaptive rate limiting), for a caller that retries and paces itself. `attempt_timeout`:
    /// how long one attempt may take (0: the transport's request timeout).
    [[nodiscard]] static result<std::unique_ptr<dynamodb_client>> create(
        std::shared_ptr<client_context> context, bool caller_retries = false,
        std::chrono::milliseconds attempt_timeout = std::chrono::milliseconds(0));
    virtual ~dynamodb_client() = default;

    /// DescribeTable. A missing table is errc::NOT_FOUND.
    [[nodiscard]] virtual result<table_description> describe_table(const std::string& table) = 0;

    /// BatchWriteItem of a request body ({"RequestItems":...}), with the standard retries for throttling and
    /// transient errors. UnprocessedItems are returned, never dropped.
    [[nodiscard]] virtual result<batch_write_result> batch_write_item(std::string body) = 0;
    /// The same, asynchronous: `done` runs on the thread calling poll(). Many may be in flight.
    virtual void batch_write_item_async(std::string body, batch_write_callback done) = 0;
    /// One PutItem / UpdateItem / DeleteItem of a loaded row, asynchronous like batch_write_item_async (and
    /// driven by the same poll): its ConsumedCapacity comes back as `batch_write_result::consumed_capacity`, with
    /// nothing unprocessed. A false condition is errc::CONFLICT (ConditionalCheckFailedException).
    virtual void write_item_async(std::string operation, std::string body, batch_write_callback done) {
        (void)operation;
        (void)body;
        done(make_error(errc::INTERNAL, "dynamodb: this client writes no single items"));
    }
    /// Drives asynchronous calls (transfers and retry timers) for up to `wait`; returns the number in flight.
    virtual size_t poll(std::chrono::milliseconds wait) = 0;

    /// Any JSON-protocol operation ("PutItem", "UpdateItem", "GetItem", "Query", "DeleteItem", ...) with a
    /// request body; returns the response body. ConditionalCheckFailedException is errc::CONFLICT.
    [[nodiscard]] virtual result<std::string> call(const std::string& operation, std::string body) = 0;
};

}  // namespace tarius::aws
