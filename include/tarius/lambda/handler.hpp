#pragma once
/// The function's one handler: S3 event notifications (asynchronous invocation), SQS batches of S3
/// notifications (raw or wrapped by SNS), EventBridge "Object Created" events and Tarius's own continuation
/// events, each routed to the load runner with a deadline-aware stop.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "tarius/lambda/runtime_api.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::lambda {

/// How the rest of a stopped load reaches a new invocation.
struct handover {
    /// Invokes the function asynchronously with `payload` (direct and EventBridge triggers).
    std::function<result<void>(const std::string& function_arn, const std::string& payload)> invoke_self;
    /// Sends `body` to the queue `queue_arn` (SQS trigger).
    std::function<result<void>(const std::string& queue_arn, const std::string& body)> enqueue;
};

/// Handler settings (TARIUS_DEADLINE_MARGIN_MS, TARIUS_MAX_CONTINUATIONS and the landing filter).
struct handler_options {
    loader::object_filter filter;                      ///< which objects to load; others are ignored
    std::chrono::milliseconds deadline_margin{20000};  ///< stop this long before the deadline
    uint32_t max_continuations = 1000;                 ///< a load handed over more often than this fails
};

/// What to tell the Runtime API.
struct handler_result {
    bool failed = false;     ///< post an invocation error (Lambda retries, then the DLQ) instead of a response
    std::string error_type;  ///< when failed, e.g. "Tarius.UnsupportedEvent"
    std::string body;        ///< the response JSON, or the error message when failed
};

/// Prints one structured JSON log line (level, msg, request_id and detail when set) on stdout.
void log_event(const char* level, const std::string& message, const std::string& request_id,
               const std::string& detail = {});

/// Returns "s3", "sqs", "eventbridge", "continuation" or "unknown" for an event payload (for logs and metrics).
[[nodiscard]] std::string event_kind(std::string_view payload);

/// The handler. Thread-compatible: one invocation at a time, as Lambda delivers them.
class event_handler {
public:
    /// Preconditions: `runner` outlives the handler; `handover` functions are set.
    event_handler(loader::load_runner& runner, handler_options options, handover hand);

    /// Handles one invocation; `now_ms` returns epoch milliseconds (injectable for tests).
    [[nodiscard]] handler_result handle(const invocation& inv, const std::function<int64_t()>& now_ms = {});

private:
    struct objects_result;
    [[nodiscard]] objects_result load_objects(const std::vector<loader::object_ref>& objects,
                                              const std::string& request_id, const loader::stop_predicate& stop,
                                              const std::optional<struct continuation>& marker);
    [[nodiscard]] handler_result handle_notification(const invocation& inv, const loader::stop_predicate& stop);
    [[nodiscard]] handler_result handle_sqs(const invocation& inv, const loader::stop_predicate& stop);

    loader::load_runner& runner_;
    handler_options options_;
    handover handover_;
};

/// The URL of the queue named by an SQS ARN (arn:aws:sqs:region:account:name) on `sqs_endpoint_url`
/// (e.g. https://sqs.eu-west-1.amazonaws.com or a local stack's URL); errc::INVALID_ARGUMENT for other ARNs.
[[nodiscard]] result<std::string> queue_url_from_arn(std::string_view queue_arn, std::string_view sqs_endpoint_url);

}  // namespace tarius::lambda
