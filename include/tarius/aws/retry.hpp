#pragma once
/// Retry behaviour of the AWS SDKs ("standard" and "adaptive" modes) as pure logic: the service clients report
/// each attempt's outcome and sleep for the delay they are told.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "tarius/aws/config.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

/// A monotonic clock in seconds, injectable for tests.
using seconds_clock = std::function<double()>;

/// The steady clock in seconds.
[[nodiscard]] seconds_clock steady_seconds_clock();

/// A source of uniform random numbers in [0, 1), injectable for tests.
using random_source = std::function<double()>;

/// A seeded random source (std::mt19937_64); thread-safe.
[[nodiscard]] random_source seeded_random_source(uint64_t seed);

/// How the SDKs retry.
enum class retry_mode : uint8_t {
    STANDARD,  ///< "standard" (also what "legacy" maps to here)
    ADAPTIVE,  ///< "standard" plus client-side rate limiting
};

/// Which generation of the standard rules to apply.
enum class retry_rules : uint8_t {
    /// The SDK reference guide's standard mode: base delay 1 s, retry cost 5 (10 for timeouts).
    STANDARD,
    /// botocore's "new retries" (AWS_NEW_RETRIES_2026=true): base 50 ms (DynamoDB 25 ms) for transient errors,
    /// 1 s for throttling, retry cost 14 (5 for throttling), x-amz-retry-after bounded to [t, t + 5 s].
    STANDARD_2026,
};

/// Resolved retry settings of one client.
struct retry_settings {
    retry_mode mode = retry_mode::STANDARD;     ///< AWS_RETRY_MODE / profile retry_mode
    retry_rules rules = retry_rules::STANDARD;  ///< AWS_NEW_RETRIES_2026=true selects STANDARD_2026
    int max_attempts = 3;                       ///< AWS_MAX_ATTEMPTS / profile max_attempts / per-service default
    std::string service;                        ///< "dynamodb", "s3", ...
};

/// The default number of attempts for `service` (3, DynamoDB 4).
[[nodiscard]] int default_max_attempts(std::string_view service);

/// Reads AWS_RETRY_MODE / `retry_mode` (legacy, standard, adaptive) and AWS_MAX_ATTEMPTS / `max_attempts`
/// (an integer > 0); errc::INVALID_ARGUMENT for other values.
[[nodiscard]] result<retry_settings> resolve_retry_settings(std::string_view service, const env_lookup& env,
                                                            const shared_config& config);

/// What happened on one attempt, as far as retrying is concerned.
struct attempt_outcome {
    long http_status = 0;                           ///< 0 when no response arrived
    std::string error_code;                         ///< the AWS error code, empty when none was parsed
    bool connection_error = false;                  ///< could not connect, reset, truncated body
    bool timeout = false;                           ///< connect or read timeout
    bool crc32_mismatch = false;                    ///< DynamoDB's x-amz-crc32 did not match the body
    std::optional<std::string> retry_after_header;  ///< the x-amz-retry-after value (milliseconds) if present
};

/// Classification of an outcome.
enum class retry_kind : uint8_t {
    NONE,        ///< not retryable
    TRANSIENT,   ///< 500/502/503/504, transient codes, connection errors, timeouts, checksum mismatch
    THROTTLING,  ///< one of the SDKs' throttling codes
};

/// True for the SDKs' throttling error codes (Throttling, ThrottlingException, SlowDown, ...).
[[nodiscard]] bool is_throttling_code(std::string_view code);
/// True for the SDKs' transient error codes (RequestTimeout, RequestTimeoutException, InternalError, ...).
[[nodiscard]] bool is_transient_code(std::string_view code);
/// Classifies one attempt's outcome.
[[nodiscard]] retry_kind classify(const attempt_outcome& outcome);

/// The retry quota shared by the clients of a process: 500 tokens.
class retry_quota {
public:
    /// Creates a quota holding `capacity` tokens.
    explicit retry_quota(int capacity = 500) : capacity_(capacity), available_(capacity) {}
    /// Takes `amount` tokens; false (and nothing taken) when fewer are available.
    bool acquire(int amount);
    /// Gives `amount` tokens back, never above the capacity.
    void release(int amount);
    /// Tokens currently available.
    [[nodiscard]] int available() const;

private:
    mutable std::mutex mutex_;
    int capacity_;
    int available_;
};

/// Client-side rate limiter of the "adaptive" mode: a token bucket whose fill rate follows CUBIC (beta 0.7,
/// scale constant 0.4) from the measured send rate (0.5 s buckets, smoothing 0.8). Thread-safe.
class client_rate_limiter {
public:
    /// Creates a limiter reading time from `clock`.
    explicit client_rate_limiter(seconds_clock clock);
    /// Takes one send token; returns how long the caller must wait before sending (zero when a token was free).
    /// The token is taken now either way, so calling again does not double-count.
    std::chrono::duration<double> acquire();
    /// Records a response: throttled or not. Adjusts the fill rate.
    void update(bool throttled);
    /// The current fill rate in requests per second (meaningful once enabled).
    [[nodiscard]] double fill_rate() const;
    /// The measured send rate.
    [[nodiscard]] double measured_rate() const;
    /// True once a throttling response has turned limiting on.
    [[nodiscard]] bool enabled() const;

private:
    void refill_locked(double now);
    void set_fill_rate_locked(double rate, double now);
    double record_locked(double now);
    double cubic_success_locked(double now) const;

    seconds_clock clock_;
    mutable std::mutex mutex_;
    bool enabled_ = false;
    // token bucket
    double fill_rate_ = 0.5;
    double max_capacity_ = 1.0;
    double capacity_ = 0.0;
    double last_refill_ = -1.0;
    // send-rate measurement
    double measured_rate_ = 0.0;
    double last_bucket_ = 0.0;
    double request_count_ = 0.0;
    // CUBIC
    double w_max_ = 0.0;
    double k_ = 0.0;
    double last_fail_ = 0.0;
};

/// Per-call state: which attempt this is and what the last retry cost.
struct retry_token {
    int attempt = 1;    ///< 1-based number of the attempt that is about to run / just ran
    int last_cost = 0;  ///< quota taken for the last retry, refunded on success
};

/// The decision after a failed attempt.
struct retry_decision {
    bool retry = false;                  ///< true: sleep `delay`, then send attempt `token.attempt`
    std::chrono::milliseconds delay{0};  ///< how long to wait
    retry_kind kind = retry_kind::NONE;  ///< why
    std::string reason;                  ///< why not, for logs: "not retryable", "max attempts (3)", ...
};

/// Options of a retry strategy beyond the resolved settings.
struct retry_strategy_options {
    retry_settings settings;                       ///< mode, rules, max attempts, service
    std::shared_ptr<retry_quota> quota;            ///< shared quota; a private one of 500 when null
    random_source random;                          ///< uniform [0,1); seeded_random_source(time) when empty
    seconds_clock clock;                           ///< for the adaptive limiter; steady clock when empty
    std::chrono::milliseconds max_backoff{20000};  ///< cap of one delay
};

/// The retry strategy of one client. Thread-safe; share it between the calls of that client.
class retry_strategy {
public:
    /// Creates the strategy.
    explicit retry_strategy(retry_strategy_options options);

    /// Before sending any attempt: in adaptive mode, how long to wait for the rate limiter (else zero).
    std::chrono::milliseconds before_attempt();
    /// After a failed attempt `token.attempt`: whether and when to retry. Advances `token.attempt` and takes
    /// quota when it says yes; in adaptive mode also feeds the limiter.
    retry_decision should_retry(const attempt_outcome& outcome, retry_token& token);
    /// After a successful attempt: refunds the quota of the last retry (or 1 token when there was none, as the
    /// SDKs do) and feeds the adaptive limiter.
    void on_success(const retry_token& token);

    /// The resolved settings.
    [[nodiscard]] const retry_settings& settings() const { return options_.settings; }
    /// The adaptive limiter, or nullptr in standard mode.
    [[nodiscard]] client_rate_limiter* limiter() { return limiter_.get(); }

    /// The backoff before retry number `attempt` (1 = the first retry) of an error of `kind`, with jitter.
    [[nodiscard]] std::chrono::milliseconds backoff(int attempt, retry_kind kind,
                                                    const std::optional<std::string>& retry_after);

private:
    retry_strategy_options options_;
    std::unique_ptr<client_rate_limiter> limiter_;
};

}  // namespace tarius::aws
