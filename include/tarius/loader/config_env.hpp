#pragma once
/// The loader's configuration from TARIUS_* environment variables (the worker and the Lambda function; the CLI
/// reads the tuning ones too). See README for each variable.

#include <cstddef>

#include "tarius/aws/config.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::loader {

/// Reads the loader configuration: table, ledger table, topic, prefixes, KMS key, mapping (inline JSON/YAML;
/// s3:// URIs are fetched by the caller), concurrency, maximum object size, and the tuning below.
[[nodiscard]] result<loader_config> loader_config_from_env(const aws::env_lookup& env);

/// Applies the tuning variables to `config`: TARIUS_MAX_WCU (more than 0 when set), TARIUS_MAX_BUFFER_MB,
/// TARIUS_NO_PROGRESS_SECONDS (at least 1), TARIUS_LEASE_SECONDS and TARIUS_HEARTBEAT_SECONDS.
[[nodiscard]] result<void> apply_tuning_from_env(const aws::env_lookup& env, loader_config& config);

/// The writer's memory bound: TARIUS_MAX_BUFFER_MB, else a tenth of AWS_LAMBDA_FUNCTION_MEMORY_SIZE (at least
/// 8 MB, at most the default), else 64 MB.
[[nodiscard]] result<size_t> memory_bound_from_env(const aws::env_lookup& env);

/// Reads the object filter from TARIUS_LANDING_BUCKET, TARIUS_LANDING_PREFIX (default raw-data/; set and empty:
/// any) and TARIUS_LANDING_SUFFIXES (default .csv,.csv.gz,.csv.zst; set and empty: any).
[[nodiscard]] object_filter object_filter_from_env(const aws::env_lookup& env);

}  // namespace tarius::loader
