#include <chrono>
#include <cstdio>

#include "json/writer.hpp"
#include "tarius/loader/load_job.hpp"
#include "tarius/loader/log.hpp"

namespace tarius::loader {
namespace {

std::string with_thousands(uint64_t value) {
    std::string digits = std::to_string(value);
    for (int pos = static_cast<int>(digits.size()) - 3; pos > 0; pos -= 3) digits.insert(static_cast<size_t>(pos), ",");
    return digits;
}

}  // namespace

std::string report_json(const load_outcome& outcome, const std::string& table) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("source").value(outcome.source);
    if (!outcome.feed.empty()) w.key("feed").value(outcome.feed);
    if (!outcome.version.empty()) w.key("version").value(outcome.version);
    w.key("table").value(table);
    w.key("load_id").value(outcome.load_id);
    w.key("status").value(load_status_name(outcome.status));
    w.key("counts");
    write_counts(w, outcome.counts);
    if (!outcome.rejects_csv_uri.empty()) {
        w.key("rejects").begin_object().key("csv").value(outcome.rejects_csv_uri);
        w.key("reasons").value(outcome.rejects_reasons_uri).end_object();
    } else if (!outcome.rejects_error.empty()) {
        w.key("rejects").begin_object().key("error").value(outcome.rejects_error).end_object();
    }
    if (!outcome.snapshot_json.empty()) w.key("snapshot").raw(outcome.snapshot_json);
    w.key("first_errors").begin_array();
    for (const auto& p : outcome.first_errors) {
        w.begin_object().key("line").value(p.line).key("byte_offset").value(p.byte_offset);
        if (p.column_index >= 0) w.key("column").value(p.column);
        w.key("reason").value(reject_reason_name(p.reason)).key("message").value(p.message).end_object();
    }
    w.end_array();
    if (outcome.status == load_status::STOPPED || outcome.status == load_status::RETRY) {
        w.key("checkpoint").begin_object().key("offset").value(outcome.resume.offset);
        w.key("line").value(outcome.resume.line).end_object();
    }
    if (!outcome.message.empty()) w.key("error").value(outcome.message);
    w.end_object();
    return out;
}

std::string notification_text(const load_outcome& outcome, const std::string& table) {
    const load_counts& c = outcome.counts;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", c.seconds);
    if (outcome.status == load_status::FAILED) {
        std::string text = "Failed to load " + outcome.source + " into " + table + ": " + outcome.message + ".";
        if (c.items_written) text += " " + with_thousands(c.items_written) + " rows were written before it stopped.";
        return text + " Nothing more will be retried for this file; fix it and upload it again.";
    }
    std::string text = "Loaded " + with_thousands(c.items_written) + " of " + with_thousands(c.rows) + " rows of " +
                       outcome.source + " into " + table + " in " + seconds + " s";
    if (c.deleted) text += "; " + with_thousands(c.deleted) + " deleted";
    if (c.duplicates_collapsed) text += " (" + with_thousands(c.duplicates_collapsed) + " repeated keys, last row won)";
    if (c.rejected) {
        text += "; " + with_thousands(c.rejected) + (c.rejected == 1 ? " row" : " rows") + " rejected";
        if (!outcome.rejects_csv_uri.empty()) text += ", see " + outcome.rejects_csv_uri;
        if (!outcome.rejects_error.empty())
            text += " (the rejects could not be written: " + outcome.rejects_error + ")";
    }
    return text + ".";
}

std::string emf_metrics_line(const load_outcome& outcome, const std::string& table) {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("_aws").begin_object().key("Timestamp").value(static_cast<int64_t>(now_ms));
    w.key("CloudWatchMetrics").begin_array().begin_object().key("Namespace").value("Tarius");
    // By table and status (the alarms' dimensions), and by feed and status.
    w.key("Dimensions").begin_array();
    w.begin_array().value("table").value("status").end_array();
    w.begin_array().value("feed").value("status").end_array();
    w.end_array();
    w.key("Metrics").begin_array();
    write_count_metric_definitions(w);
    w.begin_object().key("Name").value("LoadsFailed").key("Unit").value("Count").end_object();
    w.end_array().end_object().end_array().end_object();
    w.key("table").value(table);
    w.key("feed").value(outcome.feed.empty() ? std::string("default") : outcome.feed);
    w.key("status").value(load_status_name(outcome.status));
    w.key("load_id").value(outcome.load_id);
    w.key("source").value(outcome.source);
    write_count_metrics(w, outcome.counts);
    w.key("LoadsFailed").value(uint64_t{outcome.status == load_status::FAILED ? 1u : 0u});
    w.end_object();
    return out;
}

void log_load(const load_outcome& outcome, const std::string& table) {
    const bool bad = outcome.status == load_status::FAILED || outcome.status == load_status::RETRY;
    {
        log_entry line(bad ? "error" : "info", std::string("load ") + load_status_name(outcome.status));
        line.with("load_id", outcome.load_id)
            .with("feed", outcome.feed)
            .with("source", outcome.source)
            .with("table", table);
        if (outcome.status != load_status::SKIPPED) line.with_counts(outcome.counts);
        if (bad) line.with("failure", aws::error_class_name(outcome.failure));
        if (!outcome.message.empty()) line.with("detail", outcome.message);
    }
    if (outcome.status != load_status::SKIPPED) print_log_line(emf_metrics_line(outcome, table));
}

}  // namespace tarius::loader
