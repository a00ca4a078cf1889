#include "aws/service_call.hpp"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "aws/action_log.hpp"
#include "aws/uri.hpp"
#include "tarius/aws/errors.hpp"
#include "tarius/aws/sigv4.hpp"

namespace tarius::aws::detail {

namespace {

// Counts what reaches the caller's sink, so that a body cut off after bytes were delivered is not retried (the
// caller would see those bytes twice) and the error can name the offset reached.
class counting_sink final : public byte_sink {
public:
    explicit counting_sink(byte_sink* next) : next_(next) {}
    result<void> write(std::string_view chunk) override {
        TARIUS_TRY(next_->write(chunk));
        written_ += chunk.size();
        return ok();
    }
    result<void> finish() override { return ok(); }
    bool stop_requested() override { return next_->stop_requested(); }
    [[nodiscard]] uint64_t written() const { return written_; }

private:
    byte_sink* next_;
    uint64_t written_ = 0;
};

bool looks_like_timeout(std::string_view message) {
    return message.find("Timeout") != std::string_view::npos || message.find("timed out") != std::string_view::npos;
}

}  // namespace

struct service_core::call_state {
    const call_request* request = nullptr;  // the caller's (blocking call) or `owned` (asynchronous call)
    call_request owned;
    call_callback done;
    retry_token token;
    int attempts = 0;
    int throttled = 0;
    std::unique_ptr<counting_sink> sink;
};

struct service_core::verdict {
    enum class kind : uint8_t { DONE, RETRY, FAIL };
    kind what = kind::FAIL;
    std::chrono::milliseconds delay{0};
    std::optional<call_response> response;
    std::optional<error> err;
};

service_core::service_core(std::shared_ptr<client_context> context, core_options options, endpoint ep,
                           std::unique_ptr<retry_strategy> strategy)
    : context_(std::move(context)),
      options_(std::move(options)),
      endpoint_(std::move(ep)),
      strategy_(std::move(strategy)) {}

service_core::~service_core() = default;

result<std::unique_ptr<service_core>> service_core::create(std::shared_ptr<client_context> context,
                                                           core_options options) {
    if (!context || !context->http || !context->credentials || !context->signer) {
        return make_error(errc::INVALID_ARGUMENT, options.service + " client: incomplete client context");
    }
    TARIUS_ASSIGN_OR_RETURN(endpoint ep,
                            resolve_endpoint(options.service, context->region, context->env, context->config));
    TARIUS_ASSIGN_OR_RETURN(retry_settings settings,
                            resolve_retry_settings(options.service, context->env, context->config));
    if (options.caller_retries) {
        settings.max_attempts = 1;
        settings.mode = retry_mode::STANDARD;
    }
    retry_strategy_options retry_options;
    retry_options.settings = std::move(settings);
    retry_options.quota = context->quota;
    auto strategy = std::make_unique<retry_strategy>(std::move(retry_options));
    return std::unique_ptr<service_core>(
        new service_core(std::move(context), std::move(options), std::move(ep), std::move(strategy)));
}

// Builds and signs one attempt: a fresh copy of the request and a fresh signature (new X-Amz-Date, current
// credentials, which the chain may have refreshed since the last attempt).
result<http_request> service_core::prepare(call_request& request, bool take_body) {
    // A call that gets one attempt only gives its body to the attempt instead of copying it: for the loader's
    // BatchWriteItem requests that is megabytes less per request in flight.
    http_request http;
    http.body = take_body ? std::move(request.body) : request.body;
    return prepare_into(request, std::move(http));
}

result<http_request> service_core::prepare(const call_request& request) {
    http_request http;
    http.body = request.body;
    return prepare_into(request, std::move(http));
}

result<http_request> service_core::prepare_into(const call_request& request, http_request http) {
    auto creds = context_->credentials->get();
    if (!creds) {
        error err = std::move(creds).err();
        err.message = options_.service + " " + request.operation + ": " + err.message;
        return err;
    }
    http.method = request.method;
    http.url = request.url;
    http.headers = request.headers;
    http.timeout = request.timeout;
    signing_params params;
    params.service = endpoint_.signing_name;
    params.region = endpoint_.signing_region;
    params.time = std::chrono::system_clock::now();
    if (options_.s3_signing) params.s3_rules();
    auto signed_ok = context_->signer->sign(http, *creds, params);
    if (!signed_ok) {
        error err = std::move(signed_ok).err();
        err.message = options_.service + " " + request.operation + ": signing failed: " + err.message;
        return err;
    }
    return http;
}

service_core::verdict service_core::judge(call_state& state, result<http_response> response) {
    verdict out;
    attempt_outcome outcome;
    error err;
    const std::string prefix = options_.service + " " + state.request->operation + ": ";
    if (!response) {
        err = std::move(response).err();
        err.message = prefix + err.message;
        if (!err.retryable) {
            out.err = std::move(err);
            return out;
        }
        if (state.sink && state.sink->written() > 0) {
            // Bytes already went to the caller: it resumes with a Range from the offset named here.
            err.message += "; " + std::to_string(state.sink->written()) +
                           " body bytes delivered, resume at object offset " +
                           std::to_string(state.request->sink_base_offset + state.sink->written());
            out.err = std::move(err);
            return out;
        }
        outcome.connection_error = true;
        outcome.timeout = looks_like_timeout(err.message);
    } else {
        http_response& resp = *response;
        outcome.http_status = resp.status;
        if (resp.status >= 200 && resp.status < 300) {
            auto crc = options_.verify_crc32 ? verify_dynamodb_crc32(resp) : result<void>();
            if (crc) {
                strategy_->on_success(state.token);
                out.what = verdict::kind::DONE;
                out.response = call_response{std::move(resp), state.attempts, state.throttled};
                return out;
            }
            err = std::move(crc).err();
            err.message = prefix + err.message;
            outcome.crc32_mismatch = true;
        } else {
            service_error se = parse_service_error(options_.service, state.request->operation, resp);
            if (se.throttling) ++state.throttled;
            outcome.error_code = se.code;
            if (auto after = resp.header("x-amz-retry-after")) outcome.retry_after_header = std::string(*after);
            err = se.to_error();
        }
    }
    retry_decision decision = strategy_->should_retry(outcome, state.token);
    if (decision.retry) {
        out.what = verdict::kind::RETRY;
        out.delay = decision.delay;
        return out;
    }
    if (state.attempts > 1) {
        err.message += " (gave up after " + std::to_string(state.attempts) + " attempts: " + decision.reason + ")";
    }
    out.err = std::move(err);
    return out;
}

result<call_response> service_core::call(const call_request& request) {
    record_action(options_.service, endpoint_, request);
    call_state state;
    state.request = &request;
    for (;;) {
        auto wait = strategy_->before_attempt();
        if (wait.count() > 0) std::this_thread::sleep_for(wait);
        TARIUS_ASSIGN_OR_RETURN(http_request http, prepare(request));
        if (request.body_sink != nullptr) {
            state.sink = std::make_unique<counting_sink>(request.body_sink);
            http.body_sink = state.sink.get();
        }
        ++state.attempts;
        verdict v = judge(state, context_->http->perform(std::move(http)));
        switch (v.what) {
            case verdict::kind::DONE: return std::move(*v.response);
            case verdict::kind::FAIL: return std::move(*v.err);
            case verdict::kind::RETRY:
                if (v.delay.count() > 0) std::this_thread::sleep_for(v.delay);
                break;
        }
    }
}

void service_core::call_async(call_request request, call_callback done) {
    record_action(options_.service, endpoint_, request);
    auto state = std::make_shared<call_state>();
    state->owned = std::move(request);
    state->request = &state->owned;
    state->done = std::move(done);
    ++pending_;
    send_async(state, false);
}

void service_core::send_async(const std::shared_ptr<call_state>& state, bool limiter_checked) {
    if (!limiter_checked) {
        auto wait = strategy_->before_attempt();
        if (wait.count() > 0) {
            timers_.emplace(std::chrono::steady_clock::now() + wait, std::make_pair(state, true));
            return;
        }
    }
    auto http = prepare(state->owned, strategy_->settings().max_attempts <= 1);
    if (!http) {
        finish_async(state, std::move(http).err());
        return;
    }
    if (state->owned.body_sink != nullptr) {
        state->sink = std::make_unique<counting_sink>(state->owned.body_sink);
        http->body_sink = state->sink.get();
    }
    ++state->attempts;
    ++in_transport_;
    // The transport may outlive this core (it is shared by the context): a completion arriving after the core
    // is gone is dropped instead of touching freed memory.
    std::weak_ptr<int> alive = alive_;
    context_->http->submit(std::move(*http), [this, alive, state](result<http_response> response) {
        if (alive.expired()) return;
        --in_transport_;
        verdict v = judge(*state, std::move(response));
        switch (v.what) {
            case verdict::kind::DONE: finish_async(state, std::move(*v.response)); break;
            case verdict::kind::FAIL: finish_async(state, std::move(*v.err)); break;
            case verdict::kind::RETRY:
                timers_.emplace(std::chrono::steady_clock::now() + v.delay, std::make_pair(state, false));
                break;
        }
    });
}

void service_core::finish_async(const std::shared_ptr<call_state>& state, result<call_response> outcome) {
    --pending_;
    call_callback done = std::move(state->done);
    state->done = nullptr;
    if (done) done(std::move(outcome));
}

size_t service_core::poll(std::chrono::milliseconds wait) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::max(wait, std::chrono::milliseconds(0));
    for (;;) {
        // Start every attempt whose timer is due.
        auto now = clock::now();
        while (!timers_.empty() && timers_.begin()->first <= now) {
            auto entry = std::move(timers_.begin()->second);
            timers_.erase(timers_.begin());
            send_async(entry.first, entry.second);
        }
        if (pending_ == 0) return 0;
        now = clock::now();
        if (now >= deadline) break;
        auto slice = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (!timers_.empty()) {
            auto to_timer = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.begin()->first - now) +
                            std::chrono::milliseconds(1);
            slice = std::min(slice, to_timer);
        }
        if (in_transport_ > 0) {
            const size_t before = pending_;
            context_->http->poll(slice);
            // Return as soon as something completed so the caller can react (refill the pipeline).
            if (pending_ != before) break;
        } else {
            // Only timers: the transport would return at once, so wait here.
            std::this_thread::sleep_for(slice);
        }
    }
    // Timers that fell due while the transport was polled start now rather than on the next call.
    auto now = clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
        auto entry = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
        send_async(entry.first, entry.second);
    }
    return pending_;
}

std::string query_encode(std::string_view text) {
    return uri_encode(text, false);
}

namespace {

// Skips whitespace from `pos`; returns the new position.
size_t skip_space(std::string_view json, size_t pos) {
    while (pos < json.size() && (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' || json[pos] == '\r')) {
        ++pos;
    }
    return pos;
}

// Skips a string starting at `pos` (a '"'); returns the position after its closing quote, npos when unterminated.
size_t skip_string(std::string_view json, size_t pos) {
    for (++pos; pos < json.size(); ++pos) {
        if (json[pos] == '\\') {
            ++pos;
        } else if (json[pos] == '"') {
            return pos + 1;
        }
    }
    return std::string_view::npos;
}

// Skips one value starting at `pos`; returns the position after it, npos when malformed.
size_t skip_value(std::string_view json, size_t pos) {
    if (pos >= json.size()) return std::string_view::npos;
    if (json[pos] == '"') return skip_string(json, pos);
    if (json[pos] == '{' || json[pos] == '[') {
        int depth = 0;
        while (pos < json.size()) {
            char c = json[pos];
            if (c == '"') {
                pos = skip_string(json, pos);
                if (pos == std::string_view::npos) return pos;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') {
                if (--depth == 0) return pos + 1;
            }
            ++pos;
        }
        return std::string_view::npos;
    }
    while (pos < json.size() && json[pos] != ',' && json[pos] != '}' && json[pos] != ']' && json[pos] != ' ' &&
           json[pos] != '\n' && json[pos] != '\r' && json[pos] != '\t') {
        ++pos;
    }
    return pos;
}

}  // namespace

std::string_view raw_json_member(std::string_view json, std::string_view name) {
    size_t pos = skip_space(json, 0);
    if (pos >= json.size() || json[pos] != '{') return {};
    ++pos;
    for (;;) {
        pos = skip_space(json, pos);
        if (pos >= json.size() || json[pos] != '"') return {};
        size_t key_end = skip_string(json, pos);
        if (key_end == std::string_view::npos) return {};
        // Member names of AWS responses carry no escapes, so the raw text between the quotes is the name.
        std::string_view key = json.substr(pos + 1, key_end - pos - 2);
        pos = skip_space(json, key_end);
        if (pos >= json.size() || json[pos] != ':') return {};
        pos = skip_space(json, pos + 1);
        size_t value_end = skip_value(json, pos);
        if (value_end == std::string_view::npos) return {};
        if (key == name) return json.substr(pos, value_end - pos);
        pos = skip_space(json, value_end);
        if (pos >= json.size() || json[pos] != ',') return {};
        ++pos;
    }
}

}  // namespace tarius::aws::detail
