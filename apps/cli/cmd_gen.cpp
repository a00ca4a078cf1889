// tarius gen: writes products-like sample CSV of any size, for the demo, tests and benchmarks.

#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "tarius/pipeline/rejects.hpp"
#include "tarius/sample.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 7> GEN_FLAGS = {{
    {"rows", "N", "data rows to write (default 1000)"},
    {"out", "PATH", "output file (default - for stdout)"},
    {"seed", "N", "random seed; the same seed gives the same bytes (default 1)"},
    {"edge-cases", "", "add valid but tricky rows: quoted commas, doubled quotes, line breaks, unicode, empty cells"},
    {"bad-every", "N", "make every Nth row bad (field count, empty key, unparsable price, invalid UTF-8)"},
    {"duplicate-every", "N", "make every Nth row repeat the previous row's ID"},
    {"crlf", "", "CRLF line breaks"},
}};
constexpr command_spec GEN = {"gen", "tarius gen [--rows N] [--out PATH] [flags]",
                              "Writes products-like CSV with the original feed's header\n"
                              "(ID,Title,Availability,Brand,Categories,Price (USD),SellerID,SellerName,Url).",
                              GEN_FLAGS};

result<uint64_t> number_flag(const parsed_args& args, std::string_view name, uint64_t fallback,
                             std::string_view what = "a count") {
    auto text = args.get(name);
    if (!text) return fallback;
    return parse_count(name, *text, what, name == "rows" ? "1000" : "10");
}

}  // namespace

int run_gen(std::span<char* const> argv) {
    auto parsed = parse_args(argv, GEN);
    if (!parsed) {
        print_error("gen", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(GEN).c_str(), stdout);
        return EXIT_OK;
    }
    if (!args.positional.empty()) {
        print_error("gen", make_error(errc::INVALID_ARGUMENT, "unexpected argument " + args.positional[0]));
        return EXIT_FAILED;
    }
    sample::options opts;
    auto rows = number_flag(args, "rows", opts.rows);
    auto seed = number_flag(args, "seed", opts.seed, "a seed");
    auto bad = number_flag(args, "bad-every", 0);
    auto dup = number_flag(args, "duplicate-every", 0);
    for (const auto* r : {&rows, &seed, &bad, &dup}) {
        if (!*r) {
            print_error("gen", r->err());
            return EXIT_FAILED;
        }
    }
    opts.rows = *rows;
    opts.seed = *seed;
    opts.bad_every = *bad;
    opts.duplicate_every = *dup;
    opts.edge_cases = args.has("edge-cases");
    opts.crlf = args.has("crlf");
    pipeline::file_sink out(args.get("out").value_or("-"));
    auto done = sample::generate(opts, out);
    if (!done) {
        print_error("gen", done.err());
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

}  // namespace tarius::cli
