// bootstrap: the Lambda function's custom runtime (provided.al2023). Builds the clients, the load runner and the
// handler once per execution environment, then loops over the Runtime API: next invocation → handler →
// response or error. Bad configuration is posted as an init error (Lambda shows it; no crash loop).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tarius/aws/endpoints.hpp"
#include "tarius/aws/lambda.hpp"
#include "tarius/aws/sqs.hpp"
#include "tarius/lambda/handler.hpp"
#include "tarius/lambda/runtime_api.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/loader/process_files.hpp"
#include "tarius/loader/process_memory.hpp"
#include "tarius/loader/services.hpp"
#include "tarius/loader/worker.hpp"

#ifndef TARIUS_VERSION
#define TARIUS_VERSION "0.1.0"
#endif

namespace {

using namespace tarius;

// Everything that lives for the whole execution environment.
struct function_state {
    loader::aws_clients clients;
    std::unique_ptr<aws::lambda_client> lambda;
    std::unique_ptr<aws::sqs_client> sqs;
    std::string sqs_endpoint;
    std::unique_ptr<loader::feed_router> router;
    std::unique_ptr<lambda::router_loader> loader;
    std::unique_ptr<lambda::event_handler> handler;
};

result<long> env_number(const aws::env_lookup& env, const char* name, long fallback) {
    auto text = aws::env_value(env, name);
    if (!text) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str() || *end != '\0' || value < 0) {
        return make_error(errc::INVALID_ARGUMENT, std::string(name) + ": not a non-negative integer: " + *text);
    }
    return value;
}

result<std::unique_ptr<function_state>> initialise() {
    auto state = std::make_unique<function_state>();
    const aws::env_lookup env = aws::process_environment();
    TARIUS_ASSIGN_OR_RETURN(state->clients, loader::make_aws_clients());
    TARIUS_ASSIGN_OR_RETURN(state->lambda, aws::lambda_client::create(state->clients.context));
    TARIUS_ASSIGN_OR_RETURN(state->sqs, aws::sqs_client::create(state->clients.context));
    const auto& context = *state->clients.context;
    TARIUS_ASSIGN_OR_RETURN(auto sqs_endpoint,
                            aws::resolve_endpoint("sqs", context.region, context.env, context.config));
    state->sqs_endpoint = sqs_endpoint.url();

    lambda::handler_options options;
    TARIUS_ASSIGN_OR_RETURN(long margin, env_number(env, "TARIUS_DEADLINE_MARGIN_MS", 20000));
    TARIUS_ASSIGN_OR_RETURN(long max_continuations, env_number(env, "TARIUS_MAX_CONTINUATIONS", 1000));
    options.deadline_margin = std::chrono::milliseconds(margin);
    options.max_continuations = static_cast<uint32_t>(max_continuations);

    lambda::handover hand;
    function_state* raw = state.get();
    hand.invoke_self = [raw](const std::string& function_arn, const std::string& payload) {
        return raw->lambda->invoke_async(function_arn, payload);
    };
    hand.enqueue = [raw](const std::string& queue_arn, const std::string& body) -> result<void> {
        TARIUS_ASSIGN_OR_RETURN(std::string url, lambda::queue_url_from_arn(queue_arn, raw->sqs_endpoint));
        TARIUS_ASSIGN_OR_RETURN(std::string id, raw->sqs->send_message(url, body));
        (void)id;
        return ok();
    };
    // DescribeTable is not called here: it runs on a feed's first load and is cached by its runner, keeping init short.
    TARIUS_ASSIGN_OR_RETURN(state->router, loader::feed_router_from_env(env, state->clients));
    if (!aws::env_value(env, "TARIUS_LEDGER_TABLE")) {
        return make_error(errc::INVALID_ARGUMENT,
                          "TARIUS_LEDGER_TABLE is not set: the function needs the ledger for exactly-once loads on "
                          "retried events and for continuations");
    }
    state->loader = std::make_unique<lambda::router_loader>(*state->router);
    state->handler = std::make_unique<lambda::event_handler>(*state->loader, std::move(options), std::move(hand));
    return state;
}

}  // namespace

int main(int argc, char** argv) {
    loader::configure_process_memory();
    (void)loader::raise_open_file_limit();
    const auto started = std::chrono::steady_clock::now();
    auto http = std::shared_ptr<aws::http_client>(aws::make_curl_http_client());
    if (argc > 1 && std::string_view(argv[1]) == "--version") {
        std::printf("tarius-bootstrap %s\n", TARIUS_VERSION);
        return 0;
    }
    const char* endpoint = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (endpoint == nullptr || *endpoint == '\0') {
        std::fprintf(stderr,
                     "bootstrap: AWS_LAMBDA_RUNTIME_API is not set; this program runs inside AWS Lambda "
                     "(provided.al2023) or under a Runtime API emulator\n");
        return 1;
    }
    lambda::runtime_api runtime(endpoint, http);

    auto state = initialise();
    if (!state) {
        loader::log_entry("error", "init failed").with("error", state.err().message);
        (void)runtime.report_init_error(lambda::ERROR_INIT, state.err().message);
        return 1;
    }
    const auto init_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    loader::log_entry("info", "init done").with("init_us", static_cast<uint64_t>(init_us));

    while (true) {
        auto inv = runtime.next();
        if (!inv) {
            // The Runtime API itself is gone (or answers nonsense): nothing more can be served.
            loader::log_entry("error", "Runtime API: next invocation failed").with("error", inv.err().message);
            return 1;
        }
        if (inv->trace_id.empty()) {
            ::unsetenv("_X_AMZN_TRACE_ID");
        } else {
            ::setenv("_X_AMZN_TRACE_ID", inv->trace_id.c_str(), 1);
        }
        lambda::handler_result out = (*state)->handler->handle(*inv);
        auto posted = out.failed ? runtime.report_error(inv->request_id, out.error_type, out.body)
                                 : runtime.respond(inv->request_id, out.body);
        if (!posted && !out.failed && posted.err().code == errc::INVALID_ARGUMENT) {
            // The Runtime API refused the response (e.g. too large): the invocation must still end.
            posted = runtime.report_error(inv->request_id, lambda::ERROR_RESPONSE_REJECTED, posted.err().message);
        }
        if (!posted) {
            // A refused post (the invocation already ended: timed out, or answered) must not cost the execution
            // environment: log it and serve the next invocation.
            loader::log_entry("error", "Runtime API refused the answer")
                .with("request_id", inv->request_id)
                .with("error", posted.err().message);
        }
    }
}
