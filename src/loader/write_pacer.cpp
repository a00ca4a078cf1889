#include "tarius/loader/write_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace tarius::loader {
namespace {

using seconds_d = std::chrono::duration<double>;

// How early a send may go: the writer polls in milliseconds, and a send that waited for its exact slot would come
// late and lose that time, a few percent of the rate at hundreds of requests per second. After an idle period it
// allows a burst of this much of the rate (plus one request).
constexpr std::chrono::milliseconds TOLERANCE{50};
// The window over which sending and acceptance are measured.
constexpr std::chrono::milliseconds MEASURE_WINDOW{500};
// One throttling burst is one event: responses to requests sent before a cut keep arriving for a round trip.
constexpr std::chrono::milliseconds CUT_INTERVAL{100};
// A window in which at least this share of responses throttled says the sending rate is well over capacity:
// what the table accepted then is its capacity. Below it, a throttle may be a burst or one hot partition, and
// the rate is only trimmed.
constexpr double OVERLOADED_SHARE = 0.5;
constexpr double TRIM = 0.9;
constexpr double MIN_RESPONSES = 4;
// No cut takes more than half of the rate: a drop of capacity is followed in a few cuts, a fluke costs little.
constexpr double MAX_CUT = 0.5;

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

bool write_pacer::budget_bound() const {
    return options_.budget_wcu > 0 && rate() >= options_.budget_wcu;
}

std::chrono::microseconds write_pacer::wait_for(double units) const {
    (void)units;
    if (rate() <= 0) return std::chrono::microseconds(0);
    const auto now = now_();
    if (now + TOLERANCE >= next_send_) return std::chrono::microseconds(0);
    return std::chrono::duration_cast<std::chrono::microseconds>(next_send_ - TOLERANCE - now) +
           std::chrono::microseconds(1);
}

void write_pacer::forget_before(time_point now) {
    while (!window_.empty() && now - window_.front().at > MEASURE_WINDOW) window_.pop_front();
}

void write_pacer::on_sent(double units) {
    stats_.units_sent += units;
    const auto now = now_();
    forget_before(now);
    window_.push_back({now, units, 0, false, false});
    const double r = rate();
    if (r <= 0) {
        next_send_ = now;
        return;
    }
    // The tolerance lets a send go up to TOLERANCE early (wait_for); a late send starts the schedule anew.
    next_send_ = std::max(next_send_, now) +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds_d(units / r));
}

void write_pacer::on_response(double charged, double consumed, bool throttled) {
    const auto now = now_();
    stats_.units_accepted += consumed;
    forget_before(now);
    window_.push_back({now, 0, consumed, true, throttled});
    // Units charged but not consumed (unprocessed items, a failed request) or consumed beyond the estimate (an
    // overwritten larger item): the schedule follows what the table counted.
    const double r = rate();
    if (r > 0 && consumed != charged) {
        next_send_ +=
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(seconds_d((consumed - charged) / r));
    }
    if (!throttled) return;
    ++stats_.throttle_events;
    if (!options_.follow_capacity) return;
    if (throttled_once_ && now - last_throttle_ < CUT_INTERVAL) return;
    double sent = 0, accepted = 0, responses = 0, throttles = 0;
    for (const sample& s : window_) {
        sent += s.sent;
        accepted += s.accepted;
        responses += s.response ? 1 : 0;
        throttles += s.throttled ? 1 : 0;
    }
    // A window shorter than the whole (the load just started) is measured over what it covers.
    const double seconds = std::max(
        seconds_d(std::min<std::chrono::steady_clock::duration>(MEASURE_WINDOW, now - window_.front().at)).count(),
        0.05);
    const double accept_rate = accepted / seconds;
    const double send_rate = sent / seconds;
    const double current = throttled_once_ ? capacity_rate(now) : std::max(send_rate, accept_rate);
    // The acceptance is the capacity only when the window says so: enough responses, most of them throttled,
    // something accepted. One throttle among the first requests says little; it halves the rate at most.
    const bool overloaded = responses >= MIN_RESPONSES && throttles / responses >= OVERLOADED_SHARE && accepted > 0;
    const double target = overloaded ? accept_rate : std::max(accept_rate, TRIM * current);
    capacity_ = std::max({target, MAX_CUT * current, 1.0});
    stats_.capacity_estimate = capacity_;
    throttled_once_ = true;
    last_throttle_ = now;
}

}  // namespace tarius::loader
