#pragma once
// Printing a run's outcome for humans (stderr/stdout) and mapping it to an exit code.

#include <cstdio>
#include <string>
#include <string_view>

#include "tarius/pipeline/summary.hpp"
#include "tarius/result.hpp"

namespace tarius::cli {

/// Prints "tarius <command>: <message>" on stderr.
void print_error(const char* command, const error& e);

/// Prints the human summary and the first errors on `out` (or the JSON summary with `as_json`).
void print_summary(const pipeline::summary& s, bool as_json, std::FILE* out = stdout);

/// Prints one JSON document on `out` as one line: ends it with a newline unless it has one.
void print_json_line(std::FILE* out, std::string_view json);

/// 0 when nothing was rejected, 1 otherwise.
[[nodiscard]] int exit_code_for(const pipeline::summary& s);

}  // namespace tarius::cli
