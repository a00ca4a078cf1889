#pragma once
/// The counts of a load, in one type serialised in one place: the report, the SNS message, the EMF metrics, the
/// log lines, `tarius loads` and the Lambda function's answer all take them from here.
///
/// Every count comes from what happened, never from what was planned: `items_written` is what DynamoDB
/// acknowledged. Invariant: rows == items_written + deleted + rejected + duplicates_collapsed + skipped_existing +
/// skipped_stale + resent_uncertain + unchanged + not_loaded, where not_loaded (rows read but neither written, deleted,
/// rejected, replaced nor skipped) is 0 for a load that finished.

#include <array>
#include <cstdint>
#include <string>

#include "tarius/reject.hpp"

namespace tarius::json {
class writer;
}

namespace tarius::loader {

/// What a load did.
struct load_counts {
    uint64_t rows = 0;           ///< data rows read (not the header, not blank lines)
    uint64_t items_written = 0;  ///< items DynamoDB acknowledged (puts)
    uint64_t deleted = 0;        ///< deletes DynamoDB acknowledged (rows of a delete feed's operation)
    uint64_t rejected = 0;       ///< rows rejected (by the mapping, or refused by DynamoDB)
    std::array<uint64_t, static_cast<size_t>(reject_reason::COUNT_)> rejected_by_reason{};  ///< per reason
    uint64_t duplicates_collapsed = 0;  ///< rows replaced by a later row of the same key in the same request
    uint64_t skipped_existing = 0;      ///< insert feeds: rows not written because an item had their key
    uint64_t skipped_stale = 0;         ///< newer feeds: rows not written because the stored version was not lower
    /// Resumed insert (without row marker) and newer feeds: rows a stopped run may have sent whose condition was
    /// false when sent again: written by that run (and written over since) or skipped then too; the table is exact
    /// either way. Bounds by how much skipped_existing/skipped_stale may exceed, and items_written fall short of,
    /// what happened.
    uint64_t resent_uncertain = 0;
    uint64_t unchanged = 0;  ///< snapshot feeds: rows not written because the last snapshot wrote the same item
    /// Snapshot feeds: items deleted because the file no longer holds their keys (items, not rows of the file).
    uint64_t absent_deleted = 0;
    uint64_t not_loaded = 0;           ///< rows read but not (yet) written or rejected: a load that stopped/failed
    uint64_t blank_lines = 0;          ///< blank lines skipped (not rows)
    uint64_t bytes = 0;                ///< decoded bytes read
    uint64_t compressed_bytes = 0;     ///< bytes read as stored
    std::string compression = "none";  ///< none, gzip or zstd
    uint64_t requests = 0;             ///< BatchWriteItem requests sent (resends included)
    uint64_t requests_throttled = 0;   ///< requests the table throttled (an error, or unprocessed items)
    double wcu_consumed = 0;           ///< write units consumed (reported by DynamoDB, plus wcu_estimated)
    /// Write units of conditional writes whose condition was false: charged by DynamoDB, not reported in its
    /// answer, estimated from the row's size (part of wcu_consumed).
    double wcu_estimated = 0;
    /// The table's capacity measured while it throttled (write units/s; 0 when it never throttled this run).
    double table_capacity_wcu = 0;
    /// The pace the writer kept before the table first throttled (write units/s): what the table would have to
    /// accept for the load not to wait on it (this run); 0 when it was not measured (the table never throttled, or
    /// throttled within the first 30 ms, too soon to tell a pace from the first burst of requests).
    double demand_wcu = 0;
    double write_seconds = 0;             ///< time spent writing (for the write rate)
    double seconds = 0;                   ///< the load's wall time
    uint64_t reports_not_written = 0;     ///< report objects that could not be written to S3
    uint64_t notifications_not_sent = 0;  ///< SNS messages that could not be published

    /// Rows accounted for: written, deleted, rejected, collapsed or skipped.
    [[nodiscard]] uint64_t accounted() const noexcept {
        return items_written + deleted + rejected + duplicates_collapsed + skipped_existing + skipped_stale +
               resent_uncertain + unchanged;
    }
    /// True when every row read is accounted for.
    [[nodiscard]] bool reconciles() const noexcept { return not_loaded == 0 && rows == accounted(); }
    /// Write units per second achieved while writing (0 when nothing was written).
    [[nodiscard]] double wcu_per_second() const noexcept {
        return write_seconds > 0 ? wcu_consumed / write_seconds : 0;
    }
    /// The share of requests the table throttled, 0..1.
    [[nodiscard]] double throttled_share() const noexcept {
        return requests ? static_cast<double>(requests_throttled) / static_cast<double>(requests) : 0;
    }
};

/// Writes the counts as one JSON object (the value of a "counts" member).
void write_counts(json::writer& w, const load_counts& counts);

/// Writes the counts as EMF metric values (top-level members named like the metrics) for an EMF line whose
/// metric definitions `write_count_metric_definitions` wrote.
void write_count_metrics(json::writer& w, const load_counts& counts);

/// Writes the EMF metric definitions ({"Name":..,"Unit":..} objects) of the counts.
void write_count_metric_definitions(json::writer& w);

}  // namespace tarius::loader
