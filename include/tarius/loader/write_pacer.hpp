#pragma once
/// When the DynamoDB writer may send its next request: an exact write budget (`--max-wcu`) and a sending rate that
/// follows what the table accepts.
///
/// Both are one pacing rule (a generic cell rate algorithm: a request costing c write units moves the earliest
/// time of the next send c / rate seconds on), so within any window of T seconds the units sent stay within
/// rate × T plus one request. The rate is the budget, or the table's measured capacity when that is lower: until
/// the table first throttles, nothing limits the rate; from then on the units it accepted per second while
/// most requests were throttled are its capacity (when only a few were, the rate is trimmed instead: a burst or a
/// hot partition says little about the whole table); the rate settles just under it and probes above it along a
/// cubic curve (slowly near the last capacity, quickly away from it), so a table that grew is found again within
/// a second or two.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

namespace tarius::loader {

/// Settings of a pacer.
struct pacer_options {
    double budget_wcu = 0;  ///< write units per second never exceeded; 0 = no budget
    bool follow_capacity = true;  ///< slow down to what the table accepts when it throttles
    /// Below the measured capacity after a throttle, as a share of it (CUBIC's beta).
    double backoff_share = 0.95;
    /// Growth of the cubic probe, in capacities per second cubed (CUBIC's C, relative to the capacity).
    double cubic_scale = 1.5;
};

/// Counters of a pacer.
struct pacer_stats {
    double units_sent = 0;        ///< write units of the requests sent (estimates, corrected by responses)
    double units_accepted = 0;    ///< write units the table reported consumed
    uint64_t throttle_events = 0;  ///< responses that signalled throttling (errors or unprocessed items)
    double capacity_estimate = 0;  ///< the last measured capacity in units/s; 0 until the table throttled
};

/// Paces one writer. Not thread-safe (the writer's thread).
class write_pacer {
public:
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    explicit write_pacer(pacer_options options, clock_fn now = {});

    /// How long until a request costing `units` may be sent; zero when it may go now.
    [[nodiscard]] std::chrono::microseconds wait_for(double units) const;
    /// Records that a request costing `units` was sent now.
    void on_sent(double units);
    /// Records a response: `charged` units were counted when it was sent, `consumed` is what the table
    /// reported (or the estimate of what it accepted), `throttled` when it signalled throttling (an error or
    /// unprocessed items).
    void on_response(double charged, double consumed, bool throttled);

    /// The sending rate now in units/s; 0 = unlimited.
    [[nodiscard]] double rate() const;
    /// True when the budget, not the table, sets the rate now (waiting for it is the user's choice, not a stall).
    [[nodiscard]] bool budget_bound() const;
    /// The counters.
    [[nodiscard]] const pacer_stats& stats() const noexcept { return stats_; }

private:
    using time_point = std::chrono::steady_clock::time_point;

    // One event of the measurement window: a send, or a response.
    struct sample {
        time_point at;
        double sent;      // units sent
        double accepted;  // units the table accepted
        bool response;    // a response (else a send)
        bool throttled;   // a response that signalled throttling
    };

    [[nodiscard]] double capacity_rate(time_point now) const;
    void forget_before(time_point now);

    pacer_options options_;
    clock_fn now_;
    time_point next_send_{};  // earliest time of the next send (GCRA's theoretical arrival time)
    bool throttled_once_ = false;
    double capacity_ = 0;        // the table's capacity measured at the last throttle (units/s)
    time_point last_throttle_{};  // when the rate was last cut
    std::deque<sample> window_;  // sends and responses of the last half second
    pacer_stats stats_;
};

}  // namespace tarius::loader
