#include "report.hpp"

#include <cstdio>

#include "commands.hpp"

namespace tarius::cli {

void print_error(const char* command, const error& e) {
    std::fprintf(stderr, "tarius %s: %s\n", command, e.message.c_str());
}

void print_json_line(std::FILE* out, std::string_view json) {
    std::fwrite(json.data(), 1, json.size(), out);
    if (json.empty() || json.back() != '\n') std::fputc('\n', out);
    std::fflush(out);
}

void print_summary(const pipeline::summary& s, bool as_json, std::FILE* out) {
    if (as_json) {
        print_json_line(out, pipeline::to_json(s));
        return;
    }
    const double mb = static_cast<double>(s.bytes_in) / 1e6;
    std::fprintf(
        out,
        "%s: %llu rows read: %llu items in %llu batches, %llu rejected, %llu duplicates collapsed, "
        "%llu blank lines (%.1f MB%s in %.3f s)\n",
        s.source.c_str(), static_cast<unsigned long long>(s.rows_read), static_cast<unsigned long long>(s.items),
        static_cast<unsigned long long>(s.batches), static_cast<unsigned long long>(s.rows_rejected),
        static_cast<unsigned long long>(s.duplicates_collapsed), static_cast<unsigned long long>(s.blank_lines), mb,
        s.compression == "none" ? "" : (", " + s.compression).c_str(), s.elapsed_seconds);
    for (size_t reason_idx = 0; reason_idx < s.rejected_by_reason.size(); ++reason_idx) {
        if (s.rejected_by_reason[reason_idx] == 0) continue;
        std::fprintf(out, "  rejected %s: %llu\n", reject_reason_name(static_cast<reject_reason>(reason_idx)),
                     static_cast<unsigned long long>(s.rejected_by_reason[reason_idx]));
    }
    for (const auto& problem : s.first_errors) {
        std::fprintf(out, "  %s\n", pipeline::format_problem(s.source, problem).c_str());
    }
    if (s.rows_rejected > s.first_errors.size()) {
        std::fprintf(out, "  ... and %llu more rejected rows\n",
                     static_cast<unsigned long long>(s.rows_rejected - s.first_errors.size()));
    }
}

int exit_code_for(const pipeline::summary& s) {
    return s.rows_rejected ? EXIT_REJECTS : EXIT_OK;
}

}  // namespace tarius::cli
