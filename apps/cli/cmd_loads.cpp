// tarius loads: recent loads and their status, from the load ledger.

#include <cstdio>
#include <ctime>

#include "aws_setup.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "tarius/loader/ledger.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 3> LOADS_FLAGS = {{
    {"ledger-table", "NAME", "the load ledger table (or TARIUS_LEDGER_TABLE)"},
    {"limit", "N", "how many loads to list, newest first (default 20)"},
    {"json", "", "one JSON object per load"},
}};
constexpr command_spec LOADS = {"loads", "tarius loads [--ledger-table NAME] [--limit N]",
                                "Lists recent loads from the load ledger: source, version, status, counts.",
                                LOADS_FLAGS};

}  // namespace

int run_loads(std::span<char* const> argv) {
    auto parsed = parse_args(argv, LOADS);
    if (!parsed) {
        print_error("loads", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(LOADS).c_str(), stdout);
        return EXIT_OK;
    }
    const auto env = aws::process_environment();
    const std::string table =
        args.get("ledger-table").value_or(aws::env_value(env, "TARIUS_LEDGER_TABLE").value_or(""));
    if (table.empty()) {
        print_error("loads",
                    make_error(errc::INVALID_ARGUMENT, "no ledger: give --ledger-table NAME or TARIUS_LEDGER_TABLE"));
        return EXIT_FAILED;
    }
    uint64_t limit = 20;
    if (auto text = args.get("limit")) {
        auto value = parse_count("limit", *text, "a count", "20");
        if (!value) {
            print_error("loads", value.err());
            return EXIT_FAILED;
        }
        limit = *value;
    }
    auto clients = make_aws_clients();
    if (!clients) {
        print_error("loads", clients.err());
        return EXIT_FAILED;
    }
    loader::ledger book(*clients->ddb, table, "tarius-loads");
    auto records = book.recent(limit);
    if (!records) {
        print_error("loads", records.err());
        return EXIT_FAILED;
    }
    for (const auto& r : *records) {
        if (args.has("json")) {
            print_json_line(stdout, loader::load_record_json(r));
            continue;
        }
        char when[32] = "-";
        const std::time_t started = static_cast<std::time_t>(r.started_at);
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&started));
        std::printf("%s  %-22s  %-12s  %s  (version %s, load %s, attempts %llu)\n", when, r.status.c_str(),
                    r.feed.empty() ? "default" : r.feed.c_str(), r.source.c_str(), r.version.c_str(), r.load_id.c_str(),
                    static_cast<unsigned long long>(r.attempts));
    }
    return EXIT_OK;
}

}  // namespace tarius::cli
