// Standard and adaptive retry behaviour: classification, settings, backoff, quota, retry-after, rate limiting.

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tarius/aws/retry.hpp"

namespace tarius::aws {
namespace {

attempt_outcome status_outcome(long status, std::string code = {}) {
    attempt_outcome outcome;
    outcome.http_status = status;
    outcome.error_code = std::move(code);
    return outcome;
}

// A random source that replays fixed values.
random_source fixed_random(double value) {
    return [value] { return value; };
}

// A manual clock in seconds.
struct fake_clock {
    std::shared_ptr<double> now = std::make_shared<double>(1000.0);
    [[nodiscard]] seconds_clock fn() const {
        auto shared = now;
        return [shared] { return *shared; };
    }
    void advance(double seconds) const { *now += seconds; }
};

TEST(aws_retry, classification_table) {
    struct case_t {
        const char* label;
        attempt_outcome outcome;
        retry_kind kind;
    };
    auto connection = attempt_outcome{};
    connection.connection_error = true;
    auto timeout = attempt_outcome{};
    timeout.timeout = true;
    auto checksum = status_outcome(200);
    checksum.crc32_mismatch = true;
    const std::vector<case_t> cases = {
        {"Throttling", status_outcome(400, "Throttling"), retry_kind::THROTTLING},
        {"ThrottlingException", status_outcome(400, "ThrottlingException"), retry_kind::THROTTLING},
        {"ThrottledException", status_outcome(400, "ThrottledException"), retry_kind::THROTTLING},
        {"RequestThrottledException", status_outcome(400, "RequestThrottledException"), retry_kind::THROTTLING},
        {"TooManyRequestsException", status_outcome(400, "TooManyRequestsException"), retry_kind::THROTTLING},
        {"ProvisionedThroughputExceededException", status_outcome(400, "ProvisionedThroughputExceededException"),
         retry_kind::THROTTLING},
        {"TransactionInProgressException", status_outcome(400, "TransactionInProgressException"),
         retry_kind::THROTTLING},
        {"RequestLimitExceeded", status_outcome(400, "RequestLimitExceeded"), retry_kind::THROTTLING},
        {"BandwidthLimitExceeded", status_outcome(400, "BandwidthLimitExceeded"), retry_kind::THROTTLING},
        {"LimitExceededException", status_outcome(400, "LimitExceededException"), retry_kind::THROTTLING},
        {"RequestThrottled", status_outcome(400, "RequestThrottled"), retry_kind::THROTTLING},
        {"SlowDown 503", status_outcome(503, "SlowDown"), retry_kind::THROTTLING},
        {"PriorRequestNotComplete", status_outcome(400, "PriorRequestNotComplete"), retry_kind::THROTTLING},
        {"EC2ThrottledException", status_outcome(400, "EC2ThrottledException"), retry_kind::THROTTLING},
        {"429 without code", status_outcome(429), retry_kind::THROTTLING},
        {"RequestTimeout", status_outcome(400, "RequestTimeout"), retry_kind::TRANSIENT},
        {"RequestTimeoutException", status_outcome(408, "RequestTimeoutException"), retry_kind::TRANSIENT},
        {"InternalError", status_outcome(500, "InternalError"), retry_kind::TRANSIENT},
        {"InternalFailure 400", status_outcome(400, "InternalFailure"), retry_kind::TRANSIENT},
        {"IDPCommunicationError", status_outcome(400, "IDPCommunicationError"), retry_kind::TRANSIENT},
        {"500", status_outcome(500), retry_kind::TRANSIENT},
        {"502", status_outcome(502), retry_kind::TRANSIENT},
        {"503", status_outcome(503), retry_kind::TRANSIENT},
        {"504", status_outcome(504), retry_kind::TRANSIENT},
        {"501 is not retried", status_outcome(501), retry_kind::NONE},
        {"connection error", connection, retry_kind::TRANSIENT},
        {"timeout", timeout, retry_kind::TRANSIENT},
        {"crc32 mismatch", checksum, retry_kind::TRANSIENT},
        {"ValidationException", status_outcome(400, "ValidationException"), retry_kind::NONE},
        {"ConditionalCheckFailedException", status_outcome(400, "ConditionalCheckFailedException"), retry_kind::NONE},
        {"AccessDenied 403", status_outcome(403, "AccessDenied"), retry_kind::NONE},
        {"404", status_outcome(404), retry_kind::NONE},
        {"code is case-sensitive", status_outcome(400, "throttling"), retry_kind::NONE},
        {"success", status_outcome(200), retry_kind::NONE},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        EXPECT_EQ(classify(c.outcome), c.kind);
    }
}

TEST(aws_retry, settings_table) {
    using env_map = std::map<std::string, std::string, std::less<>>;
    shared_config profile;
    profile.profiles["default"].values = {{"retry_mode", "adaptive"}, {"max_attempts", "7"}};
    shared_config empty;
    struct case_t {
        const char* label;
        std::string service;
        env_map env;
        const shared_config* config;
        bool ok;
        retry_mode mode;
        int max_attempts;
        retry_rules rules;
        std::string error;
    };
    const std::vector<case_t> cases = {
        {"defaults", "s3", {}, &empty, true, retry_mode::STANDARD, 3, retry_rules::STANDARD, ""},
        {"dynamodb default", "dynamodb", {}, &empty, true, retry_mode::STANDARD, 4, retry_rules::STANDARD, ""},
        {"legacy is standard",
         "sqs",
         {{"AWS_RETRY_MODE", "legacy"}},
         &empty,
         true,
         retry_mode::STANDARD,
         3,
         retry_rules::STANDARD,
         ""},
        {"adaptive env",
         "sqs",
         {{"AWS_RETRY_MODE", "Adaptive"}},
         &empty,
         true,
         retry_mode::ADAPTIVE,
         3,
         retry_rules::STANDARD,
         ""},
        {"profile", "sns", {}, &profile, true, retry_mode::ADAPTIVE, 7, retry_rules::STANDARD, ""},
        {"env beats profile",
         "dynamodb",
         {{"AWS_RETRY_MODE", "standard"}, {"AWS_MAX_ATTEMPTS", "2"}},
         &profile,
         true,
         retry_mode::STANDARD,
         2,
         retry_rules::STANDARD,
         ""},
        {"explicit 1 disables retries",
         "dynamodb",
         {{"AWS_MAX_ATTEMPTS", "1"}},
         &empty,
         true,
         retry_mode::STANDARD,
         1,
         retry_rules::STANDARD,
         ""},
        {"2026 rules",
         "dynamodb",
         {{"AWS_NEW_RETRIES_2026", "true"}},
         &empty,
         true,
         retry_mode::STANDARD,
         4,
         retry_rules::STANDARD_2026,
         ""},
        {"bad mode",
         "s3",
         {{"AWS_RETRY_MODE", "fast"}},
         &empty,
         false,
         retry_mode::STANDARD,
         0,
         retry_rules::STANDARD,
         "AWS_RETRY_MODE: invalid retry mode 'fast' (expected legacy, standard or adaptive)"},
        {"zero attempts",
         "s3",
         {{"AWS_MAX_ATTEMPTS", "0"}},
         &empty,
         false,
         retry_mode::STANDARD,
         0,
         retry_rules::STANDARD,
         "AWS_MAX_ATTEMPTS: invalid max attempts '0' (expected an integer > 0)"},
        {"not a number",
         "s3",
         {{"AWS_MAX_ATTEMPTS", "3x"}},
         &empty,
         false,
         retry_mode::STANDARD,
         0,
         retry_rules::STANDARD,
         "AWS_MAX_ATTEMPTS: invalid max attempts '3x' (expected an integer > 0)"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto settings = resolve_retry_settings(c.service, map_environment(c.env), *c.config);
        ASSERT_EQ(settings.has_value(), c.ok);
        if (!settings) {
            EXPECT_EQ(settings.err().code, errc::INVALID_ARGUMENT);
            EXPECT_EQ(settings.err().message, c.error);
            continue;
        }
        EXPECT_EQ(settings->mode, c.mode);
        EXPECT_EQ(settings->max_attempts, c.max_attempts);
        EXPECT_EQ(settings->rules, c.rules);
        EXPECT_EQ(settings->service, c.service);
    }
}

retry_strategy make_strategy(retry_settings settings, random_source random,
                             std::shared_ptr<retry_quota> quota = nullptr, seconds_clock clock = nullptr) {
    retry_strategy_options options;
    options.settings = std::move(settings);
    options.random = std::move(random);
    options.quota = std::move(quota);
    options.clock = std::move(clock);
    return retry_strategy(std::move(options));
}

TEST(aws_retry, backoff_bounds_and_cap) {
    retry_settings settings;
    settings.max_attempts = 100;
    // With the random source pinned at its maximum, the delay is the ceiling: 1, 2, 4, 8, 16, then 20 s.
    auto top = make_strategy(settings, fixed_random(1.0));
    const std::vector<std::pair<int, int64_t>> ceilings = {
        {1, 1000}, {2, 2000}, {3, 4000}, {4, 8000}, {5, 16000}, {6, 20000}, {7, 20000}, {60, 20000}, {1000, 20000}};
    for (const auto& [attempt, millis] : ceilings) {
        SCOPED_TRACE(attempt);
        EXPECT_EQ(top.backoff(attempt, retry_kind::TRANSIENT, std::nullopt).count(), millis);
    }
    auto bottom = make_strategy(settings, fixed_random(0.0));
    EXPECT_EQ(bottom.backoff(5, retry_kind::THROTTLING, std::nullopt).count(), 0);

    // A seeded source: every delay inside [0, min(2^(n-1), 20) s], and the delays actually vary.
    auto seeded = make_strategy(settings, seeded_random_source(42));
    std::set<int64_t> distinct;
    for (int attempt = 1; attempt <= 10; ++attempt) {
        for (int draw = 0; draw < 50; ++draw) {
            int64_t delay = seeded.backoff(attempt, retry_kind::THROTTLING, std::nullopt).count();
            int64_t ceiling = std::min<int64_t>(int64_t{1000} << (attempt - 1), 20000);
            EXPECT_GE(delay, 0);
            EXPECT_LE(delay, ceiling);
            distinct.insert(delay);
        }
    }
    EXPECT_GT(distinct.size(), 100U);
    // The same seed gives the same sequence.
    auto first = make_strategy(settings, seeded_random_source(7));
    auto second = make_strategy(settings, seeded_random_source(7));
    for (int attempt = 1; attempt <= 5; ++attempt) {
        EXPECT_EQ(first.backoff(attempt, retry_kind::TRANSIENT, std::nullopt),
                  second.backoff(attempt, retry_kind::TRANSIENT, std::nullopt));
    }
}

TEST(aws_retry, backoff_2026_rules_base) {
    retry_settings settings;
    settings.rules = retry_rules::STANDARD_2026;
    settings.max_attempts = 10;
    settings.service = "sqs";
    auto sqs = make_strategy(settings, fixed_random(1.0));
    settings.service = "dynamodb";
    auto ddb = make_strategy(settings, fixed_random(1.0));
    const std::vector<std::tuple<retry_strategy*, int, retry_kind, int64_t>> cases = {
        {&sqs, 1, retry_kind::TRANSIENT, 50},    {&sqs, 3, retry_kind::TRANSIENT, 200},
        {&sqs, 1, retry_kind::THROTTLING, 1000}, {&ddb, 1, retry_kind::TRANSIENT, 25},
        {&ddb, 4, retry_kind::TRANSIENT, 200},   {&ddb, 2, retry_kind::THROTTLING, 2000},
    };
    for (const auto& [strategy, attempt, kind, millis] : cases) {
        EXPECT_EQ(strategy->backoff(attempt, kind, std::nullopt).count(), millis);
    }
}

TEST(aws_retry, retry_after_is_bounded) {
    retry_settings settings;
    settings.max_attempts = 10;
    auto strategy = make_strategy(settings, fixed_random(0.5));  // backoff of retry 1: 500 ms
    const std::vector<std::pair<std::optional<std::string>, int64_t>> cases = {
        {std::nullopt, 500}, {"1500", 1500},  // honoured
        {"100", 500},                         // never below the backoff
        {"60000", 5500},                      // at most 5 s past the backoff
        {"-5", 500},                          // invalid: ignored
        {"soon", 500},                        // invalid: ignored
        {"", 500},
    };
    for (const auto& [header, millis] : cases) {
        SCOPED_TRACE(header.value_or("<none>"));
        EXPECT_EQ(strategy.backoff(1, retry_kind::THROTTLING, header).count(), millis);
    }
    // Through should_retry as well.
    retry_token token;
    auto outcome = status_outcome(400, "ThrottlingException");
    outcome.retry_after_header = "3000";
    auto decision = strategy.should_retry(outcome, token);
    EXPECT_TRUE(decision.retry);
    EXPECT_EQ(decision.delay.count(), 3000);
}

TEST(aws_retry, attempts_and_quota) {
    retry_settings settings;
    settings.max_attempts = 3;
    auto quota = std::make_shared<retry_quota>();
    auto strategy = make_strategy(settings, fixed_random(0.0), quota);

    // Attempt 1 fails (5 tokens), attempt 2 fails (5 tokens), attempt 3 fails: max attempts.
    retry_token token;
    auto first = strategy.should_retry(status_outcome(500), token);
    EXPECT_TRUE(first.retry);
    EXPECT_EQ(token.attempt, 2);
    EXPECT_EQ(quota->available(), 495);
    auto timeout = attempt_outcome{};
    timeout.timeout = true;
    auto second = strategy.should_retry(timeout, token);
    EXPECT_TRUE(second.retry);
    EXPECT_EQ(quota->available(), 485);  // timeouts cost 10
    auto third = strategy.should_retry(status_outcome(503), token);
    EXPECT_FALSE(third.retry);
    EXPECT_EQ(third.reason, "max attempts (3) reached");
    EXPECT_EQ(quota->available(), 485);

    // A success after retries refunds the last retry's cost; a first-try success adds 1 up to the capacity.
    retry_token retried;
    EXPECT_TRUE(strategy.should_retry(timeout, retried).retry);
    EXPECT_EQ(quota->available(), 475);
    strategy.on_success(retried);
    EXPECT_EQ(quota->available(), 485);
    strategy.on_success(retry_token{});
    EXPECT_EQ(quota->available(), 486);

    // Non-retryable errors take nothing.
    retry_token other;
    auto refused = strategy.should_retry(status_outcome(400, "ValidationException"), other);
    EXPECT_FALSE(refused.retry);
    EXPECT_EQ(refused.reason, "not retryable");
    EXPECT_EQ(other.attempt, 1);
}

TEST(aws_retry, quota_exhaustion) {
    retry_settings settings;
    settings.max_attempts = 1000;
    auto quota = std::make_shared<retry_quota>(500);
    auto strategy = make_strategy(settings, fixed_random(0.0), quota);
    retry_token token;
    int retries = 0;
    while (strategy.should_retry(status_outcome(500), token).retry) ++retries;
    EXPECT_EQ(retries, 100);  // 500 tokens / 5
    EXPECT_EQ(quota->available(), 0);
    auto decision = strategy.should_retry(status_outcome(500), token);
    EXPECT_FALSE(decision.retry);
    EXPECT_EQ(decision.reason, "retry quota exhausted");
    // Successes refill it.
    for (int i = 0; i < 5; ++i) strategy.on_success(retry_token{});
    EXPECT_EQ(quota->available(), 5);
    retry_token next;
    EXPECT_TRUE(strategy.should_retry(status_outcome(500), next).retry);

    // 2026 rules: 14 per transient retry, 5 per throttling retry.
    settings.rules = retry_rules::STANDARD_2026;
    auto quota_2026 = std::make_shared<retry_quota>(500);
    auto strategy_2026 = make_strategy(settings, fixed_random(0.0), quota_2026);
    retry_token t1;
    EXPECT_TRUE(strategy_2026.should_retry(status_outcome(500), t1).retry);
    EXPECT_EQ(quota_2026->available(), 486);
    EXPECT_TRUE(strategy_2026.should_retry(status_outcome(400, "ThrottlingException"), t1).retry);
    EXPECT_EQ(quota_2026->available(), 481);
    strategy_2026.on_success(t1);
    EXPECT_EQ(quota_2026->available(), 486);
}

TEST(aws_retry, quota_never_exceeds_capacity) {
    retry_quota quota(10);
    EXPECT_TRUE(quota.acquire(10));
    EXPECT_FALSE(quota.acquire(1));
    quota.release(4);
    EXPECT_EQ(quota.available(), 4);
    quota.release(100);
    EXPECT_EQ(quota.available(), 10);
}

TEST(aws_retry, adaptive_rate_falls_on_throttle_and_recovers) {
    fake_clock clock;
    client_rate_limiter limiter(clock.fn());
    EXPECT_FALSE(limiter.enabled());
    EXPECT_EQ(limiter.acquire().count(), 0.0);  // not enabled: never waits

    // 20 requests/s for 5 s, all successful: the measured rate settles near 20.
    for (int i = 0; i < 100; ++i) {
        clock.advance(0.05);
        limiter.update(false);
    }
    EXPECT_NEAR(limiter.measured_rate(), 20.0, 1.0);
    EXPECT_FALSE(limiter.enabled());

    // A throttle: limiting turns on at beta (0.7) times the measured rate.
    clock.advance(0.05);
    limiter.update(true);
    EXPECT_TRUE(limiter.enabled());
    double throttled_rate = limiter.fill_rate();
    EXPECT_NEAR(throttled_rate, 0.7 * limiter.measured_rate(), 0.5);
    EXPECT_LT(throttled_rate, 16.0);

    // A burst far above the allowed rate must wait: the waits grow by about 1/rate per request.
    double last_wait = 0.0;
    for (int i = 0; i < 30; ++i) last_wait = limiter.acquire().count();
    EXPECT_GT(last_wait, 1.0);
    EXPECT_NEAR(last_wait, (30.0 - 1.0) / throttled_rate, 1.0);

    // A second throttle lowers it further.
    clock.advance(0.05);
    limiter.update(true);
    double lower_rate = limiter.fill_rate();
    EXPECT_LT(lower_rate, throttled_rate);

    // Successes over the following seconds: CUBIC brings the rate back up past the level of the last throttle.
    std::vector<double> rates;
    for (int second = 0; second < 12; ++second) {
        for (int i = 0; i < 20; ++i) {
            clock.advance(0.05);
            limiter.update(false);
        }
        rates.push_back(limiter.fill_rate());
    }
    EXPECT_GT(rates.back(), lower_rate);
    EXPECT_GT(rates.back(), throttled_rate * 0.99);
    for (size_t i = 1; i < rates.size(); ++i) EXPECT_GE(rates[i] + 1e-9, rates[i - 1] * 0.999) << i;
}

TEST(aws_retry, adaptive_cubic_values) {
    // Worked CUBIC example: after a throttle at measured rate r the rate is 0.7 r; on success at t seconds later
    // it is 0.4 (t - K)^3 + r with K = cbrt(r * 0.3 / 0.4) (bounded by 2x the measured rate).
    fake_clock clock;
    client_rate_limiter limiter(clock.fn());
    for (int i = 0; i < 200; ++i) {
        clock.advance(0.1);  // 10 requests/s
        limiter.update(false);
    }
    double measured = limiter.measured_rate();
    EXPECT_NEAR(measured, 10.0, 0.01);
    clock.advance(0.1);
    limiter.update(true);
    double r = limiter.measured_rate();
    EXPECT_NEAR(limiter.fill_rate(), 0.7 * r, 1e-9);
    double k = std::cbrt(r * 0.3 / 0.4);
    clock.advance(1.0);
    limiter.update(false);
    double expected = 0.4 * std::pow(1.0 - k, 3.0) + r;
    EXPECT_NEAR(limiter.fill_rate(), std::max(0.5, std::min(expected, 2.0 * limiter.measured_rate())), 1e-9);
}

TEST(aws_retry, adaptive_matches_botocore_sequence) {
    // Reference values from botocore 1.43's ClientRateLimiter (RateClocker, CubicCalculator, TokenBucket) driven
    // by the same fake clock; tests/python/test_aws_conventions.py re-derives them from botocore.
    fake_clock clock;
    client_rate_limiter limiter(clock.fn());
    for (int i = 0; i < 100; ++i) {
        clock.advance(0.05);
        limiter.update(false);
    }
    EXPECT_NEAR(limiter.measured_rate(), 19.999993856, 1e-6);
    EXPECT_NEAR(limiter.fill_rate(), 39.999987712, 1e-6);
    EXPECT_FALSE(limiter.enabled());
    clock.advance(0.05);
    limiter.update(true);
    EXPECT_NEAR(limiter.measured_rate(), 19.999998771199998, 1e-6);
    EXPECT_NEAR(limiter.fill_rate(), 13.999999139839998, 1e-6);
    clock.advance(0.05);
    limiter.update(true);
    EXPECT_NEAR(limiter.fill_rate(), 9.799999397887998, 1e-6);
    const std::vector<double> per_second = {13.326344101076408,
                                            13.997265944033426,
                                            14.212764926752506,
                                            16.372841049227098,
                                            22.87749431145065,
                                            36.12672471341662,
                                            40.0,
                                            40.0,
                                            40.0,
                                            40.0,
                                            40.0,
                                            40.0};
    for (size_t second = 0; second < per_second.size(); ++second) {
        for (int i = 0; i < 20; ++i) {
            clock.advance(0.05);
            limiter.update(false);
        }
        EXPECT_NEAR(limiter.fill_rate(), per_second[second], 1e-6) << "second " << second;
    }
}

TEST(aws_retry, adaptive_strategy_waits_before_attempts) {
    fake_clock clock;
    retry_settings settings;
    settings.mode = retry_mode::ADAPTIVE;
    settings.max_attempts = 5;
    auto strategy = make_strategy(settings, fixed_random(0.0), nullptr, clock.fn());
    ASSERT_NE(strategy.limiter(), nullptr);
    EXPECT_EQ(strategy.before_attempt().count(), 0);
    for (int i = 0; i < 40; ++i) {
        clock.advance(0.05);
        retry_token token;
        strategy.on_success(token);
    }
    retry_token token;
    auto decision = strategy.should_retry(status_outcome(400, "ThrottlingException"), token);
    EXPECT_TRUE(decision.retry);
    EXPECT_TRUE(strategy.limiter()->enabled());
    int64_t waited = 0;
    for (int i = 0; i < 40; ++i) waited = strategy.before_attempt().count();
    EXPECT_GT(waited, 0);

    retry_settings standard;
    EXPECT_EQ(make_strategy(standard, fixed_random(0.0)).limiter(), nullptr);
}

}  // namespace
}  // namespace tarius::aws
