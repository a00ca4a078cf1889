#pragma once
/// Structured logging: one JSON object per line ({"level":..,"msg":..,"request_id":..,<fields>}) on stdout (the
/// CLI moves it to stderr). TARIUS_LOG_LEVEL (debug, info, warn, error; default info) chooses the lines printed;
/// metric lines (EMF) are not log lines and are always printed. Row contents are never logged.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::loader {

struct load_counts;

/// Log levels, least severe first.
enum class log_level : uint8_t { DEBUG, INFO, WARN, ERROR };

/// Parses "debug", "info", "warn"/"warning" or "error" (any case); errc::INVALID_ARGUMENT otherwise.
[[nodiscard]] result<log_level> parse_log_level(std::string_view text);

/// True when lines of `level` ("debug", "info", "warn", "error") are printed under TARIUS_LOG_LEVEL, read once per
/// process (an invalid value counts as info; the service modes reject it at start-up).
[[nodiscard]] bool log_enabled(std::string_view level);

/// Where log and metric lines go (stdout unless set; the CLI keeps stdout for its output). Not thread-safe: set
/// it before any line is printed.
void set_log_stream(std::FILE* stream) noexcept;

/// Sets the request id that every line printed by this thread carries (the invocation or SQS message being
/// handled); empty clears it.
void set_log_request_id(std::string request_id);

/// Prints one line as it is (an EMF metrics line), whatever the level.
void print_log_line(std::string_view json_line);

/// One structured log line, printed when it goes out of scope (unless its level is disabled).
class log_entry {
public:
    /// Starts a line of `level` ("debug", "info", "warn" or "error") with message `msg`.
    log_entry(const char* level, std::string_view msg);
    ~log_entry();
    log_entry(const log_entry&) = delete;
    log_entry& operator=(const log_entry&) = delete;

    /// Adds a string field.
    log_entry& with(std::string_view key, std::string_view value);
    /// Adds a string field.
    log_entry& with(std::string_view key, const char* value) { return with(key, std::string_view(value)); }
    /// Adds a string field.
    log_entry& with(std::string_view key, const std::string& value) { return with(key, std::string_view(value)); }
    /// Adds a number field.
    log_entry& with(std::string_view key, uint64_t value);
    /// Adds a number field.
    log_entry& with(std::string_view key, double value);
    /// Adds the load's counts as a "counts" object.
    log_entry& with_counts(const load_counts& counts);

private:
    bool enabled_;
    std::string level_;
    std::string msg_;
    std::vector<std::pair<std::string, std::string>> fields_;  // key → JSON text of the value
};

}  // namespace tarius::loader
