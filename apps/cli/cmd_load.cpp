// tarius load: one file (local or s3://) into a DynamoDB table, for backfills.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "aws_setup.hpp"
#include "commands.hpp"
#include "feeds_flags.hpp"
#include "load_flags.hpp"
#include "output_paths.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/loader/feed_router.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/loader/services.hpp"
#include "tarius/loader/worker.hpp"
#include "tarius/pipeline/summary.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 10> LOAD_ONLY = {{
    {"table", "NAME", "target DynamoDB table (required without --feeds; its key schema is read with DescribeTable)"},
    {"feeds", "DOC", "a feeds document (a YAML or JSON file, or s3://): the source's feed gives table, mapping, mode"},
    {"feed", "NAME", "the feed to load FILE as (needed when the document has several; s3:// sources match theirs)"},
    {"concurrency", "N", "requests in flight (default 64; 256 for insert, newer and merge feeds)"},
    {"max-wcu", "N", "write budget in WCU per second that the load never exceeds (default: unlimited)"},
    {"ledger-table", "NAME", "record the load in this ledger table (s3:// sources; skips already loaded files)"},
    {"topic-arn", "ARN", "publish the summary to this SNS topic (s3:// sources)"},
    {"kms-key", "ARN", "SSE-KMS key for the rejects and the report written to S3"},
    {"json", "", "print the report as JSON"},
    {"progress-seconds", "S",
     "progress log line interval off a terminal (default 5, TARIUS_PROGRESS_SECONDS; 0 = off)"},
}};
constexpr auto LOAD_COMMAND_FLAGS = join_flags(LOAD_FLAGS, LOAD_ONLY);
constexpr command_spec LOAD = {
    "load", "tarius load FILE|s3://BUCKET/KEY --table NAME [flags]",
    "Loads one CSV file (plain, .gz or .zst) into a DynamoDB table: many BatchWriteItem requests in flight,\n"
    "UnprocessedItems retried, the final table as if the rows were put one by one in file order.\n"
    "For s3:// sources the rejects and the report are written next to the file (invalid-records/, load-reports/).\n"
    "Environment: the AWS SDK variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).\n"
    "Progress goes to stderr: a bar (rows/s, MB/s, percent, ETA) on a terminal, JSON lines otherwise.\n"
    "Ctrl-C or SIGTERM stops cleanly after the requests in flight (exit status 2); with --ledger-table the\n"
    "checkpoint is saved and running the same command again resumes there. A second Ctrl-C leaves at once.\n"
    "Exit status: 0 loaded (or already loaded), 1 loaded with rejected rows, 2 failed, stopped or bad usage.",
    LOAD_COMMAND_FLAGS};

// --progress-seconds, else TARIUS_PROGRESS_SECONDS, else 5; fractions allowed.
result<double> progress_seconds(const parsed_args& args) {
    std::optional<std::string> text = args.get("progress-seconds");
    if (!text) {
        if (const char* env = std::getenv("TARIUS_PROGRESS_SECONDS")) text = std::string(env);
    }
    if (!text) return 5.0;
    char* end = nullptr;
    const double value = std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || !(value >= 0) || value > 86400) {
        return make_error(errc::INVALID_ARGUMENT, "--progress-seconds: not a number of seconds: " + *text);
    }
    return value;
}

// With --feeds, the source's feed gives the table, mapping, prefixes, budget and concurrency: the one --feed
// names, or the one whose match takes the s3:// source, or the only one.
result<void> apply_feeds(const parsed_args& args, const std::string& source, aws::s3_client& s3,
                         loader::loader_config& config) {
    TARIUS_TRY(check_feeds_flags(args));
    if (!args.has("feeds")) return ok();
    TARIUS_ASSIGN_OR_RETURN(const loader::feed_set feeds, read_feeds_flag(args, &s3));
    TARIUS_TRY(loader::check_outputs_outside_feeds(feeds, config));
    TARIUS_ASSIGN_OR_RETURN(const loader::feed* chosen, choose_feed(args, source, feeds));
    TARIUS_ASSIGN_OR_RETURN(config.dialect, feed_dialect(args, *chosen, config.dialect));
    config = loader::config_for_feed(config, *chosen);
    return ok();
}

// The load's configuration: the flags, the tuning variables of the service modes, the feed (--feeds), and last
// --concurrency and --max-wcu, which take precedence.
result<loader::loader_config> load_config_from(const parsed_args& args, const std::string& source, aws::s3_client& s3) {
    TARIUS_ASSIGN_OR_RETURN(auto options, engine_options_from(args, source));
    loader::loader_config config;
    config.table = args.get("table").value_or("");
    config.mapping = options.mapping;
    config.dialect = options.dialect;
    config.max_rejects = options.max_rejects;
    config.ledger_table = args.get("ledger-table").value_or("");
    config.topic_arn = args.get("topic-arn").value_or("");
    config.kms_key_id = args.get("kms-key").value_or("");
    TARIUS_TRY(loader::apply_tuning_from_env(aws::process_environment(), config));
    TARIUS_TRY(apply_feeds(args, source, s3, config));
    for (const char* flag : {"concurrency", "max-wcu"}) {
        auto text = args.get(flag);
        if (!text) continue;
        const bool wcu = std::string_view(flag) == "max-wcu";
        TARIUS_ASSIGN_OR_RETURN(
            const uint64_t value,
            parse_count(flag, *text, wcu ? "a number of WCU per second" : "a count", wcu ? "100" : "64"));
        if (value == 0) {
            return make_error(errc::INVALID_ARGUMENT,
                              std::string("--") + flag + " must be at least 1 (leave --max-wcu out for no budget)");
        }
        if (wcu) {
            config.writer.max_wcu_per_second = static_cast<double>(value);
        } else {
            config.writer.max_in_flight = value;
        }
    }
    return config;
}

// The human summary of a load: what was read, written, rejected, and what the table allowed.
void print_load_summary(const loader::load_outcome& outcome) {
    const loader::load_counts& c = outcome.counts;
    std::printf("%s: %llu rows read: %llu items written, %llu rejected, %llu duplicates collapsed",
                outcome.source.c_str(), static_cast<unsigned long long>(c.rows),
                static_cast<unsigned long long>(c.items_written), static_cast<unsigned long long>(c.rejected),
                static_cast<unsigned long long>(c.duplicates_collapsed));
    if (c.deleted) std::printf(", %llu deleted", static_cast<unsigned long long>(c.deleted));
    if (c.not_loaded) std::printf(", %llu not loaded", static_cast<unsigned long long>(c.not_loaded));
    std::printf(" (%.1f MB in %.3f s)\n", static_cast<double>(c.bytes) / 1e6, c.seconds);
    for (size_t reason_idx = 0; reason_idx < c.rejected_by_reason.size(); ++reason_idx) {
        if (c.rejected_by_reason[reason_idx] == 0) continue;
        std::printf("  rejected %s: %llu\n", reject_reason_name(static_cast<reject_reason>(reason_idx)),
                    static_cast<unsigned long long>(c.rejected_by_reason[reason_idx]));
    }
    for (const auto& problem : outcome.first_errors) {
        std::printf("  %s\n", pipeline::format_problem(outcome.source, problem).c_str());
    }
    if (c.rejected > outcome.first_errors.size()) {
        std::printf("  ... and %llu more rejected rows\n",
                    static_cast<unsigned long long>(c.rejected - outcome.first_errors.size()));
    }
    std::printf("status %s: %llu items written, %.0f WCU consumed (%.0f WCU/s), %llu of %llu requests throttled%s%s\n",
                loader::load_status_name(outcome.status), static_cast<unsigned long long>(c.items_written),
                c.wcu_consumed, c.wcu_per_second(), static_cast<unsigned long long>(c.requests_throttled),
                static_cast<unsigned long long>(c.requests), outcome.message.empty() ? "" : ": ",
                outcome.message.c_str());
}

}  // namespace

int run_load(std::span<char* const> argv) {
    auto parsed = parse_args(argv, LOAD);
    if (!parsed) {
        print_error("load", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(LOAD).c_str(), stdout);
        return EXIT_OK;
    }
    if (args.positional.size() != 1 || !(args.has("table") || args.has("feeds"))) {
        print_error("load", make_error(errc::INVALID_ARGUMENT,
                                       "expected FILE and --table NAME or --feeds DOC (see tarius load --help)"));
        return EXIT_FAILED;
    }
    if (auto files = check_outputs(files_of(args)); !files) {
        print_error("load", files.err());
        return EXIT_FAILED;
    }
    const std::string& source = args.positional[0];
    auto clients = make_aws_clients();
    if (!clients) {
        print_error("load", clients.err());
        return EXIT_FAILED;
    }
    auto configured = load_config_from(args, source, *clients->s3);
    if (!configured) {
        print_error("load", configured.err());
        return EXIT_FAILED;
    }
    loader::loader_config config = std::move(configured).value();
    auto every = progress_seconds(args);
    if (!every) {
        print_error("load", every.err());
        return EXIT_FAILED;
    }
    const progress_mode mode = *every == 0               ? progress_mode::OFF
                               : ::isatty(STDERR_FILENO) ? progress_mode::BAR
                                                         : progress_mode::LOG;
    const bool has_ledger = args.has("ledger-table");
    const std::string table = config.table;
    loader::set_log_stream(stderr);  // stdout carries the report
    auto runner = make_runner(*clients, std::move(config));
    install_stop_signals();
    const auto stop = [] { return stop_requested.load(); };
    progress_reporter reporter(mode, std::chrono::milliseconds(static_cast<int64_t>(*every * 1000)));
    loader::load_options load_opts;
    if (mode != progress_mode::OFF) {
        load_opts.progress = [&reporter](const loader::load_progress& p) { reporter.update(p); };
        // The bar redraws often; log lines are rate-limited by the reporter itself.
        load_opts.progress_every = std::chrono::milliseconds(mode == progress_mode::BAR ? 200 : 250);
    }

    loader::load_outcome outcome;
    std::string bucket, key;
    if (parse_s3_uri(source, bucket, key)) {
        auto head = clients->s3->head_object(bucket, key);
        if (!head) {
            print_error("load", head.err());
            return EXIT_FAILED;
        }
        loader::object_ref obj;
        obj.bucket = bucket;
        obj.key = key;
        obj.version_id = head->version_id;
        obj.etag = head->etag;
        obj.size = head->size;
        outcome = runner->load_object(obj, "cli", stop, load_opts);
    } else {
        outcome = runner->load_file(source, args.get("rejects").value_or(""), stop, load_opts);
    }
    if (outcome.status == loader::load_status::STOPPED) {
        std::fprintf(stderr, "tarius load: stopped at line %llu (byte %llu); %s\n",
                     static_cast<unsigned long long>(outcome.resume.line),
                     static_cast<unsigned long long>(outcome.resume.offset),
                     has_ledger && !bucket.empty()
                         ? "checkpoint saved in the ledger: run the same command again to resume"
                         : "no ledger: running it again starts over (rewriting the same items is harmless)");
    }
    if (args.has("json")) {
        print_json_line(stdout,
                        outcome.report_json.empty() ? loader::report_json(outcome, table) : outcome.report_json);
    } else {
        print_load_summary(outcome);
    }
    switch (outcome.status) {
        case loader::load_status::SUCCEEDED:
        case loader::load_status::SKIPPED: return EXIT_OK;
        case loader::load_status::SUCCEEDED_WITH_REJECTS: return EXIT_REJECTS;
        default: return EXIT_FAILED;
    }
}

}  // namespace tarius::cli
