#pragma once
// The run step of a load: the engine (CSV → items → batches) feeding the DynamoDB writer, with the stop check,
// the checkpoint and lease heartbeat, and progress reports ticking while bytes are read AND while writes are in
// flight. Shared by object loads and file loads.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loader/snapshot/snapshot_load.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "tarius/loader/load_job.hpp"
#include "tarius/pipeline/rejects.hpp"
#include "tarius/stream.hpp"

namespace tarius::loader::detail {

/// What one run needs beside the loader's configuration.
struct pipeline_request {
    std::string source;                            // s3://bucket/key or a path, for messages
    std::string load_id;                           // the load's id, the same in every run of it (row markers)
    mapping::key_schema keys;                      // the table's key schema
    checkpoint resume;                             // where an earlier run of this load got to
    pipeline::rejects_writer* rejects = nullptr;   // where rejected rows go; null: counted only
    std::function<result<void>(byte_sink&)> pump;  // writes the input into the sink (finish() is the run's)
    std::function<result<void>(const checkpoint&)> heartbeat;  // saves the checkpoint and renews the lease
    stop_predicate stop;                                       // asked at every tick
    load_options options;                                      // progress, stop grace
    uint64_t total_bytes = 0;                                  // the input's stored size, 0 when unknown (progress)
    uint64_t max_refusals = UINT64_MAX;                        // rows DynamoDB may refuse before the load fails
    const snapshot::plan* snapshot = nullptr;  // a snapshot feed's plan: the rows to send, the keys to delete
};

/// What one run did.
struct pipeline_result {
    std::optional<error> failure;           // what stopped it (none: the input was read and written to the end)
    load_counts counts;                     // counts of acknowledged work
    std::vector<row_problem> first_errors;  // the first rejected rows' problems
    checkpoint resume;                      // below it, everything is written or rejected
};

/// Runs the pipeline once; the rejects writer (if any) is finished before it returns.
[[nodiscard]] pipeline_result run_pipeline(const loader_config& config, aws::dynamodb_client& writer_client,
                                           const pipeline_request& request);

}  // namespace tarius::loader::detail
