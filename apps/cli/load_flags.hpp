#pragma once
// The flags shared by every command that reads a CSV: dialect, mapping and limits → engine_options.

#include <array>
#include <span>

#include "args.hpp"
#include "tarius/pipeline/engine.hpp"

namespace tarius::cli {

/// Flags accepted by validate, convert (and later load).
inline constexpr std::array<flag_spec, 13> LOAD_FLAGS = {{
    {"mapping", "FILE", "column mapping document (JSON or YAML)"},
    {"key", "NAME[:S|N|B]", "partition key attribute and type (default type S)"},
    {"sort-key", "NAME[:S|N|B]", "sort key attribute and type"},
    {"types", "'COL=TYPE,...'", "column types: string number bool null json string_set number_set list auto timestamp"},
    {"default-type", "TYPE", "type of columns without a rule (default string)"},
    {"empty", "omit|keep|null", "what an empty cell becomes (default omit: attribute left out)"},
    {"no-trim", "", "keep spaces around unquoted cells"},
    {"delimiter", "D", "field delimiter: , tab | ; or auto (default ,)"},
    {"header-list", "A,B,C", "column names for a file without a header row"},
    {"max-field-size", "SIZE", "largest field accepted (default 1M)"},
    {"max-row-size", "SIZE", "largest row accepted (default 1M)"},
    {"max-rejects", "N", "stop the file when more than N rows are rejected (default: never)"},
    {"rejects", "PATH", "write rejected rows to PATH (CSV) and their reasons to PATH.reasons.jsonl"},
}};

/// --threads of the commands that read a local file (validate, convert), parsed by threads_flag.
inline constexpr flag_spec THREADS_FLAG = {
    "threads", "N", "1: read, map and encode on one thread; 2: read the file on a second (default: 2 on 2+ cores)"};
/// --threads: 1 or 2; by default 2 when the machine has a second core for the reading thread.
[[nodiscard]] result<unsigned> threads_flag(const parsed_args& args);

/// Builds engine options from parsed flags; `source` is the input path. --table, when given, is checked against
/// DynamoDB's naming rule and set; --types naming one column twice is an error.
[[nodiscard]] result<pipeline::engine_options> engine_options_from(const parsed_args& args, const std::string& source);

/// Opens rejects outputs when --rejects PATH is given: PATH (CSV) and PATH.reasons.jsonl.
struct rejects_outputs {
    std::unique_ptr<pipeline::file_sink> csv;
    std::unique_ptr<pipeline::file_sink> reasons;
    std::unique_ptr<pipeline::rejects_writer> writer;
};
[[nodiscard]] rejects_outputs open_rejects(const parsed_args& args);

/// Concatenates flag tables for a command.
template <size_t N, size_t M>
constexpr std::array<flag_spec, N + M> join_flags(const std::array<flag_spec, N>& a,
                                                  const std::array<flag_spec, M>& b) {
    std::array<flag_spec, N + M> out{};
    for (size_t idx = 0; idx < N; ++idx) out[idx] = a[idx];
    for (size_t idx = 0; idx < M; ++idx) out[N + idx] = b[idx];
    return out;
}

}  // namespace tarius::cli
