#include "tarius/aws/retry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <random>

namespace tarius::aws {

namespace {

// The union of the throttling codes the SDKs know (botocore retries/standard.py ThrottledRetryableChecker,
// the SDK reference guide's standard mode).
constexpr std::array<std::string_view, 14> THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// botocore's transient codes (RequestTimeout, RequestTimeoutException, PriorRequestNotComplete) plus the
// server-side failure codes the Java and Go SDKs also retry, and botocore's special IDPCommunicationError.
constexpr std::array<std::string_view, 10> TRANSIENT_CODES = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "IDPCommunicationError",
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Standard mode (SDK reference guide): 1 s base for every retryable error; a retry costs 5 tokens, 10 after a
// timeout. The 2026 rules (botocore retries/standard.py with AWS_NEW_RETRIES_2026): 1 s base for throttling,
// 50 ms for other errors (25 ms for DynamoDB), 5 tokens for a throttling retry and 14 for the others.
constexpr double THROTTLING_BASE_SECONDS = 1.0;
constexpr double TRANSIENT_BASE_2026_SECONDS = 0.05;
constexpr double DYNAMODB_TRANSIENT_BASE_2026_SECONDS = 0.025;
constexpr int RETRY_COST = 5;
constexpr int TIMEOUT_RETRY_COST = 10;
constexpr int RETRY_COST_2026 = 14;
constexpr int THROTTLING_RETRY_COST_2026 = 5;
constexpr int NO_RETRY_INCREMENT = 1;
// x-amz-retry-after may push a delay at most this far past the computed backoff (botocore).
constexpr double RETRY_AFTER_MAX_ADDITIONAL_SECONDS = 5.0;

// Adaptive mode constants (botocore retries/throttling.py, bucket.py, adaptive.py).
constexpr double CUBIC_BETA = 0.7;
constexpr double CUBIC_SCALE_CONSTANT = 0.4;
constexpr double MIN_FILL_RATE = 0.5;
constexpr double MEASURE_SMOOTHING = 0.8;
constexpr double TIME_BUCKET_SCALE = 2.0;  // 1 / 0.5 s buckets
constexpr double MAX_RATE_ADJUST_SCALE = 2.0;

}  // namespace

seconds_clock steady_seconds_clock() {
    return [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
}

random_source seeded_random_source(uint64_t seed) {
    struct state {
        std::mutex mutex;
        std::mt19937_64 engine;
    };
    auto shared = std::make_shared<state>();
    shared->engine.seed(seed);
    return [shared] {
        std::lock_guard lock(shared->mutex);
        return std::uniform_real_distribution<double>(0.0, 1.0)(shared->engine);
    };
}

int default_max_attempts(std::string_view service) {
    // botocore 1.43 retries/standard.py `_SERVICE_MAX_ATTEMPTS` (the "new retries" of 2026) gives DynamoDB and
    // DynamoDB Streams 4 attempts; every other service keeps the reference guide's standard-mode default of 3
    // (docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
    if (service == "dynamodb" || service == "dynamodb-streams") return 4;
    return 3;
}

result<retry_settings> resolve_retry_settings(std::string_view service, const env_lookup& env,
                                              const shared_config& config) {
    retry_settings settings;
    settings.service = std::string(service);
    settings.max_attempts = default_max_attempts(service);

    std::optional<std::string> mode = env_value(env, "AWS_RETRY_MODE");
    std::string mode_origin = "AWS_RETRY_MODE";
    if (!mode) {
        mode = config.get("retry_mode");
        mode_origin = "retry_mode of profile " + config.profile_name;
    }
    if (mode) {
        std::string value = lower(*mode);
        if (value == "standard" || value == "legacy") {
            // "legacy" differs per SDK; this project has one behaviour, the documented standard one.
            settings.mode = retry_mode::STANDARD;
        } else if (value == "adaptive") {
            settings.mode = retry_mode::ADAPTIVE;
        } else {
            return make_error(errc::INVALID_ARGUMENT, mode_origin + ": invalid retry mode '" + *mode +
                                                          "' (expected legacy, standard or adaptive)");
        }
    }

    std::optional<std::string> attempts = env_value(env, "AWS_MAX_ATTEMPTS");
    std::string attempts_origin = "AWS_MAX_ATTEMPTS";
    if (!attempts) {
        attempts = config.get("max_attempts");
        attempts_origin = "max_attempts of profile " + config.profile_name;
    }
    if (attempts) {
        int value = 0;
        const char* begin = attempts->data();
        const char* end = begin + attempts->size();
        auto [stop, ec] = std::from_chars(begin, end, value);
        if (ec != std::errc() || stop != end || value <= 0) {
            return make_error(errc::INVALID_ARGUMENT,
                              attempts_origin + ": invalid max attempts '" + *attempts + "' (expected an integer > 0)");
        }
        settings.max_attempts = value;
    }

    if (auto rules = env_value(env, "AWS_NEW_RETRIES_2026"); rules && lower(*rules) == "true") {
        settings.rules = retry_rules::STANDARD_2026;
    }
    return settings;
}

bool is_throttling_code(std::string_view code) {
    return std::find(THROTTLING_CODES.begin(), THROTTLING_CODES.end(), code) != THROTTLING_CODES.end();
}

bool is_transient_code(std::string_view code) {
    return std::find(TRANSIENT_CODES.begin(), TRANSIENT_CODES.end(), code) != TRANSIENT_CODES.end();
}

retry_kind classify(const attempt_outcome& outcome) {
    if (!outcome.error_code.empty() && is_throttling_code(outcome.error_code)) return retry_kind::THROTTLING;
    // 429 without a recognised code is still "slow down" (the Java SDK treats it as throttling).
    if (outcome.http_status == 429) return retry_kind::THROTTLING;
    if (!outcome.error_code.empty() && is_transient_code(outcome.error_code)) return retry_kind::TRANSIENT;
    switch (outcome.http_status) {
        case 500:
        case 502:
        case 503:
        case 504: return retry_kind::TRANSIENT;
        default: break;
    }
    if (outcome.connection_error || outcome.timeout || outcome.crc32_mismatch) return retry_kind::TRANSIENT;
    return retry_kind::NONE;
}

bool retry_quota::acquire(int amount) {
    std::lock_guard lock(mutex_);
    if (amount > available_) return false;
    available_ -= amount;
    return true;
}

void retry_quota::release(int amount) {
    std::lock_guard lock(mutex_);
    available_ = std::min(capacity_, available_ + amount);
}

int retry_quota::available() const {
    std::lock_guard lock(mutex_);
    return available_;
}

client_rate_limiter::client_rate_limiter(seconds_clock clock) : clock_(std::move(clock)) {
    double now = clock_();
    last_bucket_ = std::floor(now);
    last_fail_ = now;
    // botocore starts the bucket at 1 request/s; it only matters once a throttle enables limiting.
    set_fill_rate_locked(1.0, now);
}

void client_rate_limiter::refill_locked(double now) {
    if (last_refill_ < 0) {
        last_refill_ = now;
        return;
    }
    double elapsed = std::max(0.0, now - last_refill_);
    capacity_ = std::min(max_capacity_, capacity_ + elapsed * fill_rate_);
    last_refill_ = now;
}

void client_rate_limiter::set_fill_rate_locked(double rate, double now) {
    // Tokens accrued so far belong to the old rate.
    refill_locked(now);
    fill_rate_ = std::max(rate, MIN_FILL_RATE);
    max_capacity_ = rate >= 1.0 ? rate : 1.0;
    capacity_ = std::min(capacity_, max_capacity_);
}

double client_rate_limiter::record_locked(double now) {
    double bucket = std::floor(now * TIME_BUCKET_SCALE) / TIME_BUCKET_SCALE;
    request_count_ += 1.0;
    if (bucket > last_bucket_) {
        double current_rate = request_count_ / (bucket - last_bucket_);
        measured_rate_ = current_rate * MEASURE_SMOOTHING + measured_rate_ * (1.0 - MEASURE_SMOOTHING);
        request_count_ = 0.0;
        last_bucket_ = bucket;
    }
    return measured_rate_;
}

double client_rate_limiter::cubic_success_locked(double now) const {
    double dt = now - last_fail_;
    return CUBIC_SCALE_CONSTANT * std::pow(dt - k_, 3.0) + w_max_;
}

std::chrono::duration<double> client_rate_limiter::acquire() {
    std::lock_guard lock(mutex_);
    if (!enabled_) return std::chrono::duration<double>(0.0);
    double now = clock_();
    refill_locked(now);
    // The token is taken now (capacity may go negative): concurrent callers queue behind each other instead of
    // all waking up for the same token.
    capacity_ -= 1.0;
    if (capacity_ >= 0.0) return std::chrono::duration<double>(0.0);
    return std::chrono::duration<double>(-capacity_ / fill_rate_);
}

void client_rate_limiter::update(bool throttled) {
    std::lock_guard lock(mutex_);
    double now = clock_();
    double measured = record_locked(now);
    double new_rate = 0.0;
    if (!throttled) {
        new_rate = cubic_success_locked(now);
    } else {
        double rate_to_use = enabled_ ? std::min(measured, fill_rate_) : measured;
        w_max_ = rate_to_use;
        k_ = std::cbrt(w_max_ * (1.0 - CUBIC_BETA) / CUBIC_SCALE_CONSTANT);
        last_fail_ = now;
        new_rate = rate_to_use * CUBIC_BETA;
        enabled_ = true;
    }
    set_fill_rate_locked(std::min(new_rate, MAX_RATE_ADJUST_SCALE * measured), now);
}

double client_rate_limiter::fill_rate() const {
    std::lock_guard lock(mutex_);
    return fill_rate_;
}

double client_rate_limiter::measured_rate() const {
    std::lock_guard lock(mutex_);
    return measured_rate_;
}

bool client_rate_limiter::enabled() const {
    std::lock_guard lock(mutex_);
    return enabled_;
}

retry_strategy::retry_strategy(retry_strategy_options options) : options_(std::move(options)) {
    if (!options_.quota) options_.quota = std::make_shared<retry_quota>();
    if (!options_.random) {
        options_.random =
            seeded_random_source(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    }
    if (!options_.clock) options_.clock = steady_seconds_clock();
    if (options_.settings.max_attempts <= 0) options_.settings.max_attempts = 1;
    if (options_.settings.mode == retry_mode::ADAPTIVE) {
        limiter_ = std::make_unique<client_rate_limiter>(options_.clock);
    }
}

std::chrono::milliseconds retry_strategy::before_attempt() {
    if (!limiter_) return std::chrono::milliseconds(0);
    auto wait = limiter_->acquire();
    return std::chrono::ceil<std::chrono::milliseconds>(wait);
}

std::chrono::milliseconds retry_strategy::backoff(int attempt, retry_kind kind,
                                                  const std::optional<std::string>& retry_after) {
    double base = THROTTLING_BASE_SECONDS;
    if (options_.settings.rules == retry_rules::STANDARD_2026 && kind != retry_kind::THROTTLING) {
        base = options_.settings.service == "dynamodb" || options_.settings.service == "dynamodb-streams"
                   ? DYNAMODB_TRANSIENT_BASE_2026_SECONDS
                   : TRANSIENT_BASE_2026_SECONDS;
    }
    double cap = std::chrono::duration<double>(options_.max_backoff).count();
    // Full jitter: rand * min(base * 2^(attempt-1), cap); the exponent is bounded so the power cannot overflow.
    int exponent = std::clamp(attempt - 1, 0, 62);
    double ceiling = std::min(base * std::ldexp(1.0, exponent), cap);
    double delay = options_.random() * ceiling;
    if (retry_after) {
        int64_t millis = -1;
        const char* begin = retry_after->data();
        const char* end = begin + retry_after->size();
        auto [stop, ec] = std::from_chars(begin, end, millis);
        if (ec == std::errc() && stop == end && millis >= 0) {
            // Honour the service's hint, but never wait less than the backoff nor more than 5 s past it.
            double hinted = static_cast<double>(millis) / 1000.0;
            delay = std::max(delay, std::min(hinted, delay + RETRY_AFTER_MAX_ADDITIONAL_SECONDS));
        }
    }
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay * 1000.0)));
}

retry_decision retry_strategy::should_retry(const attempt_outcome& outcome, retry_token& token) {
    retry_decision decision;
    decision.kind = classify(outcome);
    if (limiter_) limiter_->update(decision.kind == retry_kind::THROTTLING);
    if (decision.kind == retry_kind::NONE) {
        decision.reason = "not retryable";
        return decision;
    }
    if (token.attempt >= options_.settings.max_attempts) {
        decision.reason = "max attempts (" + std::to_string(options_.settings.max_attempts) + ") reached";
        return decision;
    }
    int cost = RETRY_COST;
    if (options_.settings.rules == retry_rules::STANDARD_2026) {
        cost = decision.kind == retry_kind::THROTTLING ? THROTTLING_RETRY_COST_2026 : RETRY_COST_2026;
    } else if (outcome.timeout) {
        cost = TIMEOUT_RETRY_COST;
    }
    if (!options_.quota->acquire(cost)) {
        decision.reason = "retry quota exhausted";
        return decision;
    }
    decision.delay = backoff(token.attempt, decision.kind, outcome.retry_after_header);
    decision.retry = true;
    token.last_cost = cost;
    token.attempt += 1;
    return decision;
}

void retry_strategy::on_success(const retry_token& token) {
    options_.quota->release(token.last_cost > 0 ? token.last_cost : NO_RETRY_INCREMENT);
    if (limiter_) limiter_->update(false);
}

}  // namespace tarius::aws
