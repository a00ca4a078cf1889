// tarius validate: reads a CSV through the whole pipeline without writing anywhere, and reports.

#include <cstdio>

#include "commands.hpp"
#include "load_flags.hpp"
#include "output_paths.hpp"
#include "report.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 4> VALIDATE_ONLY = {{
    {"table", "NAME", "table name used in the request bodies (default: table)"},
    {"errors", "N", "how many problems to list (default 10)"},
    {"json", "", "print the summary as JSON"},
    THREADS_FLAG,
}};
constexpr auto VALIDATE_FLAGS = join_flags(LOAD_FLAGS, VALIDATE_ONLY);
constexpr command_spec VALIDATE = {
    "validate", "tarius validate FILE|- --key NAME[:TYPE] [flags]",
    "Reads FILE (plain, .gz or .zst; - for stdin), validates and types every row as it would be loaded into\n"
    "DynamoDB, and prints the summary and the first problems with their line numbers.\n"
    "Exit status: 0 all rows valid, 1 some rows rejected, 2 the file failed as a whole or bad usage.",
    VALIDATE_FLAGS};

// Counts batches; validate writes nowhere.
class discard_batches final : public pipeline::batch_sink {
public:
    result<void> on_batch(pipeline::batch&&) override { return ok(); }
};

}  // namespace

int run_validate(std::span<char* const> argv) {
    auto parsed = parse_args(argv, VALIDATE);
    if (!parsed) {
        print_error("validate", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(VALIDATE).c_str(), stdout);
        return EXIT_OK;
    }
    if (args.positional.size() != 1) {
        print_error("validate", make_error(errc::INVALID_ARGUMENT, "expected one FILE (see tarius validate --help)"));
        return EXIT_FAILED;
    }
    if (auto files = check_outputs(files_of(args)); !files) {
        print_error("validate", files.err());
        return EXIT_FAILED;
    }
    const std::string& path = args.positional[0];
    auto options = engine_options_from(args, path);
    if (!options) {
        print_error("validate", options.err());
        return EXIT_FAILED;
    }
    if (!args.has("table")) options->table = "table";
    auto threads = threads_flag(args);
    if (!threads) {
        print_error("validate", threads.err());
        return EXIT_FAILED;
    }
    if (auto errors = args.get("errors")) {
        auto count = parse_count("errors", *errors, "a count", "10");
        if (!count) {
            print_error("validate", count.err());
            return EXIT_FAILED;
        }
        options->max_errors_listed = *count;
    }
    rejects_outputs rejects = open_rejects(args);
    discard_batches batches;
    auto eng = pipeline::engine::create(std::move(*options), batches, rejects.writer.get());
    if (!eng) {
        print_error("validate", eng.err());
        return EXIT_FAILED;
    }
    pump_options pump;
    pump.read_ahead = *threads >= 2;  // the file is read on a second thread while this one maps and encodes
    auto done = pump_file(path, (*eng)->input(), pump);
    if (!done) {
        print_error("validate", done.err());
        return EXIT_FAILED;
    }
    const auto& s = (*eng)->current_summary();
    print_summary(s, args.has("json"));
    return exit_code_for(s);
}

}  // namespace tarius::cli
