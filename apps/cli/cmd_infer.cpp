// tarius infer: a starter feed for a file — delimiter, header, a type per column, empty cells, key candidates.

#include <array>
#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "tarius/infer.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 3> INFER_FLAGS = {{
    {"rows", "N", "rows sampled from the start of the file (default 10000)"},
    {"delimiter", "D", "field delimiter: , tab | ; or auto (default auto: sniffed from the header line)"},
    {"json", "", "print the feeds document as JSON (without the comments)"},
}};
constexpr command_spec INFER = {
    "infer", "tarius infer FILE|- [--rows N] [flags]",
    "Reads the first rows of FILE (plain, .gz or .zst; - for stdin) and prints a starter feeds document for it\n"
    "(YAML with comments): one feed named after the file, placeholders for its match prefix and table, the\n"
    "partition key (a column non-empty and unique in the sample) and a rule per column that is not a string:\n"
    "number only when every non-empty cell is a DynamoDB number written as DynamoDB stores it, bool, json.\n"
    "Comments give the delimiter, the header, the empty cells and the other key candidates.\n"
    "Check the document with: tarius validate FILE --feeds DOC.\n"
    "Exit status: 0 printed, 2 the file cannot be read, has no rows, or bad usage.",
    INFER_FLAGS};

int fail(const std::string& path, const error& e) {
    error shown = e;
    // The reader's messages do not name the file; the file's own errors (cannot open it) do.
    if (shown.message.find(path) == std::string::npos) shown.message = path + ": " + shown.message;
    print_error("infer", shown);
    return EXIT_FAILED;
}

}  // namespace

int run_infer(std::span<char* const> argv) {
    auto parsed = parse_args(argv, INFER);
    if (!parsed) {
        print_error("infer", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(INFER).c_str(), stdout);
        return EXIT_OK;
    }
    if (args.positional.size() != 1) {
        print_error("infer", make_error(errc::INVALID_ARGUMENT, "expected one FILE (see tarius infer --help)"));
        return EXIT_FAILED;
    }
    const std::string& path = args.positional[0];
    mapping::sample_options options;
    if (auto rows = args.get("rows")) {
        auto count = parse_count("rows", *rows, "a number of rows", "10000");
        if (!count || *count == 0) {
            print_error("infer",
                        make_error(errc::INVALID_ARGUMENT, "--rows: not a number of rows to sample: '" + *rows +
                                                               "' (a whole number, at least 1, "
                                                               "e.g. 10000)"));
            return EXIT_FAILED;
        }
        options.max_rows = *count;
    }
    if (auto delimiter = args.get("delimiter")) {
        auto dialect = csv::parse_delimiter(*delimiter, options.dialect);
        if (!dialect) {
            print_error("infer", make_error(errc::INVALID_ARGUMENT, "--delimiter: " + dialect.err().message));
            return EXIT_FAILED;
        }
        options.dialect = std::move(dialect).value();
    }
    const uint64_t max_rows = options.max_rows;
    mapping::sampler sampler(std::move(options));
    auto profile = sampler.finish(pump_file(path, sampler.input()));
    if (!profile) return fail(path, profile.err());
    const mapping::starter_feed feed = mapping::starter_for(path, max_rows);
    const std::string document =
        args.has("json") ? mapping::render_feed_json(*profile, feed) : mapping::render_feed_yaml(*profile, feed);
    std::fwrite(document.data(), 1, document.size(), stdout);
    return std::fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

}  // namespace tarius::cli
