#pragma once
/// The level of the structured log lines (TARIUS_LOG_LEVEL: debug, info, warn, error; default info). Metric lines
/// (EMF) are not log lines and are always printed.

#include <cstdint>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::loader {

/// Log levels, least severe first.
enum class log_level : uint8_t { DEBUG, INFO, WARN, ERROR };

/// Parses "debug", "info", "warn"/"warning" or "error" (any case); errc::INVALID_ARGUMENT otherwise.
[[nodiscard]] result<log_level> parse_log_level(std::string_view text);

/// True when lines of `level` ("debug", "info", "warn", "error") are printed under TARIUS_LOG_LEVEL, read once per
/// process (an invalid value counts as info; the service modes reject it at start-up).
[[nodiscard]] bool log_enabled(std::string_view level);

}  // namespace tarius::loader
