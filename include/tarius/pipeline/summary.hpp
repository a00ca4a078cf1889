#pragma once
/// The summary of a load or validation: counts that always reconcile, and the first problems.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tarius/reject.hpp"

namespace tarius::pipeline {

/// Counts of one run over one input. Invariant: rows_read == items + rows_rejected + duplicates_collapsed +
/// rows_unchanged.
struct summary {
    std::string source;          ///< the input: a path, "-" or s3://bucket/key
    uint64_t rows_read = 0;      ///< data rows (not the header, not blank lines)
    uint64_t items = 0;          ///< items placed in batches (or written, for loads)
    uint64_t rows_rejected = 0;  ///< rows written to the rejects
    std::array<uint64_t, static_cast<size_t>(reject_reason::COUNT_)> rejected_by_reason{};  ///< per reason
    uint64_t duplicates_collapsed = 0;      ///< rows replaced by a later row with the same key in the same batch
    uint64_t rows_unchanged = 0;            ///< rows engine_options::send_row held back (snapshot feeds)
    uint64_t blank_lines = 0;               ///< blank lines skipped (not rows)
    uint64_t batches = 0;                   ///< BatchWriteItem requests
    uint64_t bytes_in = 0;                  ///< decoded bytes read
    uint64_t compressed_bytes_in = 0;       ///< bytes read before decompression
    std::string compression = "none";       ///< none, gzip or zstd
    double elapsed_seconds = 0;             ///< wall time of the run
    std::vector<row_problem> first_errors;  ///< the first rejected rows' problems (bounded)

    /// True when the counts reconcile.
    [[nodiscard]] bool reconciles() const noexcept {
        return rows_read == items + rows_rejected + duplicates_collapsed + rows_unchanged;
    }
};

/// Serialises a summary as one JSON object.
[[nodiscard]] std::string to_json(const summary& s);

/// Formats a problem for humans: "<source>:<line>: <column>: <message> [reason] (byte N)".
[[nodiscard]] std::string format_problem(const std::string& source, const row_problem& p);

}  // namespace tarius::pipeline
