#pragma once
/// The DynamoDB writer of a load: many BatchWriteItem requests in flight from one thread, with the semantics of
/// writing the rows one by one in file order.
///
/// - Counts come from acknowledgements only: an item is written when a response said so.
/// - A request DynamoDB refuses as invalid is split in halves until the refused item stands alone; that row is
///   rejected with DynamoDB's reason and every other row is written. Should the refused row have replaced an
///   earlier row of the same key in its batch, the earlier row is written in its place.
/// - Throttling and passing faults are retried without end while the load makes progress, at the rate the
///   table accepts (write_pacer); a load that makes no progress for `no_progress_limit` fails as transient.
/// - The bytes held (batches waiting, in flight, request bodies) stay under `max_held_bytes`.
/// - `tick` runs at least every `tick_every` while the writer waits, so the load's stop check, checkpoint and lease
///   renewal go on while requests are in flight.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/loader/checkpoint.hpp"
#include "tarius/loader/write_pacer.hpp"
#include "tarius/loader/write_strategy.hpp"
#include "tarius/mapping.hpp"
#include "tarius/pipeline/batch.hpp"
#include "tarius/reject.hpp"
#include "tarius/result.hpp"

namespace tarius::loader {

/// Settings of a writer.
struct writer_options {
    std::string table;                 ///< the target table (request bodies name it)
    mapping::key_schema keys;          ///< its key schema (to recognise the items of UnprocessedItems)
    size_t max_in_flight = 64;         ///< most requests in flight at once
    double max_wcu_per_second = 0;     ///< write budget in write units per second; 0 = unlimited
    bool follow_capacity = true;       ///< slow down to what the table accepts when it throttles
    size_t max_held_bytes = 64 << 20;  ///< memory bound of batches waiting and in flight (one batch may exceed it)
    std::chrono::milliseconds retry_base_delay{50};   ///< first backoff before resending after a fault
    std::chrono::milliseconds retry_max_delay{5000};  ///< backoff cap
    /// A load during which no row was written or rejected for this long fails as transient (checkpoint saved).
    std::chrono::milliseconds no_progress_limit{300000};
    /// After a stop, how long requests in flight may still complete before the writer gives up on them.
    std::chrono::milliseconds stop_grace{10000};
    std::chrono::milliseconds tick_every{100};  ///< the longest interval between two ticks while waiting
    uint64_t max_refusals = UINT64_MAX;         ///< more rows refused by DynamoDB fail the load (errc::LIMIT)
    uint64_t seed = 0x7a115;                    ///< jitter seed
    /// Resuming: where the earlier runs of the same load got to. Batches ending at or below `resume.offset` were
    /// written by them (the pipeline is deterministic, so replaying the input gives the same batches): they are
    /// counted, not sent; the rows DynamoDB refused then (`resume.refused`) are rejected again; their work carries on.
    checkpoint resume;
    /// How rows become requests (BatchWriteItem when null).
    std::shared_ptr<write_strategy> strategy;
    /// A heartbeat saves current_checkpoint() and says so (checkpoint_saved): a load that can be resumed. Where a
    /// false condition on a row sent again does not tell its fate (newer; no row marker), the writer then sends no
    /// row beyond the last saved `uncertain_through`, so that a run resumed after a SIGKILL knows every row the
    /// dead run may have sent.
    bool checkpoints_saved = false;
};

/// Counters of a writer.
struct writer_stats {
    uint64_t requests_sent = 0;           ///< BatchWriteItem requests sent (every resend included)
    uint64_t requests_throttled = 0;      ///< responses that signalled throttling (an error, or unprocessed items)
    uint64_t requests_failed = 0;         ///< requests that failed with a passing fault (5xx, connection, timeout)
    uint64_t items_written = 0;           ///< puts DynamoDB acknowledged (and those of batches skipped on resume)
    uint64_t items_deleted = 0;           ///< deletes DynamoDB acknowledged (and those of batches skipped on resume)
    uint64_t items_skipped_existing = 0;  ///< insert: rows not written because their key existed
    uint64_t items_skipped_stale = 0;     ///< newer: rows not written because the stored version was not lower
    uint64_t items_resent_uncertain = 0;  ///< resumed insert/newer: sent again, condition false, earlier fate unknown
    uint64_t items_refused = 0;           ///< rows DynamoDB refused as invalid (rejected)
    uint64_t items_revived = 0;           ///< earlier rows sent because the row that replaced them was refused
    uint64_t items_resent = 0;            ///< items sent again (unprocessed, throttled, failed)
    uint64_t bisections = 0;              ///< refused requests split in halves
    uint64_t batches_skipped = 0;         ///< batches below `resume.offset` (resumed loads)
    uint64_t items_skipped = 0;           ///< their items counted written (an earlier run wrote them)
    uint64_t held_back = 0;               ///< times a batch waited for an earlier batch holding one of its keys
    double wcu_consumed = 0;              ///< write units consumed: reported by DynamoDB, plus `wcu_estimated`
    /// Write units of writes whose condition was false: DynamoDB charges them but reports none; estimated from
    /// the row's size (the stored item may be larger).
    double wcu_estimated = 0;
    size_t peak_in_flight = 0;   ///< most requests in flight at once
    size_t peak_held_bytes = 0;  ///< most bytes held at once
};

/// Receives each row DynamoDB refused: the problem (reason refused_by_dynamodb, line, byte offset, DynamoDB's
/// message) and the row's original bytes (empty when its batch did not keep rows).
using refusal_handler = std::function<result<void>(const row_problem& problem, std::string_view raw)>;

/// Called periodically while the writer waits; an error stops the writer (errc::CANCELLED: a stop with the
/// checkpoint kept; anything else: a failure).
using writer_tick = std::function<result<void>()>;

/// Writes sealed batches. Not thread-safe: one thread calls on_batch / drain (which drive the client's poll).
class ddb_writer final : public pipeline::batch_sink {
public:
    using clock = std::function<std::chrono::steady_clock::time_point()>;

    /// Precondition: `client` outlives the writer.
    ddb_writer(aws::dynamodb_client& client, writer_options options, refusal_handler on_refused = {},
               writer_tick tick = {}, clock now = {});
    ~ddb_writer() override;
    ddb_writer(const ddb_writer&) = delete;
    ddb_writer& operator=(const ddb_writer&) = delete;

    /// Queues a batch; blocks (driving the client) while too many batches or bytes are held. Fails once the
    /// writer failed or stopped.
    [[nodiscard]] result<void> on_batch(pipeline::batch&& b) override;
    /// Waits until every queued batch is written; returns the failure or stop, if any.
    [[nodiscard]] result<void> drain();
    /// Stops sending; requests in flight may complete for `stop_grace` (on the next on_batch / drain).
    void stop() noexcept;

    /// The highest checkpoint so far: every batch below it is written or rejected.
    [[nodiscard]] checkpoint current_checkpoint() const;
    /// The heartbeat saved `at` (a current_checkpoint()): rows up to its `uncertain_through` may be sent.
    void checkpoint_saved(const checkpoint& at) noexcept;
    /// True while rows wait for a saved checkpoint to let them go (the heartbeat should come early).
    [[nodiscard]] bool wants_checkpoint_saved() const noexcept { return waits_for_save_; }
    /// Counters.
    [[nodiscard]] const writer_stats& stats() const noexcept { return stats_; }
    /// The pacer's counters (throttling, capacity).
    [[nodiscard]] const pacer_stats& pacing() const noexcept { return pacer_.stats(); }
    /// The sending rate in write units per second; 0 = unlimited.
    [[nodiscard]] double rate() const { return pacer_.rate(); }
    /// The pacer (whether the table limits the writes, its measured capacity).
    [[nodiscard]] const write_pacer& pacer() const noexcept { return pacer_; }

private:
    struct entry;
    struct request;
    struct batch_state;

    void accept(pipeline::batch&& b);
    void skip(pipeline::batch&& b);
    void activate();
    void pump();
    [[nodiscard]] bool assemble(request& out, std::chrono::steady_clock::time_point now);
    void put_back(request& r);
    void send(request&& r);
    void complete(uint64_t request_id, result<aws::batch_write_result> outcome);
    void on_written(const entry& e);
    void on_skipped(const entry& e, skip_reason why);
    void end_of_resumed_part();
    [[nodiscard]] write_entry view_of(const entry& e) const;
    void on_refused(const entry& e, const std::string& message);
    void record_refusal(uint64_t sequence, const pipeline::stored_origin& origin, std::string_view raw,
                        const std::string& message);
    void resend(entry e, bool throttled);
    void finish_item(batch_state& state);
    void finish_batch(uint64_t sequence);
    void release_keys(const std::vector<uint64_t>& keys);
    [[nodiscard]] uint64_t uncertain_through() const noexcept;
    [[nodiscard]] bool gated_by_saved_checkpoint() const noexcept;
    void wait_for_progress();
    void check_progress();
    void fail(error e);
    [[nodiscard]] result<void> settle();
    [[nodiscard]] std::chrono::milliseconds backoff(uint32_t attempts);
    [[nodiscard]] double units_of(const entry& e) const;
    [[nodiscard]] bool cost_unknown(const entry& e) const;
    void learn_delete_cost(const request& r, double consumed);
    [[nodiscard]] pipeline::write_kind kind_of(const entry& e) const;
    [[nodiscard]] std::string_view json_of(const entry& e) const;
    [[nodiscard]] size_t fresh_limit() const noexcept;

    aws::dynamodb_client& client_;
    writer_options options_;
    refusal_handler on_refused_;
    writer_tick tick_;
    clock now_;
    // DynamoDB charges a delete by the size of the item it deletes, unknown until it answers: a delete is charged
    // what the deletes of earlier answers cost (their ConsumedCapacity less the puts'); 0 until one answered.
    double delete_units_ = 0;
    size_t cost_unknown_in_flight_ = 0;  // requests in flight holding a delete of unknown cost (with a budget)
    write_pacer pacer_;
    std::map<uint64_t, std::string> earlier_refusals_by_line_;
    std::deque<pipeline::batch> queued_;                       // sealed, not yet active, in file order
    std::map<uint64_t, std::unique_ptr<batch_state>> active_;  // keys held, items being written
    std::unordered_map<uint64_t, uint32_t> keys_held_;         // key hash → active batches holding it
    std::deque<entry> fresh_;                                  // items of active batches never sent, in file order
    std::deque<entry> retry_;                                  // items to send again, by due time
    std::deque<std::vector<entry>> pinned_;                    // halves of refused requests: sent alone
    std::unordered_map<uint64_t, request> in_flight_;
    uint64_t next_request_id_ = 0;
    uint64_t next_sequence_ = 0;  // the checkpoint covers batches below this sequence
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> done_out_of_order_;  // sequence → (end offset, end line)
    // Finished batches above the checkpoint: their fates (counts only) and keys (held until the checkpoint passes
    // them when the strategy orders keys by checkpoint).
    std::map<uint64_t, std::pair<checkpoint, std::vector<uint64_t>>> fates_by_batch_;
    std::vector<std::pair<uint64_t, refusal>> refusals_;  // (batch sequence, refusal)
    checkpoint checkpoint_;
    uint64_t sent_through_ = 0;   // where the furthest batch this run activated ends (its rows may have been sent)
    uint64_t saved_promise_ = 0;  // the last saved uncertain_through: no batch ending beyond it activates (gated)
    bool waits_for_save_ = false;
    size_t held_bytes_ = 0;
    uint64_t jitter_state_;
    std::chrono::microseconds pacer_wait_{0};  // what the pacer asked for at the last refused send
    std::chrono::steady_clock::time_point started_{};
    std::chrono::steady_clock::time_point last_tick_{};
    std::chrono::steady_clock::time_point last_progress_{};
    std::chrono::steady_clock::time_point stop_deadline_{};
    writer_stats stats_;
    std::optional<error> failure_;
    bool stopping_ = false;
    bool replaying_ = false;  // resumed: batches below the earlier runs' checkpoint are still to come
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the writer; checked by callbacks
};

}  // namespace tarius::loader
