#include "json/writer.hpp"
#include "tarius/pipeline/rejects.hpp"

namespace tarius::pipeline {

rejects_writer::rejects_writer(byte_sink& csv_out, byte_sink& reasons_out, size_t flush_bytes)
    : csv_out_(csv_out), reasons_out_(reasons_out), flush_bytes_(flush_bytes) {}

void rejects_writer::set_header(std::string_view raw_header) {
    header_.assign(raw_header);
    // The rejects file keeps the input's line-break style when the header shows it.
    if (header_.size() >= 2 && header_.compare(header_.size() - 2, 2, "\r\n") == 0) {
        line_break_ = "\r\n";
    } else if (!header_.empty() && header_.back() == '\r') {
        line_break_ = "\r";
    } else if (!header_.empty() && header_.back() != '\n') {
        header_ += line_break_;  // a header-only file without a final line break
    }
}

result<void> rejects_writer::reject(const row_problem& problem, std::string_view raw, bool raw_complete) {
    if (raw_complete) {
        if (!header_written_) {
            csv_buf_ += header_;
            header_written_ = true;
        }
        csv_buf_.append(raw);
        if (raw.empty() || (raw.back() != '\n' && raw.back() != '\r')) csv_buf_ += line_break_;
        ++csv_rows_;
    }
    json::writer w(reasons_buf_);
    w.begin_object();
    w.key("line").value(problem.line);
    w.key("byte_offset").value(problem.byte_offset);
    if (problem.column_index >= 0) {
        w.key("column").value(problem.column);
        w.key("column_index").value(problem.column_index);
    }
    w.key("reason").value(reject_reason_name(problem.reason));
    w.key("message").value(problem.message);
    if (!raw_complete) w.key("row_in_rejects_csv").value(false);
    w.end_object();
    reasons_buf_.push_back('\n');
    ++reasons_;
    return drain(false);
}

result<void> rejects_writer::drain(bool force) {
    if (!csv_buf_.empty() && (force || csv_buf_.size() >= flush_bytes_)) {
        TARIUS_TRY(csv_out_.write(csv_buf_));
        csv_buf_.clear();
    }
    if (!reasons_buf_.empty() && (force || reasons_buf_.size() >= flush_bytes_)) {
        TARIUS_TRY(reasons_out_.write(reasons_buf_));
        reasons_buf_.clear();
    }
    return ok();
}

result<void> rejects_writer::finish() {
    TARIUS_TRY(drain(true));
    TARIUS_TRY(csv_out_.finish());
    return reasons_out_.finish();
}

}  // namespace tarius::pipeline
