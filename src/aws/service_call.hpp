#pragma once
// The core every service client shares: one resolved endpoint, and "send a signed request with the standard
// retries" in a blocking and an asynchronous (poll-driven) form.
//
// Each attempt is signed afresh (a new X-Amz-Date), errors are parsed with parse_service_error and classified by
// the client's retry_strategy, which also honours x-amz-retry-after and, in adaptive mode, the rate limiter.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/aws/client.hpp"
#include "tarius/aws/endpoints.hpp"
#include "tarius/aws/http.hpp"
#include "tarius/aws/retry.hpp"
#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// One logical call: what to send on every attempt.
struct call_request {
    std::string operation;                 ///< "BatchWriteItem", "GetObject", ... (for messages)
    std::string method = "POST";           ///< HTTP method
    std::string url;                       ///< full URL, path and query already encoded
    std::vector<http_header> headers;      ///< request headers without the signing headers
    std::string body;                      ///< payload
    byte_sink* body_sink = nullptr;        ///< stream a 2xx body here; a cut-off after bytes arrived is not retried
    uint64_t sink_base_offset = 0;         ///< object offset of the first streamed byte (S3 Range start)
    std::chrono::milliseconds timeout{0};  ///< per attempt; 0 = the transport's default
};

/// A successful call.
struct call_response {
    http_response response;      ///< the final 2xx response
    int attempts = 1;            ///< HTTP attempts it took
    int throttled_attempts = 0;  ///< attempts answered with a throttling error
};

/// Completion of an asynchronous call.
using call_callback = std::function<void(result<call_response>)>;

/// Settings of a service core.
struct core_options {
    std::string service;        ///< endpoint/retry service id: "s3", "dynamodb", "sqs", "sns", "lambda"
    bool s3_signing = false;    ///< sign with the S3 rules (path encoded once, X-Amz-Content-Sha256)
    bool verify_crc32 = false;  ///< check DynamoDB's x-amz-crc32 on 2xx responses (a mismatch is retried)
    /// One attempt per call, no client-side rate limiting: for a caller that retries, paces and counts itself
    /// (the load writer), whose view of every throttle and fault must not be hidden by retries down here.
    bool caller_retries = false;
};

/// Signed calls with retries for one client. The blocking call() is thread-safe; call_async() and poll() belong
/// to the thread that calls poll(). Destroying the core drops the callbacks of asynchronous calls still pending
/// (drive poll() to zero first to see them all).
class service_core {
public:
    /// Resolves the endpoint and retry settings of `options.service` from the context.
    [[nodiscard]] static result<std::unique_ptr<service_core>> create(std::shared_ptr<client_context> context,
                                                                      core_options options);
    ~service_core();
    service_core(const service_core&) = delete;
    service_core& operator=(const service_core&) = delete;

    /// The resolved endpoint.
    [[nodiscard]] const endpoint& service_endpoint() const { return endpoint_; }
    /// The retry strategy (for tests and metrics).
    [[nodiscard]] retry_strategy& strategy() { return *strategy_; }

    /// Sends `request` with retries, sleeping between attempts; the final 2xx response or the last error.
    [[nodiscard]] result<call_response> call(const call_request& request);
    /// Starts `request`; `done` runs exactly once on the thread calling poll().
    void call_async(call_request request, call_callback done);
    /// Drives asynchronous calls and their retry timers for up to `wait`; returns the number still pending.
    size_t poll(std::chrono::milliseconds wait);

private:
    struct call_state;
    struct verdict;

    service_core(std::shared_ptr<client_context> context, core_options options, endpoint ep,
                 std::unique_ptr<retry_strategy> strategy);
    result<http_request> prepare(const call_request& request);
    result<http_request> prepare(call_request& request, bool take_body);
    result<http_request> prepare_into(const call_request& request, http_request http);
    verdict judge(call_state& state, result<http_response> response);
    void send_async(const std::shared_ptr<call_state>& state, bool limiter_checked);
    void finish_async(const std::shared_ptr<call_state>& state, result<call_response> outcome);

    std::shared_ptr<client_context> context_;
    core_options options_;
    endpoint endpoint_;
    std::unique_ptr<retry_strategy> strategy_;
    // Asynchronous calls waiting for a retry (or rate-limiter) timer, by due time; true = limiter already passed.
    std::multimap<std::chrono::steady_clock::time_point, std::pair<std::shared_ptr<call_state>, bool>> timers_;
    size_t in_transport_ = 0;  // asynchronous attempts submitted to the transport and not completed
    size_t pending_ = 0;       // asynchronous calls whose callback has not run yet
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the core; checked by completions
};

/// Returns `text` percent-encoded for a form body or query (SigV4's encoding, space as %20).
[[nodiscard]] std::string query_encode(std::string_view text);

/// Finds the raw JSON text of member `name` of the top-level object `json` (byte-exact, no re-serialisation);
/// empty when absent or when `json` is not an object.
[[nodiscard]] std::string_view raw_json_member(std::string_view json, std::string_view name);

}  // namespace tarius::aws::detail
