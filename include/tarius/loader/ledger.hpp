#pragma once
/// The load ledger: a small DynamoDB table (partition key `pk`, string) that makes loads exactly-once on
/// at-least-once events, with conditional writes.
///
/// Items:
/// - per object key, `pk = "s3://bucket/key"`: the highest event sequencer seen (stale events are skipped);
/// - per load, `pk = "s3://bucket/key#<version>"` (version = versionId, else ETag): status, owner and lease,
///   checkpoint, counts, timestamps, request id, report location; `expires_at` is the TTL attribute.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/writer.hpp"
#include "tarius/result.hpp"

namespace tarius::loader {

/// The state of one load in the ledger.
struct load_record {
    std::string pk;                ///< "s3://bucket/key#version"
    std::string feed;              ///< the feed the object belongs to
    std::string source;            ///< "s3://bucket/key"
    std::string version;           ///< versionId or ETag
    std::string status;            ///< in_progress, succeeded, succeeded_with_rejects, failed
    std::string owner;             ///< worker id holding the lease
    int64_t lease_expires_at = 0;  ///< epoch seconds
    std::string load_id;           ///< unique id of the load (kept across takeovers)
    std::string request_id;        ///< request id of the current owner's invocation
    checkpoint resume;             ///< where a takeover resumes
    int64_t started_at = 0;        ///< epoch seconds
    int64_t updated_at = 0;        ///< epoch seconds
    std::string report_json;       ///< the final report (when finished)
    std::string error;             ///< the failure, when failed
    uint64_t attempts = 0;         ///< how many owners worked on it
};

/// What to do with an event.
enum class claim_kind : uint8_t {
    CLAIMED,       ///< a new load: go
    RESUMED,       ///< a load whose owner died: go, from `record.resume`
    ALREADY_DONE,  ///< finished before (succeeded or failed permanently): skip
    IN_PROGRESS,   ///< a live owner is loading it: skip
    STALE,         ///< an older version than one already seen for this key: skip
};

/// The outcome of claim().
struct claim_result {
    claim_kind kind = claim_kind::CLAIMED;
    load_record record;  ///< the record as it now is
};

/// Returns "claimed", "resumed", "already_done", "in_progress" or "stale".
const char* claim_kind_name(claim_kind kind) noexcept;

/// Ledger operations. Thread-safe when the client is.
class ledger {
public:
    /// `clock` returns epoch seconds (injectable for tests).
    ledger(aws::dynamodb_client& client, std::string table, std::string owner,
           std::chrono::seconds lease = std::chrono::seconds(120),
           std::chrono::seconds ttl = std::chrono::hours(24 * 90));

    /// Decides and records who loads `obj`: the stale check on the key's sequencer, then a conditional claim of
    /// the load record (new, or taken over when its lease expired).
    [[nodiscard]] result<claim_result> claim(const object_ref& obj, const std::string& request_id);
    /// Extends the lease and saves the checkpoint; errc::CONFLICT when another owner took the load.
    [[nodiscard]] result<void> heartbeat(load_record& record, const checkpoint& at);
    /// Records the end of a load (status succeeded, succeeded_with_rejects or failed), with its report.
    [[nodiscard]] result<void> finish(load_record& record, const std::string& status, const std::string& report_json,
                                      const std::string& error_message);
    /// Releases the lease after a transient failure so a retry can take over at once (checkpoint kept).
    [[nodiscard]] result<void> release(load_record& record, const checkpoint& at, const std::string& error_message);
    /// Snapshot feeds: one load of a feed at a time. Takes the feed's lock for `load_id`, or renews it, for a
    /// lease; errc::CONFLICT naming the holder when another load holds it and its lease runs. The lock is kept
    /// while the load is unfinished (a continuation renews it), so no other snapshot of the feed interleaves.
    [[nodiscard]] result<void> lock_feed(const std::string& feed, const std::string& load_id);
    /// Releases the feed's lock when `load_id` holds it.
    [[nodiscard]] result<void> unlock_feed(const std::string& feed, const std::string& load_id);
    /// The most recent load records (Scan; the ledger is small), newest first.
    [[nodiscard]] result<std::vector<load_record>> recent(size_t limit);

    /// Names the feed recorded with each new load (default "default").
    void set_feed(std::string feed) { feed_ = std::move(feed); }

    /// The record key of a load: "s3://bucket/key#version".
    [[nodiscard]] static std::string load_key(const object_ref& obj);

private:
    [[nodiscard]] result<std::optional<load_record>> get(const std::string& pk);
    [[nodiscard]] int64_t now() const;

    aws::dynamodb_client& client_;
    std::string table_;
    std::string owner_;
    std::chrono::seconds lease_;
    std::chrono::seconds ttl_;
    std::string feed_ = "default";
};

/// One load record as a JSON line for `tarius loads --json`: source, version, status, load_id, started_at,
/// attempts and the report (null until the load ends); strings escaped, whatever the object key holds.
[[nodiscard]] std::string load_record_json(const load_record& record);

}  // namespace tarius::loader
