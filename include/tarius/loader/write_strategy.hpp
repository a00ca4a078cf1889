#pragma once
/// How a feed's rows become DynamoDB requests. The writer (ddb_writer) owns everything every mode shares — the
/// queue, file order per key, pacing, retries, the memory bound, the checkpoint — and asks its strategy only
/// how many rows one request carries, how to build and send it, and what a false condition means for a row.
///
/// - `put` and `delete` feeds: BatchWriteItem, 25 puts and deletes per request.
/// - `insert`: PutItem only when the key is absent; `newer`: PutItem only when the stored version is absent or
///   lower; `merge`: UpdateItem SET of the row's attributes (REMOVE of those whose empty cell asks it). One row per
///   request: DynamoDB takes no condition in a batch.
///
/// Conditional writes carry a row marker (an attribute holding the load and the row's line), so that a row a
/// crashed run wrote passes its own condition when the resumed run sends it again: counts stay exact on resume.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/mapping.hpp"
#include "tarius/pipeline/batch.hpp"

namespace tarius::loader {

/// The requests a feed's rows become.
enum class write_method : uint8_t {
    BATCH,   ///< BatchWriteItem of puts and deletes (put and delete feeds)
    INSERT,  ///< PutItem when the key is absent (insert feeds)
    NEWER,   ///< PutItem when the stored version is absent or lower (newer feeds)
    MERGE,   ///< UpdateItem SET / REMOVE of the row's attributes (merge feeds)
};

/// What a write whose condition was false did with its row.
enum class skip_reason : uint8_t {
    EXISTING,  ///< insert: the key exists
    STALE,     ///< newer: the stored version is not lower
};

/// Settings of a feed's writes.
struct write_settings {
    write_method method = write_method::BATCH;  ///< the requests
    std::string version_attribute;              ///< newer: the attribute holding the version
    /// Conditional writes: the attribute holding the row marker; empty: no marker (a row a crashed run wrote is
    /// then counted skipped when the resumed run sends it again).
    std::string marker_attribute = "tarius_row";
};

/// One row as a strategy sees it.
struct write_entry {
    std::string_view json;  ///< the item (a put) or the key (a delete), DynamoDB JSON
    std::string_view aux;   ///< newer: the row's version ({"N":"3"}); merge: the names to REMOVE ("a","b")
    pipeline::write_kind kind = pipeline::write_kind::PUT;  ///< put or delete
    uint64_t line = 0;                                      ///< the row's line (the row marker)
};

/// Builds and sends the requests of one load. Used from the writer's thread only.
class write_strategy {
public:
    virtual ~write_strategy() = default;
    /// Most rows one request carries: 25 or 1.
    [[nodiscard]] virtual size_t max_entries() const noexcept = 0;
    /// Whether a later row of a key may replace an earlier one within a request (last row wins), or each row of a
    /// key must be its own write.
    [[nodiscard]] virtual bool collapses_duplicates() const noexcept = 0;
    /// Bytes an entry adds to a request body, and the bytes of a request around its entries: for the request size
    /// limit and the memory bound.
    [[nodiscard]] virtual size_t entry_bytes(const write_entry& e) const noexcept = 0;
    [[nodiscard]] virtual size_t request_overhead() const noexcept = 0;
    /// Builds the request of `entries` and sends it; `done` runs on the thread that polls the client. Returns the
    /// body's size.
    virtual size_t send(aws::dynamodb_client& client, std::span<const write_entry> entries,
                        aws::batch_write_callback done) = 0;
    /// Whether a later row of a key waits until the checkpoint covers the earlier one (not only until it is
    /// answered): a newer row's fate depends on the rows of its key before it, so a resumed load must never send
    /// again a row whose key a later row already wrote.
    [[nodiscard]] virtual bool orders_keys_by_checkpoint() const noexcept { return false; }
    /// What a false condition means for the row; none when this strategy's writes have no condition.
    [[nodiscard]] virtual std::optional<skip_reason> when_condition_fails() const noexcept = 0;
    /// Whether a false condition still tells the fate of a row an earlier send of which may have landed: in this
    /// run (a 5xx, a reset, a timeout), or in a stopped run (`earlier_run`). With the row marker, its own earlier
    /// write passes the condition; without it, it does not. Across runs a newer row is never certain: a later row
    /// of its key may have been written over it after the last saved checkpoint.
    [[nodiscard]] virtual bool skip_is_certain_after_resend(bool earlier_run) const noexcept {
        (void)earlier_run;
        return true;
    }
};

/// The strategy of `settings` for a load of `table` (`keys` its key schema). `load_id` marks the rows of
/// conditional writes (the same id across the runs of one load).
[[nodiscard]] std::unique_ptr<write_strategy> make_write_strategy(const write_settings& settings,
                                                                  const std::string& table,
                                                                  const mapping::key_schema& keys,
                                                                  std::string_view load_id);

}  // namespace tarius::loader
