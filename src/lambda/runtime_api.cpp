#include "tarius/lambda/runtime_api.hpp"

#include <charconv>
#include <thread>
#include <utility>

#include "json/writer.hpp"

namespace tarius::lambda {
namespace {

constexpr const char* API_VERSION = "/2018-06-01";

}  // namespace

std::string error_document(const std::string& error_type, const std::string& message) {
    std::string out;
    json::writer w(out);
    w.begin_object().key("errorMessage").value(message).key("errorType").value(error_type);
    w.key("stackTrace").begin_array().end_array().end_object();
    return out;
}

runtime_api::runtime_api(std::string endpoint, std::shared_ptr<aws::http_client> http, runtime_api_options options)
    : base_url_("http://" + std::move(endpoint) + API_VERSION), http_(std::move(http)), options_(options) {}

result<aws::http_response> runtime_api::send(aws::http_request request, long expected_status) {
    auto pause = options_.backoff;
    for (int attempt = 1;; ++attempt) {
        auto response = http_->perform(request);
        if (response && response->status == expected_status) return response;
        // 4xx other than 429 are our mistakes (unknown request id, payload too large): retrying cannot help.
        const bool client_error =
            response && response->status >= 400 && response->status < 500 && response->status != 429;
        if (client_error || attempt >= options_.attempts) {
            if (!response) return std::move(response).err();
            return make_error(client_error ? errc::INVALID_ARGUMENT : errc::SERVICE,
                              "Runtime API " + request.method + " " + request.url + ": HTTP " +
                                  std::to_string(response->status) + ": " + response->body.substr(0, 300),
                              !client_error);
        }
        std::this_thread::sleep_for(pause);
        pause *= 2;
    }
}

result<invocation> runtime_api::next() {
    aws::http_request request;
    request.method = "GET";
    request.url = base_url_ + "/runtime/invocation/next";
    request.timeout = std::chrono::milliseconds(-1);  // waits as long as the environment is frozen or idle
    TARIUS_ASSIGN_OR_RETURN(aws::http_response response, send(std::move(request), 200));
    invocation out;
    auto header = [&response](std::string_view name) { return std::string(response.header(name).value_or("")); };
    out.request_id = header("Lambda-Runtime-Aws-Request-Id");
    if (out.request_id.empty()) {
        return make_error(errc::SERVICE, "Runtime API: next invocation without Lambda-Runtime-Aws-Request-Id", true);
    }
    const std::string deadline = header("Lambda-Runtime-Deadline-Ms");
    std::from_chars(deadline.data(), deadline.data() + deadline.size(), out.deadline_ms);
    out.function_arn = header("Lambda-Runtime-Invoked-Function-Arn");
    out.trace_id = header("Lambda-Runtime-Trace-Id");
    out.payload = std::move(response.body);
    return out;
}

result<void> runtime_api::respond(const std::string& request_id, const std::string& body) {
    aws::http_request request;
    request.method = "POST";
    request.url = base_url_ + "/runtime/invocation/" + request_id + "/response";
    request.headers.push_back({"Content-Type", "application/json"});
    request.body = body;
    request.timeout = options_.post_timeout;
    TARIUS_ASSIGN_OR_RETURN(auto response, send(std::move(request), 202));
    (void)response;
    return ok();
}

result<void> runtime_api::post_error(const std::string& path, const std::string& error_type,
                                     const std::string& message) {
    aws::http_request request;
    request.method = "POST";
    request.url = base_url_ + path;
    request.headers.push_back({"Content-Type", "application/json"});
    request.headers.push_back({"Lambda-Runtime-Function-Error-Type", error_type});
    request.body = error_document(error_type, message);
    request.timeout = options_.post_timeout;
    TARIUS_ASSIGN_OR_RETURN(auto response, send(std::move(request), 202));
    (void)response;
    return ok();
}

result<void> runtime_api::report_error(const std::string& request_id, const std::string& error_type,
                                       const std::string& message) {
    return post_error("/runtime/invocation/" + request_id + "/error", error_type, message);
}

result<void> runtime_api::report_init_error(const std::string& error_type, const std::string& message) {
    return post_error("/runtime/init/error", error_type, message);
}

}  // namespace tarius::lambda
