#pragma once
// Helpers of the credential sources, exposed for unit tests.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// Parses an ISO 8601 UTC timestamp: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM).
[[nodiscard]] result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// Percent-encodes `text` for an application/x-www-form-urlencoded body (RFC 3986 unreserved kept).
[[nodiscard]] std::string form_encode(std::string_view text);

/// Splits a credential_process command line into argv like a POSIX shell would for plain words: whitespace
/// separates, '...' and "..." quote, backslash escapes outside single quotes. No expansion of any kind.
[[nodiscard]] result<std::vector<std::string>> split_command_line(std::string_view command);

/// Runs `argv` without a shell, stdin from /dev/null, stderr inherited; returns its stdout. Fails when it cannot
/// start, exits non-zero, is killed, or runs longer than `timeout` (then it is killed).
[[nodiscard]] result<std::string> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

/// Replaces every occurrence of each non-empty secret in `text` by "<redacted>".
[[nodiscard]] std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace tarius::aws::detail
