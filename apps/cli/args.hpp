#pragma once
// Command-line parsing for the tarius executable: --flag value, --flag=value, boolean flags, positionals.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::cli {

/// One flag a command accepts.
struct flag_spec {
    std::string_view name;        ///< without the leading dashes
    std::string_view value_name;  ///< empty for a boolean flag
    std::string_view help;        ///< one line
};

/// A subcommand's description, for --help.
struct command_spec {
    std::string_view name;      ///< e.g. "validate"
    std::string_view synopsis;  ///< e.g. "tarius validate FILE [flags]"
    std::string_view summary;   ///< what it does, a few lines
    std::span<const flag_spec> flags;
};

/// The parsed command line.
struct parsed_args {
    std::map<std::string, std::string, std::less<>> values;  ///< last value of each flag given
    std::vector<std::string> positional;                     ///< the other arguments, in order
    bool help = false;                                       ///< -h or --help was given

    [[nodiscard]] bool has(std::string_view name) const { return values.find(name) != values.end(); }
    [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
};

/// Parses `args` (after the subcommand name). Unknown flags and missing values are one-line errors.
[[nodiscard]] result<parsed_args> parse_args(std::span<char* const> args, const command_spec& command);

/// The --help text of a command.
[[nodiscard]] std::string help_text(const command_spec& command);

/// Parses an unsigned size with an optional K/M/G suffix (binary units), e.g. "1M".
[[nodiscard]] result<uint64_t> parse_size(std::string_view flag, std::string_view text);

/// Parses the value of a flag that counts something: a whole number, 0 or more, in decimal digits only (no sign,
/// no suffix). `what` names it in the error ("a count", "a number of seconds"); `example` is a valid value.
[[nodiscard]] result<uint64_t> parse_count(std::string_view flag, std::string_view text,
                                           std::string_view what = "a count", std::string_view example = "100");

}  // namespace tarius::cli
