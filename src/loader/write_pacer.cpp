#include "tarius/loader/write_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace tarius::loader {
namespace {

using seconds_d = std::chrono::duration<double>;

// Lateness the pacer forgives: a send that comes this late (the writer polls in milliseconds) keeps its slot
// instead of losing the time, which would cost a few percent of the rate at hundreds of requests per second.
constexpr std::chrono::milliseconds TOLERANCE{50};
// The window over which the table's acceptance is measured when it throttles.
constexpr std::chrono::milliseconds MEASURE_WINDOW{500};
// One throttling burst is one event: responses to requests sent before a cut keep arriving for a round trip.
constexpr std::chrono::milliseconds CUT_INTERVAL{100};

}  // namespace

write_pacer::write_pacer(pacer_options options, clock_fn now)
    : options_(options), now_(now ? std::move(now) : [] { return std::chrono::steady_clock::now(); }) {
    next_send_ = now_();
}

double write_pacer::capacity_rate(time_point now) const {
    // CUBIC around the last measured capacity: backoff_share of it right after a cut, back to it after K
    // seconds, then probing above it ever faster.
    const double c = options_.cubic_scale;
    const double k = std::cbrt((1.0 - options_.backoff_share) / c);
    const double t = seconds_d(now - last_throttle_).count();
    const double factor = 1.0 + c * std::pow(t - k, 3.0);
    return capacity_ * std::clamp(factor, 0.1, 100.0);
}

double write_pacer::rate() const {
    double rate = options_.budget_wcu > 0 ? options_.budget_wcu : 0;
    if (options_.follow_capacity && throttled_once_) {
        const double capacity = capacity_rate(now_());
        rate = rate > 0 ? std::min(rate, capacity) : capacity;
    }
    return rate;
}

std::chrono::microseconds write_pacer::wait_for(double units) const {
    (void)units;
    if (rate() <= 0) return std::chrono::microseconds(0);
    const auto now = now_();
    if (now + TOLERANCE >= next_send_) return std::chrono::microseconds(0);
    return std::chrono::duration_cast<std::chrono::microseconds>(next_send_ - TOLERANCE - now) +
           std::chrono::microseconds(1);
}

void write_pacer::on_sent(double units) {
    stats_.units_sent += units;
    const double r = rate();
    const auto now = now_();
    if (r <= 0) {
        next_send_ = now;
        return;
    }
    next_send_ = std::max(next_send_, now - TOLERANCE) +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds_d(units / r));
}

double write_pacer::accepted_per_second(time_point now) const {
    double units = 0;
    for (const auto& [at, accepted] : accepted_) {
        if (now - at <= MEASURE_WINDOW) units += accepted;
    }
    // A window shorter than the whole (the load just started) is measured over what it covers.
    const auto covered = accepted_.empty() ? MEASURE_WINDOW
                                           : std::min<std::chrono::steady_clock::duration>(
                                                 MEASURE_WINDOW, now - accepted_.front().first);
    const double seconds = std::max(seconds_d(covered).count(), 0.05);
    return units / seconds;
}

void write_pacer::on_response(double charged, double consumed, bool throttled) {
    const auto now = now_();
    stats_.units_accepted += consumed;
    accepted_.emplace_back(now, consumed);
    while (!accepted_.empty() && now - accepted_.front().first > MEASURE_WINDOW) accepted_.pop_front();
    // Units charged but not consumed (unprocessed items, a failed request) or consumed beyond the estimate (an
    // overwritten larger item): the schedule follows what the table counted.
    const double r = rate();
    if (r > 0 && consumed != charged) {
        next_send_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds_d((consumed - charged) / r));
    }
    if (!throttled) return;
    ++stats_.throttle_events;
    if (!options_.follow_capacity) return;
    if (throttled_once_ && now - last_throttle_ < CUT_INTERVAL) return;
    const double measured = accepted_per_second(now);
    // What the table accepted while it throttled is its capacity; with nothing accepted, halve the guess.
    capacity_ = measured > 0 ? measured : (throttled_once_ ? capacity_ * 0.5 : 1.0);
    capacity_ = std::max(capacity_, 1.0);
    stats_.capacity_estimate = capacity_;
    throttled_once_ = true;
    last_throttle_ = now;
}

}  // namespace tarius::loader
