// csv_dump: reads files (or "-" for stdin) through make_decoding_sink + csv::reader and prints one JSON line
// per header, row and bad row, then a stats line; used by tests/python/test_csv_differential.py.
//
// usage: csv_dump [--delimiter D] [--no-header a,b,c] [--chunk N] [--max-field N] [--max-row N] FILE...
// Each file starts with a {"file":...} marker line.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "json/writer.hpp"
#include "tarius/csv.hpp"
#include "tarius/stream.hpp"

namespace {

using tarius::result;

void append_fields(std::string& out, const tarius::csv::row& r) {
    out += ",\"fields\":[";
    for (size_t field_idx = 0; field_idx < r.fields.size(); ++field_idx) {
        if (field_idx > 0) out.push_back(',');
        tarius::json::append_string(out, r.fields[field_idx]);
    }
    out += "],\"quoted\":[";
    for (size_t field_idx = 0; field_idx < r.quoted.size(); ++field_idx) {
        out += field_idx > 0 ? "," : "";
        out += r.quoted[field_idx] != 0 ? "1" : "0";
    }
    out += "]";
}

class printer final : public tarius::csv::row_sink {
public:
    result<void> on_header(const tarius::csv::header& hdr) override {
        line_ = "{\"header\":[";
        for (size_t column_idx = 0; column_idx < hdr.names.size(); ++column_idx) {
            if (column_idx > 0) line_.push_back(',');
            tarius::json::append_string(line_, hdr.names[column_idx]);
        }
        line_ += "],\"delimiter\":";
        tarius::json::append_string(line_, std::string_view(&hdr.delimiter, 1));
        line_ += "}\n";
        flush();
        return tarius::ok();
    }

    result<void> on_row(const tarius::csv::row& r) override {
        line_ = "{\"line\":" + std::to_string(r.line) + ",\"offset\":" + std::to_string(r.byte_offset) +
                ",\"end\":" + std::to_string(r.end_offset);
        append_fields(line_, r);
        line_ += "}\n";
        flush();
        return tarius::ok();
    }

    result<void> on_bad_row(const tarius::csv::row& r, const tarius::row_problem& problem) override {
        line_ = std::string("{\"bad\":\"") + tarius::reject_reason_name(problem.reason) +
                "\",\"line\":" + std::to_string(r.line) + ",\"offset\":" + std::to_string(r.byte_offset) +
                ",\"end\":" + std::to_string(r.end_offset) +
                ",\"problem_offset\":" + std::to_string(problem.byte_offset) +
                ",\"column\":" + std::to_string(problem.column_index);
        append_fields(line_, r);
        line_ += "}\n";
        flush();
        return tarius::ok();
    }

private:
    void flush() { std::fwrite(line_.data(), 1, line_.size(), stdout); }
    std::string line_;
};

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    for (;;) {
        const size_t comma = text.find(',', pos);
        out.emplace_back(text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        if (comma == std::string_view::npos) return out;
        pos = comma + 1;
    }
}

int usage() {
    std::fprintf(stderr,
                 "usage: csv_dump [--delimiter D] [--no-header a,b,c] [--chunk N] [--max-field N] "
                 "[--max-row N] FILE...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    tarius::csv::dialect dia;
    size_t chunk = size_t{1} << 20;
    std::vector<std::string> files;
    for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
        const std::string_view arg = argv[arg_idx];
        const bool has_value = arg_idx + 1 < argc;
        if (arg == "--delimiter" && has_value) {
            auto parsed = tarius::csv::parse_delimiter(argv[++arg_idx], dia);
            if (!parsed) {
                std::fprintf(stderr, "csv_dump: %s\n", parsed.err().message.c_str());
                return 2;
            }
            dia = std::move(parsed).value();
        } else if (arg == "--no-header" && has_value) {
            dia.has_header = false;
            dia.header_list = split_commas(argv[++arg_idx]);
        } else if (arg == "--chunk" && has_value) {
            chunk = std::strtoull(argv[++arg_idx], nullptr, 10);
        } else if (arg == "--max-field" && has_value) {
            dia.max_field_size = std::strtoull(argv[++arg_idx], nullptr, 10);
        } else if (arg == "--max-row" && has_value) {
            dia.max_row_size = std::strtoull(argv[++arg_idx], nullptr, 10);
        } else if (arg.starts_with("--")) {
            return usage();
        } else {
            files.emplace_back(arg);
        }
    }
    if (files.empty()) return usage();
    int status = 0;
    for (const std::string& file : files) {
        std::string marker = "{\"file\":";
        tarius::json::append_string(marker, file);
        marker += "}\n";
        std::fwrite(marker.data(), 1, marker.size(), stdout);
        printer out;
        tarius::csv::reader rd(dia, out);
        auto decoder = tarius::make_decoding_sink(rd);
        auto done = tarius::pump_file(file, *decoder, chunk);
        std::string line;
        if (!done) {
            line = std::string("{\"error\":\"") + tarius::errc_name(done.err().code) + "\",\"message\":";
            tarius::json::append_string(line, done.err().message);
            line += "}\n";
            status = 1;
        } else {
            const auto& st = rd.stats();
            line = "{\"stats\":{\"bytes\":" + std::to_string(st.bytes) + ",\"rows\":" + std::to_string(st.rows) +
                   ",\"bad_rows\":" + std::to_string(st.bad_rows) +
                   ",\"blank_lines\":" + std::to_string(st.blank_lines) + ",\"lines\":" + std::to_string(st.lines) +
                   "},\"compression\":\"" + tarius::compression_name(tarius::detected_compression(*decoder)) + "\"}\n";
        }
        std::fwrite(line.data(), 1, line.size(), stdout);
    }
    std::fflush(stdout);
    return status;
}
