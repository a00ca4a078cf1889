#pragma once
/// The function's one handler: S3 event notifications (asynchronous invocation), SQS batches of S3
/// notifications (raw or wrapped by SNS), EventBridge "Object Created" events and Tarius's own continuation
/// events, each routed to the loader with a deadline-aware stop.
///
/// One record, one outcome: every object of an event is loaded on its own, and one object's failure never
/// decides another's. Objects that failed for good (recorded, notified) need nothing more; an object that
/// failed transiently makes the invocation fail (S3/EventBridge: Lambda retries the event, and the ledger skips
/// what finished) or puts its message in `batchItemFailures` (SQS); an object stopped by the deadline is handed
/// over, with the objects not started yet, to a new invocation.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/lambda/runtime_api.hpp"
#include "tarius/loader/events.hpp"
#include "tarius/loader/feed_router.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::lambda {

/// The error types the function posts. Lambda keeps types shaped `Function.<Name>` (or `Runtime.<Name>`) and
/// records any other as `Runtime.Unknown`.
inline constexpr const char* ERROR_UNSUPPORTED_EVENT = "Function.UnsupportedEvent";
inline constexpr const char* ERROR_TRANSIENT = "Function.TransientFailure";
inline constexpr const char* ERROR_CONFIGURATION = "Function.ConfigurationError";
inline constexpr const char* ERROR_NO_PROGRESS = "Function.NoProgress";
inline constexpr const char* ERROR_HANDOVER = "Function.HandoverFailed";
inline constexpr const char* ERROR_RESPONSE_REJECTED = "Function.ResponseRejected";
inline constexpr const char* ERROR_INIT = "Function.InitError";

/// What the handler needs of the loader: the feed router in the function, a fake in tests.
class object_loader {
public:
    virtual ~object_loader() = default;
    /// True when a feed loads `obj` (others are ignored, logged and counted).
    [[nodiscard]] virtual bool accepts(const loader::object_ref& obj) const = 0;
    /// Loads one object its feed accepts (see load_runner::load_object).
    [[nodiscard]] virtual loader::load_outcome load(const loader::object_ref& obj, const std::string& request_id,
                                                    const loader::stop_predicate& stop,
                                                    const loader::load_options& options) = 0;
};

/// object_loader over a feed router.
class router_loader final : public object_loader {
public:
    /// Precondition: `router` outlives this.
    explicit router_loader(loader::feed_router& router) : router_(router) {}
    bool accepts(const loader::object_ref& obj) const override { return router_.route(obj) != nullptr; }
    loader::load_outcome load(const loader::object_ref& obj, const std::string& request_id,
                              const loader::stop_predicate& stop, const loader::load_options& options) override {
        return router_.runner(*router_.route(obj)).load_object(obj, request_id, stop, options);
    }

private:
    loader::feed_router& router_;
};

/// How the rest of a stopped load reaches a new invocation.
struct handover {
    /// Invokes the function asynchronously with `payload` (direct and EventBridge triggers).
    std::function<result<void>(const std::string& function_arn, const std::string& payload)> invoke_self;
    /// Sends `body` to the queue `queue_arn` (SQS trigger).
    std::function<result<void>(const std::string& queue_arn, const std::string& body)> enqueue;
};

/// Handler settings (TARIUS_DEADLINE_MARGIN_MS, TARIUS_MAX_CONTINUATIONS).
struct handler_options {
    std::chrono::milliseconds deadline_margin{20000};  ///< stop this long before the deadline
    uint32_t max_continuations = 1000;                 ///< a load handed over more often than this fails
    size_t max_loads_listed = 100;                     ///< loads listed in the answer (the rest are counted)
    size_t max_event_bytes = 200 * 1024;               ///< a continuation event larger than this is split
};

/// What to tell the Runtime API.
struct handler_result {
    bool failed = false;     ///< post an invocation error (Lambda retries, then the DLQ) instead of a response
    std::string error_type;  ///< when failed, one of the ERROR_* types
    std::string body;        ///< the response JSON, or the error message when failed
};

/// Returns "s3", "sqs", "eventbridge", "continuation" or "unknown" for an event payload (for logs and metrics).
[[nodiscard]] std::string event_kind(std::string_view payload);

/// The handler. Thread-compatible: one invocation at a time, as Lambda delivers them.
class event_handler {
public:
    /// Preconditions: `loader` outlives the handler; `handover` functions are set.
    event_handler(object_loader& loader, handler_options options, handover hand);

    /// Handles one invocation; `now_ms` returns epoch milliseconds (injectable for tests).
    [[nodiscard]] handler_result handle(const invocation& inv, const std::function<int64_t()>& now_ms = {});

private:
    struct records_result;
    [[nodiscard]] records_result load_objects(const std::vector<loader::object_ref>& objects,
                                              const std::string& request_id, const loader::stop_predicate& stop,
                                              std::chrono::milliseconds stop_grace,
                                              const std::optional<struct continuation>& marker);
    [[nodiscard]] handler_result handle_notification(const invocation& inv, const loader::stop_predicate& stop,
                                                     std::chrono::milliseconds stop_grace);
    [[nodiscard]] handler_result handle_sqs(const invocation& inv, const loader::stop_predicate& stop,
                                            std::chrono::milliseconds stop_grace);

    object_loader& loader_;
    handler_options options_;
    handover handover_;
};

/// The URL of the queue named by an SQS ARN (arn:aws:sqs:region:account:name) on `sqs_endpoint_url`
/// (e.g. https://sqs.eu-west-1.amazonaws.com or a local stack's URL); errc::INVALID_ARGUMENT for other ARNs.
[[nodiscard]] result<std::string> queue_url_from_arn(std::string_view queue_arn, std::string_view sqs_endpoint_url);

}  // namespace tarius::lambda
