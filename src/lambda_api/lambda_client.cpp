#include "tarius/aws/lambda.hpp"

#include <utility>

#include "aws/service_call.hpp"

namespace tarius::aws {

namespace {

class lambda_client_impl final : public lambda_client {
public:
    explicit lambda_client_impl(std::unique_ptr<detail::service_core> core) : core_(std::move(core)) {}

    result<void> invoke_async(const std::string& function, const std::string& payload) override {
        if (function.empty()) return make_error(errc::INVALID_ARGUMENT, "lambda Invoke: empty function name");
        detail::call_request req;
        req.operation = "Invoke";
        req.method = "POST";
        // A name, a partial or a full ARN (with ':' and an optional qualifier): one encoded path segment.
        req.url = core_->service_endpoint().url() + "/2015-03-31/functions/" + detail::query_encode(function) +
                  "/invocations";
        req.headers.push_back({"Content-Type", "application/json"});
        req.headers.push_back({"X-Amz-Invocation-Type", "Event"});
        req.body = payload;
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        if (response.response.status != 202) {
            return make_error(errc::SERVICE, "lambda Invoke: expected 202 Accepted for an Event invocation, got HTTP " +
                                                 std::to_string(response.response.status));
        }
        return ok();
    }

private:
    std::unique_ptr<detail::service_core> core_;
};

}  // namespace

result<std::unique_ptr<lambda_client>> lambda_client::create(std::shared_ptr<client_context> context) {
    detail::core_options options;
    options.service = "lambda";
    TARIUS_ASSIGN_OR_RETURN(auto core, detail::service_core::create(std::move(context), std::move(options)));
    return std::unique_ptr<lambda_client>(new lambda_client_impl(std::move(core)));
}

}  // namespace tarius::aws
