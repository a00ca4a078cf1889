// Fuzzes the CSV reader (and the decoding sink in front of it). The first three bytes choose the chunk size,
// the dialect and the limits; the rest is the input. Invariants: every row reaches exactly one callback, offsets
// and lines increase, raw rows plus skipped blank lines (and the header) rebuild the input, the counters agree,
// and feeding the input whole or in chunks gives the same result.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/csv.hpp"
#include "tarius/stream.hpp"

namespace {

using tarius::result;

struct recorder final : tarius::csv::row_sink {
    std::string input;  // decoded stream (BOM included)
    std::string log;    // everything observed, to compare runs
    uint64_t header_calls = 0;
    uint64_t good = 0;
    uint64_t bad = 0;
    uint64_t next_offset = 0;  // where the next row may start
    uint64_t last_line = 0;
    size_t header_columns = 0;
    size_t max_row = 0;

    void check_row(const tarius::csv::row& r) {
        TARIUS_ASSERT(header_calls == 1);
        TARIUS_ASSERT(r.byte_offset >= next_offset);
        TARIUS_ASSERT(r.end_offset > r.byte_offset);
        TARIUS_ASSERT(r.line > last_line);
        TARIUS_ASSERT(r.end_offset <= input.size());
        // Only blank lines lie between rows.
        for (uint64_t pos = next_offset; pos < r.byte_offset; ++pos) {
            TARIUS_ASSERT(input[pos] == '\r' || input[pos] == '\n');
        }
        const std::string_view expected = std::string_view(input).substr(r.byte_offset, r.end_offset - r.byte_offset);
        if (r.raw_complete) {
            TARIUS_ASSERT(r.raw == expected);
        } else {
            TARIUS_ASSERT(r.raw.size() == max_row && expected.substr(0, max_row) == r.raw);
        }
        TARIUS_ASSERT(r.fields.size() == r.quoted.size());
        next_offset = r.end_offset;
        last_line = r.line;
        log += std::to_string(r.line) + ":" + std::to_string(r.byte_offset) + ":" + std::to_string(r.end_offset);
        for (const auto field : r.fields) {
            log += "|";
            log += field;
        }
        log += "\n";
    }

    result<void> on_header(const tarius::csv::header& hdr) override {
        ++header_calls;
        TARIUS_ASSERT(header_calls == 1);
        header_columns = hdr.names.size();
        if (hdr.raw.empty()) {
            next_offset = input.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
        } else {
            const auto at = input.find(hdr.raw);
            TARIUS_ASSERT(at != std::string::npos);
            next_offset = at + hdr.raw.size();
        }
        log += "header " + std::to_string(hdr.names.size()) + "\n";
        return tarius::ok();
    }
    result<void> on_row(const tarius::csv::row& r) override {
        ++good;
        TARIUS_ASSERT(r.fields.size() == header_columns);
        for (const auto field : r.fields)
            TARIUS_ASSERT(tarius::csv::find_invalid_utf8(field) == std::string_view::npos);
        check_row(r);
        return tarius::ok();
    }
    result<void> on_bad_row(const tarius::csv::row& r, const tarius::row_problem& problem) override {
        ++bad;
        TARIUS_ASSERT(problem.line == r.line);
        TARIUS_ASSERT(!problem.message.empty());
        log += std::string("bad ") + tarius::reject_reason_name(problem.reason) + " ";
        check_row(r);
        return tarius::ok();
    }
};

/// Collects the decoded stream so the reader's raw rows can be checked against it.
struct tee final : tarius::byte_sink {
    tarius::byte_sink& next;
    std::string& copy;
    tee(tarius::byte_sink& n, std::string& c) : next(n), copy(c) {}
    result<void> write(std::string_view chunk) override {
        copy.append(chunk);
        return next.write(chunk);
    }
    result<void> finish() override { return next.finish(); }
};

std::string run(const tarius::csv::dialect& d, std::string_view input, size_t chunk, bool decode) {
    recorder rec;
    rec.max_row = d.max_row_size;
    tarius::csv::reader rd(d, rec);
    tee copy(rd, rec.input);
    auto decoder = tarius::make_decoding_sink(copy);
    tarius::byte_sink& front = decode ? static_cast<tarius::byte_sink&>(*decoder) : copy;
    result<void> outcome = tarius::ok();
    for (size_t pos = 0; pos < input.size() && outcome; pos += chunk) outcome = front.write(input.substr(pos, chunk));
    if (outcome) outcome = front.finish();
    const auto& st = rd.stats();
    if (!decode) TARIUS_ASSERT(st.bytes == rec.input.size());
    TARIUS_ASSERT(st.bad_rows == rec.bad);
    if (outcome) {
        TARIUS_ASSERT(st.rows == rec.good + rec.bad);
        // Everything after the last row is blank lines.
        for (uint64_t pos = rec.next_offset; pos < rec.input.size(); ++pos) {
            TARIUS_ASSERT(rec.input[pos] == '\r' || rec.input[pos] == '\n');
        }
        rec.log += "\nstats " + std::to_string(st.rows) + " " + std::to_string(st.blank_lines) + " " +
                   std::to_string(st.lines);
    } else {
        rec.log += "\nerror " + std::string(tarius::errc_name(outcome.err().code)) + " " + outcome.err().message;
    }
    return rec.log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    const uint8_t chunk_byte = data[0];
    const uint8_t dialect_byte = data[1];
    const uint8_t limit_byte = data[2];
    const std::string_view input(reinterpret_cast<const char*>(data) + 3, size - 3);

    tarius::csv::dialect d;
    constexpr char delimiters[] = {',', '\t', '|', ';'};
    d.delimiter = delimiters[dialect_byte & 3];
    d.sniff_delimiter = (dialect_byte & 4) != 0;
    if ((dialect_byte & 8) != 0) {
        d.has_header = false;
        d.header_list = {"a", "b", "c"};
    }
    if ((limit_byte & 0x80) != 0) {
        d.max_row_size = 1 + (limit_byte & 0x3F);
        d.max_field_size = 1 + ((limit_byte >> 3) & 0x0F);
    }
    const size_t chunk = chunk_byte == 0 ? input.size() + 1 : chunk_byte;
    const bool decode = (dialect_byte & 0x10) != 0;

    const std::string whole = run(d, input, input.size() + 1, decode);
    const std::string pieces = run(d, input, chunk, decode);
    const bool whole_failed = whole.find("\nerror ") != std::string::npos;
    if (decode && whole_failed) {
        // Corrupt compressed input: a streaming decoder passes on what it decoded before noticing (a checksum
        // comes at the end of a frame), so that output may fail the reader first; only the failure must agree.
        TARIUS_ASSERT(pieces.find("\nerror ") != std::string::npos);
    } else {
        if (whole != pieces) std::fprintf(stderr, "whole:\n%s\npieces:\n%s\n", whole.c_str(), pieces.c_str());
        TARIUS_ASSERT(whole == pieces);
    }
    if (!decode && input.size() < 512) {
        const std::string bytes = run(d, input, 1, decode);
        TARIUS_ASSERT(whole == bytes);
    }
    return 0;
}
