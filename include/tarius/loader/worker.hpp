#pragma once
/// The long-running SQS worker: long-polls a queue that receives the bucket's S3 notifications (direct or wrapped
/// by SNS), loads several files at once, extends message visibility while a load runs, deletes a message only
/// when its load is done, and on stop stops taking work and checkpoints.

#include <atomic>
#include <string>

#include "tarius/aws/config.hpp"
#include "tarius/aws/sqs.hpp"
#include "tarius/loader/config_env.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/feed_router.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::loader {

/// Worker settings.
struct worker_options {
    std::string queue_url;         ///< the queue receiving the notifications (objects no feed loads are ignored)
    int parallel_loads = 2;        ///< messages processed at once
    int visibility_timeout = 60;   ///< seconds; extended every third of it while a load runs
    int wait_seconds = 20;         ///< long polling
    int retry_delay_seconds = 10;  ///< visibility set after a transient failure (the redrive counts receives)
    bool exit_when_idle = false;   ///< return after one empty receive (tests, one-shot drains)
};

/// Counters of a worker run.
struct worker_stats {
    uint64_t messages = 0;     ///< messages received
    uint64_t loads = 0;        ///< loads finished (any status but retry/stopped)
    uint64_t skipped = 0;      ///< duplicate/stale/in-progress events
    uint64_t retries = 0;      ///< messages left for redelivery after a transient failure
    uint64_t ignored = 0;      ///< test events and objects outside the filter
    uint64_t unsupported = 0;  ///< messages that are not S3 events (left to reach the DLQ)
};

/// Runs until `stop` becomes true (or, with exit_when_idle, the queue is empty). Loads in progress when stop
/// is requested are stopped with their checkpoint saved and their messages made visible again.
[[nodiscard]] result<worker_stats> run_worker(aws::sqs_client& sqs, feed_router& router, const worker_options& options,
                                              const std::atomic<bool>& stop);

}  // namespace tarius::loader
