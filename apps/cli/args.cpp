#include "args.hpp"

#include <algorithm>
#include <charconv>

namespace tarius::cli {

std::optional<std::string> parsed_args::get(std::string_view name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

result<parsed_args> parse_args(std::span<char* const> args, const command_spec& command) {
    parsed_args out;
    const std::string hint = " (see tarius " + std::string(command.name) + " --help)";
    for (size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
        std::string_view arg = args[arg_idx];
        if (arg == "-h" || arg == "--help") {
            out.help = true;
            continue;
        }
        if (arg == "--") {
            for (++arg_idx; arg_idx < args.size(); ++arg_idx) out.positional.emplace_back(args[arg_idx]);
            break;
        }
        if (arg.size() < 3 || arg.substr(0, 2) != "--") {
            out.positional.emplace_back(arg);  // includes "-" (stdin)
            continue;
        }
        std::string_view name = arg.substr(2);
        std::optional<std::string_view> inline_value;
        if (auto eq = name.find('='); eq != std::string_view::npos) {
            inline_value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const flag_spec* spec = nullptr;
        for (const auto& candidate : command.flags) {
            if (candidate.name == name) spec = &candidate;
        }
        if (!spec) return make_error(errc::INVALID_ARGUMENT, "unknown flag --" + std::string(name) + hint);
        if (spec->value_name.empty()) {
            if (inline_value) {
                return make_error(errc::INVALID_ARGUMENT, "flag --" + std::string(name) + " takes no value" + hint);
            }
            out.values[std::string(name)] = "true";
            continue;
        }
        if (inline_value) {
            out.values[std::string(name)] = std::string(*inline_value);
        } else if (arg_idx + 1 < args.size()) {
            out.values[std::string(name)] = args[++arg_idx];
        } else {
            return make_error(errc::INVALID_ARGUMENT,
                              "flag --" + std::string(name) + " needs a value " + std::string(spec->value_name) + hint);
        }
    }
    return out;
}

std::string help_text(const command_spec& command) {
    std::string out = "usage: ";
    out += command.synopsis;
    out += "\n\n";
    out += command.summary;
    out += "\n";
    if (command.flags.empty()) return out;
    out += "\nflags:\n";
    for (const auto& flag : command.flags) {
        std::string left = "  --" + std::string(flag.name);
        if (!flag.value_name.empty()) left += " " + std::string(flag.value_name);
        if (left.size() < 30)
            left.resize(30, ' ');
        else
            left += "\n" + std::string(30, ' ');
        out += left;
        out += flag.help;
        out += "\n";
    }
    out += "  -h, --help                  this help\n";
    return out;
}

result<uint64_t> parse_size(std::string_view flag, std::string_view text) {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view rest(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
    uint64_t scale = 1;
    if (rest == "K" || rest == "k" || rest == "KiB")
        scale = 1ULL << 10;
    else if (rest == "M" || rest == "m" || rest == "MiB")
        scale = 1ULL << 20;
    else if (rest == "G" || rest == "g" || rest == "GiB")
        scale = 1ULL << 30;
    else if (!rest.empty())
        ec = std::errc::invalid_argument;
    if (ec != std::errc() || text.empty()) {
        return make_error(errc::INVALID_ARGUMENT, "--" + std::string(flag) + ": not a size: '" + std::string(text) +
                                                      "' (e.g. 1048576, 512K, 1M)");
    }
    return value * scale;
}

result<uint64_t> parse_count(std::string_view flag, std::string_view text, std::string_view what,
                             std::string_view example) {
    const std::string name = "--" + std::string(flag);
    const bool digits_only =
        !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (digits_only && ec == std::errc::result_out_of_range) {
        return make_error(errc::INVALID_ARGUMENT,
                          name + ": '" + std::string(text) + "' is too large for " + std::string(what));
    }
    if (!digits_only || ec != std::errc() || ptr != text.data() + text.size()) {
        return make_error(errc::INVALID_ARGUMENT, name + ": not " + std::string(what) + ": '" + std::string(text) +
                                                      "' (a whole number, 0 or more, e.g. " + std::string(example) +
                                                      ")");
    }
    return value;
}

}  // namespace tarius::cli
