#include "tarius/loader/config_env.hpp"

#include <algorithm>
#include <cstdlib>

#include "tarius/loader/log.hpp"

namespace tarius::loader {
namespace {

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

// A non-negative number from the environment, `fallback` when unset.
result<double> env_number(const aws::env_lookup& env, const char* name, double fallback) {
    auto text = aws::env_value(env, name);
    if (!text) return fallback;
    char* end = nullptr;
    const double value = std::strtod(text->c_str(), &end);
    if (end == text->c_str() || *end != '\0' || value < 0) {
        return make_error(errc::INVALID_ARGUMENT, std::string(name) + ": not a non-negative number: " + *text);
    }
    return value;
}

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
            return make_error(errc::INVALID_ARGUMENT,
                              "TARIUS_MAX_BUFFER_MB: a number of megabytes, at least 1, not " + *explicit_mb);
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

result<void> apply_tuning_from_env(const aws::env_lookup& env, loader_config& config) {
    TARIUS_ASSIGN_OR_RETURN(config.writer.max_wcu_per_second, env_number(env, "TARIUS_MAX_WCU", 0));
    if (aws::env_value(env, "TARIUS_MAX_WCU") && config.writer.max_wcu_per_second <= 0) {
        return make_error(errc::INVALID_ARGUMENT,
                          "TARIUS_MAX_WCU: a budget must be more than 0 write units per second; leave it unset for "
                          "no budget");
    }
    TARIUS_ASSIGN_OR_RETURN(config.writer.max_held_bytes, memory_bound_from_env(env));
    const double no_progress_default = std::chrono::duration<double>(config.writer.no_progress_limit).count();
    TARIUS_ASSIGN_OR_RETURN(double no_progress, env_number(env, "TARIUS_NO_PROGRESS_SECONDS", no_progress_default));
    if (no_progress < 1) return make_error(errc::INVALID_ARGUMENT, "TARIUS_NO_PROGRESS_SECONDS: at least 1 second");
    config.writer.no_progress_limit = std::chrono::milliseconds(static_cast<int64_t>(no_progress * 1000));
    TARIUS_ASSIGN_OR_RETURN(double lease,
                            env_number(env, "TARIUS_LEASE_SECONDS", static_cast<double>(config.lease.count())));
    TARIUS_ASSIGN_OR_RETURN(double heartbeat, env_number(env, "TARIUS_HEARTBEAT_SECONDS",
                                                         static_cast<double>(config.heartbeat_every.count())));
    config.lease = std::chrono::seconds(std::max<int64_t>(2, static_cast<int64_t>(lease)));
    config.heartbeat_every = std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(heartbeat)));
    config.snapshot_directory = aws::env_value(env, "TARIUS_SNAPSHOT_DIR").value_or(config.snapshot_directory);
    return ok();
}

result<loader_config> loader_config_from_env(const aws::env_lookup& env) {
    loader_config config;
    // With a feeds document each feed names its table; without one, TARIUS_TABLE is the one feed's.
    auto table = aws::env_value(env, "TARIUS_TABLE");
    if (!table && !aws::env_value(env, "TARIUS_FEEDS")) {
        return make_error(
            errc::INVALID_ARGUMENT,
            "TARIUS_TABLE is not set: name the target DynamoDB table (or describe feeds in TARIUS_FEEDS)");
    }
    config.table = table.value_or("");
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
    TARIUS_ASSIGN_OR_RETURN(double concurrency, env_number(env, "TARIUS_CONCURRENCY", 64));
    TARIUS_ASSIGN_OR_RETURN(double max_bytes, env_number(env, "TARIUS_MAX_OBJECT_BYTES", 0));
    config.writer.max_in_flight = std::max<size_t>(1, static_cast<size_t>(concurrency));
    config.max_object_bytes = static_cast<uint64_t>(max_bytes);
    TARIUS_TRY(apply_tuning_from_env(env, config));
    config.worker_id = aws::env_value(env, "TARIUS_WORKER_ID").value_or("");
    if (auto level = aws::env_value(env, "TARIUS_LOG_LEVEL")) TARIUS_TRY(parse_log_level(*level));
    return config;
}

}  // namespace tarius::loader
