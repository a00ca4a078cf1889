// tarius validate: reads a CSV through the whole pipeline without writing anywhere, and reports.

#include <cstdio>

#include "aws_setup.hpp"
#include "commands.hpp"
#include "feeds_flags.hpp"
#include "load_flags.hpp"
#include "output_paths.hpp"
#include "report.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 6> VALIDATE_ONLY = {{
    {"table", "NAME", "table name used in the request bodies (default: table)"},
    {"feeds", "DOC", "a feeds document (a YAML or JSON file, or s3://): the feed's mapping and its keys apply"},
    {"feed", "NAME", "the feed to validate FILE as (needed when the document has several)"},
    {"errors", "N", "how many problems to list (default 10)"},
    {"json", "", "print the summary as JSON"},
    THREADS_FLAG,
}};
constexpr auto VALIDATE_FLAGS = join_flags(LOAD_FLAGS, VALIDATE_ONLY);
constexpr command_spec VALIDATE = {
    "validate", "tarius validate FILE|- (--key NAME[:TYPE] [mapping flags] | --feeds DOC [--feed NAME]) [flags]",
    "Reads FILE (plain, .gz or .zst; - for stdin), validates and types every row as it would be loaded into\n"
    "DynamoDB, and prints the summary and the first problems with their line numbers.\n"
    "With --feeds, the feed's mapping applies, keys included (its mode does not: every row is checked as a put).\n"
    "Exit status: 0 all rows valid, 1 some rows rejected, 2 the file failed as a whole or bad usage.",
    VALIDATE_FLAGS};

// With --feeds: the feed's table and mapping, whose partition_key is required (validate reads no table's key
// schema). An s3:// document is read with AWS clients made for it alone.
result<void> apply_feed(const parsed_args& args, const std::string& source, pipeline::engine_options& options) {
    if (!args.has("feeds")) return ok();
    std::optional<aws_clients> clients;
    if (args.get("feeds")->rfind("s3://", 0) == 0) {
        TARIUS_ASSIGN_OR_RETURN(clients, make_aws_clients());
    }
    TARIUS_ASSIGN_OR_RETURN(const loader::feed_set feeds, read_feeds_flag(args, clients ? clients->s3.get() : nullptr));
    TARIUS_ASSIGN_OR_RETURN(const loader::feed* chosen, choose_feed(args, source, feeds));
    if (!chosen->mapping.keys) {
        return make_error(errc::INVALID_ARGUMENT, "feed " + chosen->name +
                                                      ": its mapping has no partition_key, and validate reads no "
                                                      "table's key schema: add feeds." +
                                                      chosen->name + ".mapping.partition_key (NAME:S|N|B)");
    }
    options.mapping = chosen->mapping;
    options.table = chosen->table;
    TARIUS_ASSIGN_OR_RETURN(options.dialect, feed_dialect(args, *chosen, options.dialect));
    return ok();
}

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
    if (auto flags = check_feeds_flags(args); !flags) {
        print_error("validate", flags.err());
        return EXIT_FAILED;
    }
    const std::string& path = args.positional[0];
    auto options = engine_options_from(args, path);
    if (!options) {
        print_error("validate", options.err());
        return EXIT_FAILED;
    }
    if (!args.has("table")) options->table = "table";
    if (auto feed = apply_feed(args, path, *options); !feed) {
        print_error("validate", feed.err());
        return EXIT_FAILED;
    }
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
