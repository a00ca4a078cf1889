#pragma once
/// The DynamoDB writer of a load: many BatchWriteItem requests in flight from one thread, with the semantics of
/// writing the rows one by one in file order, an optional write budget, adaptive slow-down on throttling and a
/// checkpoint below which every row is durably written or rejected.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/pipeline/batch.hpp"
#include "tarius/result.hpp"

namespace tarius::loader {

/// Settings of a writer.
struct writer_options {
    size_t max_in_flight = 64;      ///< most requests in flight at once (also the starting window)
    double max_wcu_per_second = 0;  ///< write budget; 0 = unlimited. Never exceeded (conservative estimates)
    std::chrono::milliseconds unprocessed_base_delay{50};   ///< first backoff before resending UnprocessedItems
    std::chrono::milliseconds unprocessed_max_delay{5000};  ///< backoff cap
    int max_unprocessed_rounds = 12;  ///< resends of one batch's leftovers before the load fails (transient)
    uint64_t seed = 0x7a115;          ///< jitter seed
    /// Resuming: batches ending at or below this input offset were written by an earlier run of the same load
    /// (the pipeline is deterministic, so replaying the input gives the same batches); they are counted, not sent.
    uint64_t already_written_through = 0;
};

/// A point in the input below which every row is written or rejected.
struct checkpoint {
    uint64_t offset = 0;         ///< decoded-byte offset (csv row boundary)
    uint64_t line = 1;           ///< line number of the row at `offset`
    uint64_t batches_done = 0;   ///< batches completed below `offset`
    uint64_t items_written = 0;  ///< items written below `offset`
};

/// Counters of a writer.
struct writer_stats {
    uint64_t batches_sent = 0;        ///< BatchWriteItem requests sent (resends of leftovers included)
    uint64_t items_written = 0;       ///< items DynamoDB accepted
    uint64_t unprocessed_resent = 0;  ///< items sent again after coming back in UnprocessedItems
    uint64_t throttles = 0;           ///< throttled attempts + rounds with UnprocessedItems
    uint64_t held_back = 0;           ///< times a batch waited for an earlier batch holding one of its keys
    uint64_t batches_skipped = 0;     ///< batches below `already_written_through` (resumed loads)
    double wcu_consumed = 0;          ///< from ConsumedCapacity
    size_t peak_in_flight = 0;        ///< most requests in flight at once
};

/// Writes sealed batches. Not thread-safe: one thread calls on_batch / drain (which drive the client's poll).
class ddb_writer final : public pipeline::batch_sink {
public:
    using clock = std::function<std::chrono::steady_clock::time_point()>;

    /// Precondition: `client` outlives the writer.
    ddb_writer(aws::dynamodb_client& client, writer_options options, clock now = {});

    /// Queues a batch; blocks (driving the client) while the window is full. Fails once a batch failed.
    [[nodiscard]] result<void> on_batch(pipeline::batch&& b) override;
    /// Waits until every queued batch is written; returns the first failure.
    [[nodiscard]] result<void> drain();
    /// Stops sending new batches (what is in flight completes on drain).
    void stop() noexcept { stopped_ = true; }

    /// The highest checkpoint so far: all batches up to it are written.
    [[nodiscard]] const checkpoint& current_checkpoint() const noexcept { return checkpoint_; }
    /// Counters.
    [[nodiscard]] const writer_stats& stats() const noexcept { return stats_; }
    /// The current window (requests allowed in flight), reduced on throttling.
    [[nodiscard]] size_t window() const noexcept { return window_; }

private:
    struct pending {
        pipeline::batch batch;
        std::string body;      // what to send next (the batch body, or its leftovers)
        size_t remaining = 0;  // items not yet accepted
        int rounds = 0;        // resends of leftovers
        std::chrono::steady_clock::time_point not_before{};
        double wcu_estimate = 0;
    };

    void pump();
    void wait_for_progress();
    bool can_dispatch(const pending& p) const;
    void dispatch(std::unique_ptr<pending> p);
    void complete(uint64_t sequence, result<aws::batch_write_result> outcome);
    void finish_batch(const pending& p);
    bool take_budget(double wcu);
    std::chrono::milliseconds backoff(int round);

    aws::dynamodb_client& client_;
    writer_options options_;
    clock now_;
    std::deque<std::unique_ptr<pending>> queue_;                           // sealed, not yet sent, in file order
    std::unordered_map<uint64_t, std::unique_ptr<pending>> sent_;          // in flight, by batch sequence
    std::vector<std::unique_ptr<pending>> waiting_;                        // leftovers waiting for their backoff
    std::unordered_map<uint64_t, uint32_t> keys_in_flight_;                // key hash → batches holding it
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> done_out_of_order_;  // sequence → (end offset, end line)
    std::map<uint64_t, uint64_t> items_out_of_order_;                      // sequence → items
    uint64_t next_sequence_ = 0;
    size_t in_flight_ = 0;
    size_t window_;
    size_t successes_since_cut_ = 0;
    double budget_tokens_ = 0;
    std::chrono::steady_clock::time_point budget_at_{};
    uint64_t jitter_state_;
    checkpoint checkpoint_;
    writer_stats stats_;
    std::optional<error> failure_;
    bool stopped_ = false;
};

}  // namespace tarius::loader
