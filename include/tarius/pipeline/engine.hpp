#pragma once
/// The load engine: decoded bytes → CSV rows → typed items → batches, with rejects and a summary.
/// No network: the caller supplies where batches and rejects go.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tarius/csv.hpp"
#include "tarius/mapping.hpp"
#include "tarius/pipeline/batch.hpp"
#include "tarius/pipeline/rejects.hpp"
#include "tarius/pipeline/summary.hpp"
#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::pipeline {

/// A column that says what each row does: a delete (only the key columns are read) or a put.
struct row_operation {
    std::string column;                      ///< its header name (it is not an attribute)
    std::vector<std::string> delete_values;  ///< cells that make the row a delete
    std::vector<std::string> put_values;     ///< cells that make it a put; empty: any other cell is a put
};

/// The version column of a `newer` feed: each row's version, checked and canonical, goes with its item
/// (`batch::item_aux`, as DynamoDB JSON) for the write's condition.
struct row_version {
    std::string column;      ///< its header name
    bool timestamp = false;  ///< an ISO-8601 timestamp (stored as canonical UTC text), else a DynamoDB number
};

/// What the engine needs to know.
struct engine_options {
    std::string source;                        ///< for messages and the summary
    std::string table;                         ///< target table name (goes into the request bodies)
    csv::dialect dialect;                      ///< how to read the CSV
    mapping::mapping mapping;                  ///< column rules; `mapping.keys` is used unless `keys` is set
    std::optional<mapping::key_schema> keys;   ///< the table's key schema (e.g. from DescribeTable)
    size_t max_errors_listed = 10;             ///< problems kept in summary::first_errors
    uint64_t max_rejects = UINT64_MAX;         ///< stop the file (errc::LIMIT) when more rows than this are rejected
    size_t max_batch_bytes = MAX_BATCH_BYTES;  ///< seal a request body before it grows past this
    bool keep_rows = false;  ///< keep each item's raw row in its batch (a loader rejects rows DynamoDB refuses)
    /// Rows whose operation column names a delete become deletes (DeleteRequest), in file order with the puts.
    std::optional<row_operation> operation;
    /// Rows of a `newer` feed carry their version; an empty or unreadable cell rejects the row (invalid_version).
    std::optional<row_version> version;
    /// Collapse a later row of a key into the earlier one within a batch (BatchWriteItem), or seal the batch so
    /// that every row is its own write (conditional and update writes).
    duplicate_policy duplicates = duplicate_policy::COLLAPSE;
    /// Keep the attributes an empty cell asks to remove with each item (`batch::item_aux`: merge feeds).
    bool keep_removed = false;
    /// Snapshot feeds, second pass: whether the row of `line` is sent. A row not sent (unchanged since the last
    /// snapshot, or replaced by a later row of its key) is counted in summary::rows_unchanged.
    std::function<bool(uint64_t line)> send_row;
    /// Snapshot feeds, first pass: the key of a row the mapping rejected, when its key columns encode (the item
    /// stays in the table: a bad cell is not a removed row).
    std::function<void(const mapping::encoded_item& key, std::string_view key_json, uint64_t line)> on_rejected_key;
    /// Finish the rejects writer at the end of the input (or when the reject limit stops it). A loader keeps it
    /// open until its writes are acknowledged, because DynamoDB may still refuse rows, and finishes it itself.
    bool finish_rejects = true;
    /// 1: everything runs on the thread that writes the input. 2: reading and scanning the CSV stay on that
    /// thread while mapping, encoding and batching run on a second one (handed blocks of parsed rows, a few
    /// at a time, so memory stays bounded). Output, rejects, errors and the summary are the same either way,
    /// but with 2 the batch sink and the rejects writer are called from the engine's thread (never
    /// concurrently, and never after finish() or an error has returned), and current_summary() is complete
    /// only after finish() or an error. Falls back to 1 when the thread cannot be started.
    unsigned threads = 1;
};

/// Runs one input through the pipeline. Write raw (possibly compressed) bytes to `input()`, then call finish().
class engine {
public:
    /// Fails with INVALID_ARGUMENT when no key schema is given. `rejects` may be null (rejects counted only).
    [[nodiscard]] static result<std::unique_ptr<engine>> create(engine_options options, batch_sink& batches,
                                                                rejects_writer* rejects);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// The sink to write the input's bytes into (it decodes gzip/zstd itself).
    [[nodiscard]] byte_sink& input() noexcept;
    /// Ends the input, flushes the last batch and the rejects. Returns the first file-level error, if any.
    [[nodiscard]] result<void> finish();
    /// Skips input below a checkpoint (see csv::reader::resume_at). Call before the first write.
    void resume_at(uint64_t offset, uint64_t line);
    /// The summary: complete after finish() or an error; before that, with one thread, the counts so far (rows
    /// read, items batched, bytes), as a load stopped by its caller reports them.
    [[nodiscard]] const summary& current_summary() noexcept;

private:
    struct impl;
    explicit engine(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

/// Convenience: runs a local file (or "-" for stdin) through an engine and returns the summary.
[[nodiscard]] result<summary> run_file(const std::string& path, engine_options options, batch_sink& batches,
                                       rejects_writer* rejects);

}  // namespace tarius::pipeline
