// tarius worker: the long-running SQS consumer of the bucket's notifications.

#include <cstdio>

#include "aws_setup.hpp"
#include "commands.hpp"
#include "report.hpp"
#include "tarius/aws/sqs.hpp"
#include "tarius/loader/worker.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 5> WORKER_FLAGS = {{
    {"wait-seconds", "SECONDS", "long-polling wait of each ReceiveMessage, 0-20 (default 20)"},
    {"queue-url", "URL", "the SQS queue receiving the bucket's S3 notifications (or TARIUS_QUEUE_URL)"},
    {"parallel-loads", "N", "files loaded at once (default 2, or TARIUS_PARALLEL_LOADS)"},
    {"visibility-timeout", "SECONDS", "message visibility while loading, extended as needed (default 60)"},
    {"exit-when-idle", "", "return once the queue is empty (one-shot drains, tests)"},
}};
constexpr command_spec WORKER = {
    "worker", "tarius worker --queue-url URL",
    "Long-polls an SQS queue of S3 notifications (direct or wrapped by SNS) and loads each new object under the\n"
    "landing prefix into the table, exactly once per object version (with TARIUS_LEDGER_TABLE). Messages are\n"
    "deleted only when their load is done; SIGTERM stops taking work and checkpoints the loads in progress.\n"
    "Configuration: TARIUS_* environment variables (see README), the AWS SDK variables for AWS access.",
    WORKER_FLAGS};

}  // namespace

int run_worker(std::span<char* const> argv) {
    auto parsed = parse_args(argv, WORKER);
    if (!parsed) {
        print_error("worker", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(WORKER).c_str(), stdout);
        return EXIT_OK;
    }
    const auto env = aws::process_environment();
    loader::worker_options options;
    options.queue_url = args.get("queue-url").value_or(aws::env_value(env, "TARIUS_QUEUE_URL").value_or(""));
    if (options.queue_url.empty()) {
        print_error("worker", make_error(errc::INVALID_ARGUMENT, "no queue: give --queue-url URL or TARIUS_QUEUE_URL"));
        return EXIT_FAILED;
    }
    if (auto wait = args.get("wait-seconds")) {
        auto value = parse_count("wait-seconds", *wait, "a number of seconds", "20");
        if (!value || *value > 20) {
            print_error("worker",
                        value ? make_error(errc::INVALID_ARGUMENT, "--wait-seconds must be 0-20") : value.err());
            return EXIT_FAILED;
        }
        options.wait_seconds = static_cast<int>(*value);
    }
    for (const char* flag : {"parallel-loads", "visibility-timeout"}) {
        std::optional<std::string> text = args.get(flag);
        if (!text && std::string_view(flag) == "parallel-loads") text = aws::env_value(env, "TARIUS_PARALLEL_LOADS");
        if (!text) continue;
        const bool seconds = std::string_view(flag) == "visibility-timeout";
        auto value = parse_count(flag, *text, seconds ? "a number of seconds" : "a count", seconds ? "60" : "2");
        if (!value || *value == 0) {
            print_error("worker", value ? make_error(errc::INVALID_ARGUMENT, std::string("--") + flag + " must be > 0")
                                        : value.err());
            return EXIT_FAILED;
        }
        (std::string_view(flag) == "parallel-loads" ? options.parallel_loads : options.visibility_timeout) =
            static_cast<int>(*value);
    }
    options.exit_when_idle = args.has("exit-when-idle");
    auto clients = make_aws_clients();
    if (!clients) {
        print_error("worker", clients.err());
        return EXIT_FAILED;
    }
    auto router = loader::feed_router_from_env(env, *clients);
    if (!router) {
        print_error("worker", router.err());
        return EXIT_FAILED;
    }
    auto sqs = aws::sqs_client::create(clients->context);
    if (!sqs) {
        print_error("worker", sqs.err());
        return EXIT_FAILED;
    }
    install_stop_signals();
    auto stats = loader::run_worker(**sqs, **router, options, stop_requested);
    if (!stats) {
        print_error("worker", stats.err());
        return EXIT_FAILED;
    }
    std::fprintf(stderr,
                 "tarius worker: stopped: %llu messages, %llu loads, %llu skipped, %llu left for retry, %llu ignored\n",
                 static_cast<unsigned long long>(stats->messages), static_cast<unsigned long long>(stats->loads),
                 static_cast<unsigned long long>(stats->skipped), static_cast<unsigned long long>(stats->retries),
                 static_cast<unsigned long long>(stats->ignored));
    return EXIT_OK;
}

}  // namespace tarius::cli
