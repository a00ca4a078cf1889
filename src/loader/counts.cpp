#include "tarius/loader/counts.hpp"

#include "json/writer.hpp"

namespace tarius::loader {
namespace {

// One count: its name in the report's "counts" object, its EMF metric (empty: not a metric) and unit.
struct count_field {
    const char* json_name;
    const char* metric_name;
    const char* unit;
    double (*number)(const load_counts&);
    bool integral;
};

double as_double(uint64_t v) {
    return static_cast<double>(v);
}

// The one list of counts: the JSON object and the EMF metrics are both written from it.
const count_field FIELDS[] = {
    {"rows", "RowsRead", "Count", [](const load_counts& c) { return as_double(c.rows); }, true},
    {"items_written", "ItemsWritten", "Count", [](const load_counts& c) { return as_double(c.items_written); }, true},
    {"deleted", "ItemsDeleted", "Count", [](const load_counts& c) { return as_double(c.deleted); }, true},
    {"rejected", "RowsRejected", "Count", [](const load_counts& c) { return as_double(c.rejected); }, true},
    {"duplicates_collapsed", "DuplicatesCollapsed", "Count",
     [](const load_counts& c) { return as_double(c.duplicates_collapsed); }, true},
    {"skipped_existing", "RowsSkippedExisting", "Count",
     [](const load_counts& c) { return as_double(c.skipped_existing); }, true},
    {"skipped_stale", "RowsSkippedStale", "Count", [](const load_counts& c) { return as_double(c.skipped_stale); },
     true},
    {"resent_uncertain", "RowsResentUncertain", "Count",
     [](const load_counts& c) { return as_double(c.resent_uncertain); }, true},
    {"unchanged", "RowsUnchanged", "Count", [](const load_counts& c) { return as_double(c.unchanged); }, true},
    {"absent_deleted", "ItemsRemoved", "Count", [](const load_counts& c) { return as_double(c.absent_deleted); }, true},
    {"not_loaded", "RowsNotLoaded", "Count", [](const load_counts& c) { return as_double(c.not_loaded); }, true},
    {"blank_lines", "", "", [](const load_counts& c) { return as_double(c.blank_lines); }, true},
    {"bytes", "BytesRead", "Bytes", [](const load_counts& c) { return as_double(c.bytes); }, true},
    {"compressed_bytes", "", "", [](const load_counts& c) { return as_double(c.compressed_bytes); }, true},
    {"requests", "WriteRequests", "Count", [](const load_counts& c) { return as_double(c.requests); }, true},
    {"requests_throttled", "Throttles", "Count", [](const load_counts& c) { return as_double(c.requests_throttled); },
     true},
    {"throttled_share", "ThrottledShare", "None", [](const load_counts& c) { return c.throttled_share(); }, false},
    {"wcu_consumed", "WCUConsumed", "Count", [](const load_counts& c) { return c.wcu_consumed; }, false},
    {"wcu_estimated", "WCUEstimated", "Count", [](const load_counts& c) { return c.wcu_estimated; }, false},
    {"wcu_per_second", "WCUPerSecond", "Count/Second", [](const load_counts& c) { return c.wcu_per_second(); }, false},
    {"table_capacity_wcu", "TableCapacityWCU", "Count/Second",
     [](const load_counts& c) { return c.table_capacity_wcu; }, false},
    {"demand_wcu", "DemandWCU", "Count/Second", [](const load_counts& c) { return c.demand_wcu; }, false},
    {"seconds", "LoadDuration", "Seconds", [](const load_counts& c) { return c.seconds; }, false},
    {"reports_not_written", "ReportWriteFailures", "Count",
     [](const load_counts& c) { return as_double(c.reports_not_written); }, true},
    {"notifications_not_sent", "NotificationFailures", "Count",
     [](const load_counts& c) { return as_double(c.notifications_not_sent); }, true},
};

void write_number(json::writer& w, const count_field& field, const load_counts& counts) {
    const double number = field.number(counts);
    if (field.integral) {
        w.value(static_cast<uint64_t>(number));
    } else {
        w.value(number);
    }
}

}  // namespace

void write_counts(json::writer& w, const load_counts& counts) {
    w.begin_object();
    for (const count_field& field : FIELDS) {
        w.key(field.json_name);
        write_number(w, field, counts);
        if (std::string_view(field.json_name) == "rejected") {
            w.key("rejected_by_reason").begin_object();
            for (size_t reason_idx = 0; reason_idx < counts.rejected_by_reason.size(); ++reason_idx) {
                if (!counts.rejected_by_reason[reason_idx]) continue;
                w.key(reject_reason_name(static_cast<reject_reason>(reason_idx)))
                    .value(counts.rejected_by_reason[reason_idx]);
            }
            w.end_object();
        }
    }
    w.key("compression").value(counts.compression);
    w.key("reconciles").value(counts.reconciles());
    w.end_object();
}

void write_count_metric_definitions(json::writer& w) {
    for (const count_field& field : FIELDS) {
        if (*field.metric_name == '\0') continue;
        w.begin_object().key("Name").value(field.metric_name).key("Unit").value(field.unit).end_object();
    }
}

void write_count_metrics(json::writer& w, const load_counts& counts) {
    for (const count_field& field : FIELDS) {
        if (*field.metric_name == '\0') continue;
        w.key(field.metric_name);
        write_number(w, field, counts);
    }
}

}  // namespace tarius::loader
