#pragma once
/// One load: an S3 object (or a local file) → decompress → CSV → items → DynamoDB, with the ledger claim,
/// rejects and the report written to S3, an SNS summary and metrics. Shared by `tarius load`, the worker and
/// the Lambda function.
///
/// A load is four steps over one load_outcome: claim (the ledger decides whether and from where), run (the
/// pipeline writes the items; counts come from DynamoDB's acknowledgements), publish (rejects, report,
/// notification) and finish (the ledger records the end or keeps the checkpoint). Its status is decided in one
/// place (decide_status), from the failure that stopped it, classified once (aws::classify).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/error_class.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/aws/sns.hpp"
#include "tarius/csv.hpp"
#include "tarius/loader/checkpoint.hpp"
#include "tarius/loader/counts.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/ledger.hpp"
#include "tarius/loader/snapshot.hpp"
#include "tarius/loader/write_strategy.hpp"
#include "tarius/loader/writer.hpp"
#include "tarius/mapping.hpp"
#include "tarius/pipeline/engine.hpp"

namespace tarius::loader {

namespace detail {
struct pipeline_request;
}

/// Configuration of the loader (environment variables in service modes, flags in the CLI; see README).
struct loader_config {
    std::string feed = "default";                      ///< the feed's name (reports, metrics, ledger, messages)
    std::string table;                                 ///< TARIUS_TABLE: target table
    std::string ledger_table;                          ///< TARIUS_LEDGER_TABLE: empty = no ledger (one-off CLI loads)
    std::string topic_arn;                             ///< TARIUS_TOPIC_ARN: empty = no notification
    std::string rejects_prefix = "invalid-records/";   ///< TARIUS_REJECTS_PREFIX
    std::string reports_prefix = "load-reports/";      ///< TARIUS_REPORTS_PREFIX
    std::string kms_key_id;                            ///< TARIUS_KMS_KEY_ARN: SSE-KMS key for rejects and reports
    mapping::mapping mapping;                          ///< TARIUS_MAPPING: column rules (keys come from the table)
    std::optional<pipeline::row_operation> operation;  ///< a delete feed's operation column
    std::optional<pipeline::row_version> version;      ///< a newer feed's version column
    write_settings writes;  ///< how rows become requests (BatchWriteItem unless the feed's mode needs conditions)
    std::optional<snapshot_options> snapshot;  ///< a snapshot feed's settings (none: not a snapshot feed)
    /// TARIUS_SNAPSHOT_DIR: where snapshot feeds loading local files keep their digests (one directory per feed).
    std::string snapshot_directory = ".tarius-snapshots";
    csv::dialect dialect;   ///< how to read the CSV
    writer_options writer;  ///< concurrency, budget, memory bound, no-progress limit (table and keys set per load)
    uint64_t max_object_bytes = 0;             ///< TARIUS_MAX_OBJECT_BYTES: larger objects fail; 0 = no limit
    std::string worker_id;                     ///< owner name in the ledger (host:pid by default)
    std::chrono::seconds heartbeat_every{15};  ///< checkpoint/lease refresh period
    std::chrono::seconds lease{90};            ///< a load whose owner is silent this long is taken over
    size_t max_errors_listed = 10;             ///< first errors in the report
    uint64_t max_rejects = UINT64_MAX;         ///< `tarius load --max-rejects`: more rejected rows fail the load
    /// With a ledger, rows DynamoDB may refuse before the load fails (their lines travel in the checkpoint).
    uint64_t max_refusals_checkpointed = 1000;
};

/// How a load ended.
enum class load_status : uint8_t {
    SUCCEEDED,               ///< every row written
    SUCCEEDED_WITH_REJECTS,  ///< good rows written, bad rows in the rejects
    FAILED,                  ///< permanent: recorded and notified; do not retry (see load_outcome::failure)
    RETRY,                   ///< transient: checkpoint saved; the event must fail so the platform retries it
    STOPPED,                 ///< stopped on request (deadline, signal) with the checkpoint saved; continue later
    SKIPPED,                 ///< duplicate, in progress elsewhere, stale event, or the object changed
};

/// Returns "succeeded", "succeeded_with_rejects", "failed", "retry", "stopped", "skipped".
const char* load_status_name(load_status status) noexcept;

/// The result of one load.
struct load_outcome {
    load_status status = load_status::FAILED;
    /// For FAILED and RETRY: what the failure was (RECORD: this object; FATAL: the deployment — nothing was
    /// recorded, the event should go back for a retry after the fix; THROTTLED/TRANSIENT for RETRY).
    aws::error_class failure = aws::error_class::RECORD;
    std::string feed;                        ///< the feed it belongs to
    std::string table;                       ///< its table
    std::string source;                      ///< s3://bucket/key or the local path
    std::string version;                     ///< the object's version id or ETag
    std::string load_id;                     ///< ledger load id (a random id without a ledger)
    std::string message;                     ///< one line for logs: why skipped / failed / stopped
    load_counts counts;                      ///< what the load did (acknowledged writes only)
    std::vector<row_problem> first_errors;   ///< the first rejected rows' problems (bounded)
    std::string snapshot_json;               ///< a snapshot feed's load: what it compared (the report's `snapshot`)
    checkpoint resume;                       ///< where a continuation starts (STOPPED / RETRY)
    claim_kind claim = claim_kind::CLAIMED;  ///< what the ledger said
    std::string report_json;                 ///< the report (also written to S3 and published)
    std::string report_uri;                  ///< where the report was written; empty when it was not
    std::string rejects_csv_uri;             ///< the rejects CSV; empty when there is none
    std::string rejects_reasons_uri;         ///< the reasons beside it
    std::string rejects_error;               ///< why the rejects could not be written, when they could not
};

/// Asked periodically during a load; returning true stops it with the checkpoint saved.
using stop_predicate = std::function<bool()>;

/// How far a running load is, for progress bars and progress log lines.
struct load_progress {
    std::string source;          ///< s3://bucket/key or the local path
    uint64_t bytes_read = 0;     ///< bytes of the object/file read so far, as stored (before decompression)
    uint64_t total_bytes = 0;    ///< size of the object/file as stored; 0 when unknown (stdin, a pipe)
    uint64_t decoded_bytes = 0;  ///< decoded input consumed by the batches sealed so far
    /// Data rows so far. While running: the input lines up to the last sealed batch, less the header (a row whose
    /// quoted field spans lines counts once per line, blank lines count). Exact (rows_read) when `done`.
    uint64_t rows = 0;
    uint64_t items_batched = 0;     ///< items placed in sealed batches
    uint64_t items_written = 0;     ///< items DynamoDB acknowledged in this run (a resumed load skips earlier ones)
    uint64_t rows_rejected = 0;     ///< rows rejected; known only when `done` (0 before)
    uint64_t throttles = 0;         ///< requests throttled so far
    double throttled_share = 0;     ///< share of requests throttled so far, 0..1
    double wcu_per_second = 0;      ///< write units per second accepted, on average since the load started
    double wcu_consumed = 0;        ///< write units DynamoDB reported consumed so far
    double rate_limit = 0;          ///< the writer's current sending rate in write units/s; 0 = unlimited
    double budget_wcu = 0;          ///< the write budget (--max-wcu) in write units/s; 0 = none
    bool table_limited = false;     ///< the table's capacity limits the writes now (it throttled within ~0.1 s)
    double table_capacity = 0;      ///< the table's capacity measured while it throttled, in write units/s; 0 = not yet
    double recent_handed_back = 0;  ///< share of the write units answered over the last second that came back, 0..1
    /// Write units per second Tarius sent while nothing limited it (before the table first throttled): about the
    /// capacity this load could use; 0 = not measured.
    double demand_wcu = 0;
    double elapsed_seconds = 0;  ///< since the load started
    bool done = false;           ///< the last report of the load: the counts are final
};

/// Receives progress reports on the load's own thread; it must return quickly (it holds up the load).
using progress_callback = std::function<void(const load_progress&)>;

/// Optional settings of one load_object / load_file call.
struct load_options {
    /// Called at most every `progress_every` while bytes flow or writes complete, and once more with `done` set
    /// when the pipeline ended (whatever the outcome); not called for loads that end before the read.
    progress_callback progress;
    std::chrono::milliseconds progress_every{200};  ///< the shortest interval between two running reports
    /// After a stop, how long requests in flight may still complete (a Lambda invocation has the margin
    /// before its deadline; a CLI has patience).
    std::chrono::milliseconds stop_grace{10000};
};

/// Runs loads. Clients, the table's key schema (DescribeTable, cached per table) and the ledger are reused
/// across loads. Thread-safe: several loads may run at once on different threads.
class load_runner {
public:
    /// Precondition: the clients outlive the runner. `sns` may be null when no topic is configured.
    load_runner(std::shared_ptr<aws::s3_client> s3, std::shared_ptr<aws::dynamodb_client> ddb,
                std::function<std::shared_ptr<aws::dynamodb_client>()> writer_client_factory,
                std::shared_ptr<aws::sns_client> sns, loader_config config);
    ~load_runner();

    /// Loads one S3 object announced by an event (ledger claim, pinned version, rejects/report to S3, SNS).
    [[nodiscard]] load_outcome load_object(const object_ref& obj, const std::string& request_id,
                                           const stop_predicate& stop = {}, const load_options& options = {});
    /// Loads a local file (or "-") into the table: no ledger, rejects to local files when `rejects_path` is set.
    [[nodiscard]] load_outcome load_file(const std::string& path, const std::string& rejects_path,
                                         const stop_predicate& stop = {}, const load_options& options = {});

    /// The key schema of the configured table (DescribeTable once, then cached).
    [[nodiscard]] result<mapping::key_schema> key_schema();

    /// The configuration.
    [[nodiscard]] const loader_config& config() const noexcept { return config_; }

private:
    struct object_load;

    [[nodiscard]] bool claim(object_load& load, const stop_predicate& stop);
    void run(object_load& load, const stop_predicate& stop, const load_options& options);
    void publish(object_load& load, const stop_predicate& stop);
    void finish(object_load& load);
    [[nodiscard]] bool start_snapshot(object_load& load, const mapping::key_schema& keys,
                                      detail::pipeline_request& request, const stop_predicate& stop);
    void end_snapshot(object_load& load);
    [[nodiscard]] result<void> lock_feed(const std::string& load_id);

    std::shared_ptr<aws::s3_client> s3_;
    std::shared_ptr<aws::dynamodb_client> ddb_;
    std::function<std::shared_ptr<aws::dynamodb_client>()> writer_client_factory_;
    std::shared_ptr<aws::sns_client> sns_;
    loader_config config_;
    std::unique_ptr<ledger> ledger_;
    std::mutex schema_mutex_;
    std::optional<mapping::key_schema> schema_;
};

/// The status of a load that ran, and why: decided here and nowhere else. `failure` is what stopped the pipeline
/// (none when it ran to the end); `counts` what it did.
struct status_decision {
    load_status status = load_status::FAILED;             ///< the status
    aws::error_class failure = aws::error_class::RECORD;  ///< the failure's class (FAILED, RETRY)
    std::string message;                                  ///< the reason (empty on success)
};
[[nodiscard]] status_decision decide_status(const std::optional<error>& failure, const load_counts& counts);

/// Builds the report JSON of a load.
[[nodiscard]] std::string report_json(const load_outcome& outcome, const std::string& table);

/// The human text of the notification: "Loaded 998 of 1,000 rows of s3://…/products.csv into product in
/// 0.8 s; 2 rows rejected, see s3://…".
[[nodiscard]] std::string notification_text(const load_outcome& outcome, const std::string& table);

/// An EMF (CloudWatch Embedded Metric Format) line with the load's metrics, dimensions table and status.
[[nodiscard]] std::string emf_metrics_line(const load_outcome& outcome, const std::string& table);

/// Logs one structured line for a load and prints its EMF metrics line (not for skipped loads).
void log_load(const load_outcome& outcome, const std::string& table);

}  // namespace tarius::loader
