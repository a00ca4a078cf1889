#pragma once
/// When the DynamoDB writer may send its next request: an exact write budget (`--max-wcu`) and a sending rate that
/// follows what the table accepts.
///
/// Both are one pacing rule (a generic cell rate algorithm: a request costing c write units moves the earliest
/// time of the next send c / rate seconds on), so within any window of T seconds the units sent stay within
/// rate × (T + tolerance) plus one request. The rate is the budget, or the table's measured capacity when that is
/// lower.
///
/// The capacity is measured, not guessed: while a table throttles, every write unit it accepts is one its
/// capacity allowed (its burst is spent, nothing is saved), so the units accepted per second since the first
/// throttled response are the capacity, whatever Tarius sends. DynamoDB answers a batch partly (UnprocessedItems),
/// so throttling is a matter of degree: the rate settles a little above the capacity (`headroom`), where the table
/// hands back about that share of the items and accepts everything it can — a measured cut that does not compound
/// like a multiplicative one. When a whole round of responses comes back without throttling the table has capacity
/// to spare: the rate grows along a cubic curve from the last capacity (slowly at first, then ever faster, as the
/// AWS SDKs' adaptive retry mode and CUBIC do), bounded by twice what the writer actually sent, until the table
/// throttles again and is measured anew. Until the first throttle nothing limits the rate. When items are so large
/// that a second holds at most one accepted response (400 KB items on a table of 25 units/s), the capacity is
/// measured between the last few accepted responses instead of over one second.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>

namespace tarius::loader {

/// Settings of a pacer.
struct pacer_options {
    double budget_wcu = 0;        ///< write units per second never exceeded; 0 = no budget
    bool follow_capacity = true;  ///< slow down to what the table accepts when it throttles
    /// While the table throttles, the rate is its measured capacity times (1 + headroom): the share of items it
    /// hands back for the writer to send again, the price of never leaving capacity unused.
    double headroom = 0.01;
    /// Growth of the probe once the table stops throttling, in capacities per second cubed: the rate is the last
    /// capacity × (1 + headroom + cubic_scale × t³) t seconds after the last throttled round.
    double cubic_scale = 1.5;
};

/// Counters of a pacer.
struct pacer_stats {
    double units_sent = 0;         ///< write units of the requests sent (estimates, corrected by responses)
    double units_accepted = 0;     ///< write units the table reported consumed
    double units_throttled = 0;    ///< write units of requests it handed back or refused for capacity
    uint64_t throttle_events = 0;  ///< responses that signalled throttling (errors or unprocessed items)
    double capacity_estimate = 0;  ///< the last measured capacity in units/s; 0 until the table throttled
    /// Most units/s sent while nothing limited the rate (over a measuring slot, or from the first send to the first
    /// throttle): the writer's own pace, what the table would have to accept for the load not to wait on it.
    double peak_unthrottled = 0;
    uint64_t stubborn_spells = 0;  ///< spells whose refusals did not follow the rate (a floor was set)
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
    /// Records a response to a request charged `charged` units when sent: the table accepted `consumed` units
    /// (its ConsumedCapacity, or the estimate of the items it acknowledged); `throttled` when it handed items back
    /// or refused the request for capacity (then `consumed` may be 0).
    void on_response(double charged, double consumed, bool throttled);
    /// Records a request the table refused whole without writing any of it (an item refused as invalid): its units
    /// are given back and it says nothing about the table's capacity. (A passing fault — a 5xx, a timeout — is not
    /// reported: the request may have been written, so its units stay charged.)
    void on_failed(double charged);

    /// The sending rate now in units/s; 0 = unlimited.
    [[nodiscard]] double rate() const;
    /// True when the budget, not the table, sets the rate now (waiting for it is the user's choice, not a stall).
    [[nodiscard]] bool budget_bound() const;
    /// True while the table's capacity, not the budget nor the writer, limits the rate: it throttled within the
    /// last round.
    [[nodiscard]] bool table_limited() const noexcept { return throttling_; }
    /// The share of the write units answered over the last second that the table handed back or refused, 0..1.
    [[nodiscard]] double recent_throttled_share() const noexcept;
    /// The counters.
    [[nodiscard]] const pacer_stats& stats() const noexcept { return stats_; }

private:
    using time_point = std::chrono::steady_clock::time_point;

    // One response of the measuring window.
    struct answer {
        time_point at;
        double charged;   // units charged for it
        double accepted;  // units the table accepted
    };
    // Units sent in one slot of the send-rate measure.
    struct send_slot {
        time_point start;
        double units;
        bool throttled;  // the table throttled while this slot's requests were sent
    };

    [[nodiscard]] double capacity_rate() const;
    [[nodiscard]] double sent_per_second(time_point now) const;
    [[nodiscard]] bool sparse() const;
    [[nodiscard]] double sparse_accepted_per_second() const;
    void start_spell(time_point now);
    void measure(time_point now);
    void measure_from(time_point now);
    void end_round(time_point now);
    void forget_before(time_point now);

    pacer_options options_;
    clock_fn now_;
    // Earliest times of the next send (GCRA's theoretical arrival times): the budget's counts units consumed,
    // the capacity's units sent.
    time_point budget_next_{};
    time_point capacity_next_{};
    time_point first_send_{};

    // Capacity following. rate_ is 0 until the table first throttled.
    double rate_ = 0;
    double capacity_ = 0;         // the last measured capacity (units/s)
    double peak_ = 0;             // the highest capacity measured lately
    time_point peak_at_{};        // when it was last measured (or confirmed)
    bool throttling_ = false;     // in a throttled spell: the table throttled in the current or the last round
    time_point spell_began_{};    // the first throttled response of the spell: the table's burst was spent then
    time_point spell_start_{};    // where the spell's measure starts (its beginning, later once settled)
    double spell_accepted_ = 0;   // units accepted by responses after spell_start_
    uint32_t spell_answers_ = 0;  // responses after spell_start_
    bool spell_settled_ = false;  // the measure started again once the spell was SETTLE old
    time_point growth_start_{};   // when the last throttled spell ended
    time_point round_start_{};
    uint32_t round_answers_ = 0;
    double round_accepted_ = 0;
    double round_charged_ = 0;
    double rate_before_spell_ = 0;  // the rate when the spell started (the provisional cut when none)
    uint32_t stubborn_rounds_ = 0;  // rounds in a row that handed back most units after the spell was measured
    double stubborn_least_ = 0;     // the least share handed back over those rounds
    double floor_share_ = 0;        // the share of units handed back whatever the rate (see STUBBORN_SHARE)
    bool round_throttled_ = false;
    bool round_partial_ = false;  // a response of the round had part of its units accepted and part handed back
    std::deque<answer> answers_;  // responses of the last second
    double window_charged_ = 0;   // sums over answers_
    double window_accepted_ = 0;
    uint32_t window_accepting_ = 0;  // responses of answers_ that accepted units
    std::deque<answer> accepting_;   // the last SPARSE_ANSWERS responses that accepted units (any second)
    std::deque<send_slot> sends_;    // units sent, in slots, over the last second

    pacer_stats stats_;
};

}  // namespace tarius::loader
