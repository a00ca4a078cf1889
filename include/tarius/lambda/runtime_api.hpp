#pragma once
/// A client of the Lambda Runtime API (the custom-runtime protocol at AWS_LAMBDA_RUNTIME_API): fetch the next
/// invocation, post its response or its error, post an initialisation error.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"

namespace tarius::lambda {

/// One invocation, as the Runtime API hands it out.
struct invocation {
    std::string request_id;    ///< Lambda-Runtime-Aws-Request-Id
    int64_t deadline_ms = 0;   ///< Lambda-Runtime-Deadline-Ms: epoch milliseconds when the function times out
    std::string function_arn;  ///< Lambda-Runtime-Invoked-Function-Arn (with the alias or version invoked)
    std::string trace_id;      ///< Lambda-Runtime-Trace-Id (X-Ray), exported as _X_AMZN_TRACE_ID
    std::string payload;       ///< the event JSON
};

/// Retry settings for transient failures talking to the Runtime API.
struct runtime_api_options {
    int attempts = 4;                               ///< tries per call before giving up
    std::chrono::milliseconds backoff{50};          ///< first pause between tries, doubled each time
    std::chrono::milliseconds post_timeout{10000};  ///< timeout of response/error posts (the GET has none)
};

/// The Runtime API client. Not thread-safe: one runtime loop uses it.
class runtime_api {
public:
    /// `endpoint` is AWS_LAMBDA_RUNTIME_API ("host:port"). Precondition: `http` is not null.
    runtime_api(std::string endpoint, std::shared_ptr<aws::http_client> http, runtime_api_options options = {});

    /// GET /runtime/invocation/next: blocks (no timeout) until an invocation arrives.
    [[nodiscard]] result<invocation> next();
    /// POST /runtime/invocation/{id}/response with `body` (JSON).
    [[nodiscard]] result<void> respond(const std::string& request_id, const std::string& body);
    /// POST /runtime/invocation/{id}/error: {"errorMessage","errorType"} and the Function-Error-Type header.
    [[nodiscard]] result<void> report_error(const std::string& request_id, const std::string& error_type,
                                            const std::string& message);
    /// POST /runtime/init/error: start-up failed; Lambda reports it and does not send invocations.
    [[nodiscard]] result<void> report_init_error(const std::string& error_type, const std::string& message);

private:
    [[nodiscard]] result<aws::http_response> send(aws::http_request request, long expected_status);
    [[nodiscard]] result<void> post_error(const std::string& path, const std::string& error_type,
                                          const std::string& message);

    std::string base_url_;
    std::shared_ptr<aws::http_client> http_;
    runtime_api_options options_;
};

/// The error document the Runtime API expects: {"errorMessage":…,"errorType":…,"stackTrace":[]}.
[[nodiscard]] std::string error_document(const std::string& error_type, const std::string& message);

}  // namespace tarius::lambda
