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

// One message being processed on its own thread.
struct in_progress {
    aws::sqs_message message;
    std::future<std::pair<bool, worker_stats>> done;  // (delete the message?, counters of this message)
    std::atomic<bool> stop{false};
    steady::time_point visible_until;
};

}  // namespace

result<worker_stats> run_worker(aws::sqs_client& sqs, feed_router& router, const worker_options& options,
                                const std::atomic<bool>& stop) {
    worker_stats stats;
    const auto extend_every = std::chrono::seconds(std::max(1, options.visibility_timeout / 3));

    // Runs on the job's thread: counters are returned, not shared. Every record of the message is loaded on its
    // own; the message is deleted when each one ended for good, and returns to the queue (a retry then skips what
    // already finished) when any failed transiently or by a deployment error.
    auto process = [&router](in_progress& job) -> std::pair<bool, worker_stats> {
        worker_stats stats;
        set_log_request_id(job.message.message_id);
        auto parsed = parse_s3_message(job.message.body);
        if (!parsed) {
            log_entry("error", "unsupported message left for the dead-letter queue")
                .with("error", parsed.err().message);
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
            const feed* f = router.route(obj);
            if (f == nullptr) {
                log_unmatched(obj);
                ++stats.ignored;
                continue;
            }
            if (job.stop.load()) {  // stopping: the records not started are loaded on the next delivery
                delete_message = false;
                break;
            }
            load_outcome outcome =
                router.runner(*f).load_object(obj, job.message.message_id, [&job] { return job.stop.load(); });
            log_load(outcome, outcome.table);
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
