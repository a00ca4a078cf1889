#include "tarius/pipeline/summary.hpp"

#include "json/writer.hpp"

namespace tarius::pipeline {

std::string to_json(const summary& s) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("source").value(s.source);
    w.key("rows_read").value(s.rows_read);
    w.key("items").value(s.items);
    w.key("rows_rejected").value(s.rows_rejected);
    w.key("rejected_by_reason").begin_object();
    for (size_t reason_idx = 0; reason_idx < s.rejected_by_reason.size(); ++reason_idx) {
        if (s.rejected_by_reason[reason_idx] == 0) continue;
        w.key(reject_reason_name(static_cast<reject_reason>(reason_idx))).value(s.rejected_by_reason[reason_idx]);
    }
    w.end_object();
    w.key("duplicates_collapsed").value(s.duplicates_collapsed);
    w.key("blank_lines").value(s.blank_lines);
    w.key("batches").value(s.batches);
    w.key("bytes_in").value(s.bytes_in);
    w.key("compressed_bytes_in").value(s.compressed_bytes_in);
    w.key("compression").value(s.compression);
    w.key("elapsed_seconds").value(s.elapsed_seconds);
    w.key("reconciles").value(s.reconciles());
    w.key("first_errors").begin_array();
    for (const auto& p : s.first_errors) {
        w.begin_object();
        w.key("line").value(p.line);
        w.key("byte_offset").value(p.byte_offset);
        if (p.column_index >= 0) w.key("column").value(p.column);
        w.key("reason").value(reject_reason_name(p.reason));
        w.key("message").value(p.message);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return out;
}

std::string format_problem(const std::string& source, const row_problem& p) {
    std::string out = source + ":" + std::to_string(p.line) + ": ";
    if (p.column_index >= 0) out += "column " + p.column + ": ";
    out += p.message;
    out += " [";
    out += reject_reason_name(p.reason);
    out += "] (byte " + std::to_string(p.byte_offset) + ")";
    return out;
}

}  // namespace tarius::pipeline
