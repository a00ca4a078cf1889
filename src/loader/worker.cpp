#include "tarius/loader/worker.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include "tarius/loader/log.hpp"

namespace tarius::loader {
namespace {

using steady = std::chrono::steady_clock;

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) out.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// One message being processed on its own thread.
struct in_progress {
    aws::sqs_message message;
    std::future<std::pair<bool, worker_stats>> done;  // (delete the message?, counters of this message)
    std::atomic<bool> stop{false};
    steady::time_point visible_until;
};

}  // namespace

object_filter object_filter_from_env(const aws::env_lookup& env) {
    object_filter filter;
    filter.bucket = aws::env_value(env, "TARIUS_LANDING_BUCKET").value_or("");
    // Set but empty means "any prefix" / "any suffix" (not the default): read these two raw.
    filter.prefix = env("TARIUS_LANDING_PREFIX").value_or("raw-data/");
    filter.suffixes = split(env("TARIUS_LANDING_SUFFIXES").value_or(".csv,.csv.gz,.csv.zst"), ',');
    return filter;
}

namespace {

// The writer's memory bound outside Lambda, and its floor.
constexpr size_t DEFAULT_BUFFER_BYTES = size_t{64} << 20;
constexpr size_t MIN_BUFFER_BYTES = size_t{8} << 20;
constexpr double LAMBDA_BUFFER_SHARE = 0.1;

}  // namespace

result<size_t> memory_bound_from_env(const aws::env_lookup& env) {
    auto explicit_mb = aws::env_value(env, "TARIUS_MAX_BUFFER_MB");
    if (explicit_mb) {
        char* end = nullptr;
        const double mb = std::strtod(explicit_mb->c_str(), &end);
        if (end == explicit_mb->c_str() || *end != '\0' || mb < 1) {
            return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAX_BUFFER_MB: a number of megabytes, at least 1, not " +
                                                          *explicit_mb);
        }
        return static_cast<size_t>(mb * 1024 * 1024);
    }
    // In Lambda the function's memory decides: the writer holds at most a tenth of it (measured: the process peaks
    // at about twice the bound plus 10 MB, bench/RESULTS.md), so that the whole process
    // (the runtime, the decoder, buffers, the request being built) stays within 40 %.
    if (auto function_mb = aws::env_value(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")) {
        const double mb = std::strtod(function_mb->c_str(), nullptr);
        if (mb > 0) {
            return std::clamp<size_t>(static_cast<size_t>(mb * 1024 * 1024 * LAMBDA_BUFFER_SHARE), MIN_BUFFER_BYTES,
                                      DEFAULT_BUFFER_BYTES);
        }
    }
    return DEFAULT_BUFFER_BYTES;
}

result<loader_config> loader_config_from_env(const aws::env_lookup& env) {
    loader_config config;
    auto table = aws::env_value(env, "TARIUS_TABLE");
    if (!table) return make_error(errc::INVALID_ARGUMENT, "TARIUS_TABLE is not set: name the target DynamoDB table");
    config.table = *table;
    config.ledger_table = aws::env_value(env, "TARIUS_LEDGER_TABLE").value_or("");
    config.topic_arn = aws::env_value(env, "TARIUS_TOPIC_ARN").value_or("");
    config.rejects_prefix = aws::env_value(env, "TARIUS_REJECTS_PREFIX").value_or(config.rejects_prefix);
    config.reports_prefix = aws::env_value(env, "TARIUS_REPORTS_PREFIX").value_or(config.reports_prefix);
    config.kms_key_id = aws::env_value(env, "TARIUS_KMS_KEY_ARN").value_or("");
    if (auto mapping_text = aws::env_value(env, "TARIUS_MAPPING")) {
        if (mapping_text->rfind("s3://", 0) == 0) {
            return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAPPING: s3:// mappings must be fetched by the caller");
        }
        auto parsed = mapping::parse_mapping(*mapping_text);
        if (!parsed) return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAPPING: " + parsed.err().message);
        config.mapping = std::move(parsed).value();
    }
    auto number = [&](const char* name, double fallback) -> result<double> {
        auto text = aws::env_value(env, name);
        if (!text) return fallback;
        char* end = nullptr;
        const double value = std::strtod(text->c_str(), &end);
        if (end == text->c_str() || *end != '\0' || value < 0) {
            return make_error(errc::INVALID_ARGUMENT, std::string(name) + ": not a non-negative number: " + *text);
        }
        return value;
    };
    TARIUS_ASSIGN_OR_RETURN(double concurrency, number("TARIUS_CONCURRENCY", 64));
    TARIUS_ASSIGN_OR_RETURN(config.writer.max_wcu_per_second, number("TARIUS_MAX_WCU", 0));
    if (aws::env_value(env, "TARIUS_MAX_WCU") && config.writer.max_wcu_per_second <= 0) {
        return make_error(errc::INVALID_ARGUMENT,
                          "TARIUS_MAX_WCU: a budget must be more than 0 write units per second; leave it unset for "
                          "no budget");
    }
    TARIUS_ASSIGN_OR_RETURN(config.writer.max_held_bytes, memory_bound_from_env(env));
    TARIUS_ASSIGN_OR_RETURN(double no_progress,
                            number("TARIUS_NO_PROGRESS_SECONDS",
                                   std::chrono::duration<double>(config.writer.no_progress_limit).count()));
    if (no_progress < 1) {
        return make_error(errc::INVALID_ARGUMENT, "TARIUS_NO_PROGRESS_SECONDS: at least 1 second");
    }
    config.writer.no_progress_limit = std::chrono::milliseconds(static_cast<int64_t>(no_progress * 1000));
    TARIUS_ASSIGN_OR_RETURN(double max_bytes, number("TARIUS_MAX_OBJECT_BYTES", 0));
    TARIUS_ASSIGN_OR_RETURN(double lease, number("TARIUS_LEASE_SECONDS", static_cast<double>(config.lease.count())));
    TARIUS_ASSIGN_OR_RETURN(double heartbeat,
                            number("TARIUS_HEARTBEAT_SECONDS", static_cast<double>(config.heartbeat_every.count())));
    config.lease = std::chrono::seconds(std::max<int64_t>(2, static_cast<int64_t>(lease)));
    config.heartbeat_every = std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(heartbeat)));
    config.writer.max_in_flight = std::max<size_t>(1, static_cast<size_t>(concurrency));
    config.max_object_bytes = static_cast<uint64_t>(max_bytes);
    config.worker_id = aws::env_value(env, "TARIUS_WORKER_ID").value_or("");
    if (auto level = aws::env_value(env, "TARIUS_LOG_LEVEL")) TARIUS_TRY(parse_log_level(*level));
    return config;
}

result<worker_stats> run_worker(aws::sqs_client& sqs, load_runner& runner, const worker_options& options,
                                const std::atomic<bool>& stop) {
    worker_stats stats;
    const auto extend_every = std::chrono::seconds(std::max(1, options.visibility_timeout / 3));

    // Runs on the job's thread: counters are returned, not shared.
    // Runs on the job's thread: counters are returned, not shared. Every record of the message is loaded on its
    // own; the message is deleted when each one ended for good, and returns to the queue (a retry then skips what
    // already finished) when any failed transiently or by a deployment error.
    auto process = [&runner, &options](in_progress& job) -> std::pair<bool, worker_stats> {
        worker_stats stats;
        set_log_request_id(job.message.message_id);
        auto parsed = parse_s3_message(job.message.body);
        if (!parsed) {
            log_entry("error", "unsupported message left for the dead-letter queue").with("error", parsed.err().message);
            ++stats.unsupported;
            return {false, stats};
        }
        if (parsed->test_event) {
            log_entry("info", "s3:TestEvent ignored");
            ++stats.ignored;
            return {true, stats};
        }
        bool delete_message = true;
        for (const object_ref& obj : parsed->objects) {
            if (!options.filter.accepts(obj)) {
                log_entry("info", "object outside the configured bucket/prefix/suffixes ignored").with("source", obj.uri());
                ++stats.ignored;
                continue;
            }
            if (job.stop.load()) {  // stopping: the records not started are loaded on the next delivery
                delete_message = false;
                break;
            }
            load_outcome outcome = runner.load_object(obj, job.message.message_id, [&job] { return job.stop.load(); });
            log_load(outcome, runner.config().table);
            const bool again = outcome.status == load_status::RETRY || outcome.status == load_status::STOPPED ||
                               (outcome.status == load_status::FAILED && outcome.failure == aws::error_class::FATAL);
            if (again) {
                ++stats.retries;
                delete_message = false;
            } else if (outcome.status == load_status::SKIPPED) {
                ++stats.skipped;
            } else {
                ++stats.loads;
            }
        }
        set_log_request_id({});
        return {delete_message, stats};
    };

    // Declared after `process`: on an early return the jobs' futures (which wait for their threads) are destroyed
    // first, while the lambda those threads run is still alive.
    std::list<std::unique_ptr<in_progress>> active;

    while (true) {
        // Finished jobs: delete their messages, or leave them for redelivery after a short delay.
        for (auto it = active.begin(); it != active.end();) {
            in_progress& job = **it;
            if (job.done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
                if (steady::now() + extend_every >= job.visible_until) {
                    auto extended = sqs.change_message_visibility(options.queue_url, job.message.receipt_handle,
                                                                  options.visibility_timeout);
                    if (extended) job.visible_until = steady::now() + std::chrono::seconds(options.visibility_timeout);
                }
                ++it;
                continue;
            }
            auto [delete_message, job_stats] = job.done.get();
            stats.loads += job_stats.loads;
            stats.skipped += job_stats.skipped;
            stats.retries += job_stats.retries;
            stats.ignored += job_stats.ignored;
            stats.unsupported += job_stats.unsupported;
            if (delete_message) {
                auto deleted = sqs.delete_message_batch(options.queue_url, {job.message.receipt_handle});
                if (!deleted) log_entry("error", "DeleteMessageBatch failed").with("error", deleted.err().message);
            } else {
                (void)sqs.change_message_visibility(options.queue_url, job.message.receipt_handle,
                                                    stop ? 0 : options.retry_delay_seconds);
            }
            it = active.erase(it);
        }
        if (stop) {
            for (auto& job : active) job->stop = true;
            if (active.empty()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        const int free_slots = options.parallel_loads - static_cast<int>(active.size());
        if (free_slots <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        aws::sqs_receive_options receive;
        receive.max_messages = std::min(10, free_slots);
        receive.wait_seconds = active.empty() ? options.wait_seconds : 1;
        receive.visibility_timeout = options.visibility_timeout;
        auto messages = sqs.receive_message(options.queue_url, receive);
        if (!messages) {
            log_entry("error", "ReceiveMessage failed").with("error", messages.err().message);
            if (!messages.err().retryable && messages.err().code != errc::NETWORK) return std::move(messages).err();
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        if (messages->empty() && active.empty() && options.exit_when_idle) break;
        for (auto& message : *messages) {
            ++stats.messages;
            auto job = std::make_unique<in_progress>();
            job->message = std::move(message);
            job->visible_until = steady::now() + std::chrono::seconds(options.visibility_timeout);
            in_progress* raw = job.get();
            job->done = std::async(std::launch::async, [raw, &process] { return process(*raw); });
            active.push_back(std::move(job));
        }
    }
    return stats;
}

}  // namespace tarius::loader
