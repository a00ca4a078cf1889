#pragma once
// Shared by the CSV unit tests: feeds an input to a reader whole, in 1-byte chunks and split at every point,
// and renders every callback as one line of text so tables of literal cases can state what is expected.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/csv.hpp"

namespace tarius::csv::testing {

/// Makes control and non-ASCII bytes visible: \n \r \t \0 and \xHH.
inline std::string visible(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (byte < 0x20 || byte >= 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", byte);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// Records every callback as text.
class recording_sink final : public row_sink {
public:
    result<void> on_header(const header& hdr) override {
        std::string line = "header";
        for (const auto& name : hdr.names) line += " [" + visible(name) + "]";
        line += " delim=" + visible(std::string_view(&hdr.delimiter, 1)) + " raw=" + visible(hdr.raw);
        events.push_back(line);
        return ok();
    }
    result<void> on_row(const row& r) override {
        events.push_back("ok " + describe(r));
        return ok();
    }
    result<void> on_bad_row(const row& r, const row_problem& problem) override {
        EXPECT_EQ(problem.line, r.line);
        EXPECT_FALSE(problem.message.empty());
        events.push_back(std::string(reject_reason_name(problem.reason)) +
                         " col=" + std::to_string(problem.column_index) + "@" + std::to_string(problem.byte_offset) +
                         " " + describe(r));
        messages.push_back(problem.message);
        return ok();
    }

    static std::string describe(const row& r) {
        std::string out = "L" + std::to_string(r.line) + " " + std::to_string(r.byte_offset) + "-" +
                          std::to_string(r.end_offset) + " q";
        for (const uint8_t q : r.quoted) out += q != 0 ? "1" : "0";
        out += " raw=" + visible(r.raw) + (r.raw_complete ? "" : "...") + " fields=";
        for (size_t field_idx = 0; field_idx < r.fields.size(); ++field_idx) {
            out += (field_idx > 0 ? "|" : "") + visible(r.fields[field_idx]);
        }
        return out;
    }

    std::vector<std::string> events;
    std::vector<std::string> messages;
};

/// The outcome of one run: events, then "stats ..." or "error <code>: <message>".
inline std::vector<std::string> run_reader(const dialect& d, std::string_view input, const std::vector<size_t>& cuts,
                                           uint64_t resume_offset = 0, uint64_t resume_line = 0) {
    recording_sink sink;
    reader rd(d, sink);
    if (resume_offset != 0) rd.resume_at(resume_offset, resume_line);
    size_t pos = 0;
    result<void> outcome = ok();
    for (const size_t cut : cuts) {
        if (!outcome) break;
        outcome = rd.write(input.substr(pos, cut - pos));
        pos = cut;
    }
    if (outcome) outcome = rd.write(input.substr(pos));
    if (outcome) outcome = rd.finish();
    std::vector<std::string> out = sink.events;
    if (outcome) {
        const auto& st = rd.stats();
        out.push_back("stats bytes=" + std::to_string(st.bytes) + " rows=" + std::to_string(st.rows) +
                      " bad=" + std::to_string(st.bad_rows) + " blank=" + std::to_string(st.blank_lines) +
                      " lines=" + std::to_string(st.lines));
    } else {
        out.push_back(std::string("error ") + errc_name(outcome.err().code) + ": " + outcome.err().message);
    }
    return out;
}

/// Runs `input` whole, in 1-byte chunks and split in two at every point; all runs must agree with the
/// whole run, which is returned.
inline std::vector<std::string> run_all_splits(const dialect& d, std::string_view input, uint64_t resume_offset = 0,
                                               uint64_t resume_line = 0) {
    const auto whole = run_reader(d, input, {}, resume_offset, resume_line);
    std::vector<size_t> bytes;
    for (size_t pos = 1; pos < input.size(); ++pos) bytes.push_back(pos);
    EXPECT_EQ(run_reader(d, input, bytes, resume_offset, resume_line), whole) << "1-byte chunks: " << visible(input);
    for (size_t cut = 0; cut <= input.size(); ++cut) {
        EXPECT_EQ(run_reader(d, input, {cut}, resume_offset, resume_line), whole)
            << "split at " << cut << ": " << visible(input);
    }
    return whole;
}

}  // namespace tarius::csv::testing
