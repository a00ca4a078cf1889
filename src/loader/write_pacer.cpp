#include "tarius/loader/write_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace tarius::loader {
namespace {

using seconds_d = std::chrono::duration<double>;
using steady = std::chrono::steady_clock;

// How early a send may go: the writer polls in milliseconds, and a send that waited for its exact slot would come
// late and lose that time, a few percent of the rate at hundreds of requests per second. After an idle period it
// allows a burst of this much of the rate (plus one request).
constexpr std::chrono::milliseconds TOLERANCE{50};
// Responses are judged in rounds: a round without a throttled response ends a throttled spell (the table had
// capacity to spare). A round lasts at least this long and holds at least MIN_ROUND_ANSWERS responses, so that at
// a few requests per second one lucky response does not end a spell.
constexpr std::chrono::milliseconds ROUND{100};
constexpr uint32_t MIN_ROUND_ANSWERS = 6;
// The capacity is measured over at most the last second of a spell, and over at least this span and this many
// responses (before that, the rate is a provisional cut).
constexpr std::chrono::milliseconds MEASURE_WINDOW{1000};
constexpr std::chrono::milliseconds MIN_SPAN{30};
constexpr uint32_t MIN_SPAN_ANSWERS = 6;
// Responses that arrive just after the first throttled one may still carry units of the spent burst (the table
// answered requests in parallel and their answers arrive in any order): once the spell is this old, its measure
// starts again without them.
constexpr std::chrono::milliseconds SETTLE{60};
// Sparse answers: large items on a small table (400 KB items at 25 units/s: one item taken every 16 s). A second
// then holds one response that accepted units or none, and one 400-unit item is no measure of a second's capacity
// (it read as 400 units/s). While the last second holds at most one such response and the last SPARSE_ANSWERS of
// them span more than a second, the capacity is measured between them instead: their units, the oldest's left out
// (the table refilled for it before the span began), over the time from the oldest to the newest. Then a spell
// starts at that measure, not at a provisional cut; one accepted item is no sign of capacity to spare (a round that
// would end a spell needs SPARSE_ROUND_ANSWERS responses); and requests refused or taken whole say nothing of a
// floor (see STUBBORN_SHARE: with the rate held at MIN_RATE, half of them may be refused), only a round with a
// request taken in part does. Responses older than SPARSE_MEMORY are forgotten.
constexpr uint32_t SPARSE_ANSWERS = 5;
constexpr uint32_t SPARSE_ROUND_ANSWERS = 3;
constexpr std::chrono::seconds SPARSE_MEMORY{120};
// Until the first measure, the rate is this share of what was sent when nothing limited it.
constexpr double PROVISIONAL_SHARE = 0.1;
// A round that accepted less than this share of the measured capacity while throttled says the capacity fell: the
// measure starts again from that round rather than averaging the old capacity in for a second.
constexpr double DROP_SHARE = 0.75;
// Sends are counted in slots of this length (the writer's own pace, for the growth bound and the demand).
constexpr std::chrono::milliseconds SEND_SLOT{100};
// The rate never falls below this (units/s): a table that accepted nothing for a while is still tried about once
// a second with a full request, and the probe has something to grow from.
constexpr double MIN_RATE = 50;
// The highest capacity measured is remembered this long (refreshed while the capacity stays within PEAK_KEEP of
// it): when the table stops throttling below it, the probe heads for it quickly (a table scaled down and back up).
constexpr std::chrono::seconds PEAK_MEMORY{60};
constexpr double PEAK_KEEP = 0.9;
// A round lasts at most this long when responses are few (it still needs one).
constexpr std::chrono::milliseconds LONGEST_ROUND{500};
// Refusals that do not follow the rate: a table whose refusals come from its capacity hands back about
// `headroom` of the units once the rate is cut to what it accepted. When STUBBORN_SHARE or more is still handed
// back in STUBBORN_ROUNDS rounds in a row after the spell was measured, part of what comes back does not depend on
// the rate — a bucket smaller than a request (each request gets at most that many items, however slowly they come),
// or refusals that are not about capacity — and cutting would chase the accepted rate down to nothing. That share,
// less FLOOR_MARGIN, becomes the floor: only what is handed back beyond it counts as throttling (beyond it by
// 2 × FLOOR_MARGIN, judged round by round), the rate goes back to what it was before the spell, and the capacity's rate
// is set so that the units it accepts are what remains after the floor. A round that hands back less than half the
// floor forgets it.
constexpr double STUBBORN_SHARE = 0.5;
constexpr uint32_t STUBBORN_ROUNDS = 3;
constexpr double FLOOR_MARGIN = 0.03;
// Beyond a floor, the probe sends at most this many times what the table accepted over the last second (sent for).
constexpr double ACCEPTANCE_GROWTH = 4;

steady::duration as_duration(double seconds) {
    return std::chrono::duration_cast<steady::duration>(seconds_d(seconds));
}

// GCRA: a send of `units` at `now` moves the schedule on by units / rate from the later of the schedule and now.
void charge(steady::time_point& next, steady::time_point now, double units, double rate) {
    if (rate <= 0) {
        next = now;
        return;
    }
    // The tolerance applies once: wait_until lets a send go TOLERANCE early; the schedule itself never starts in
    // the past (starting it at now − TOLERANCE too would allow a burst of twice the tolerance after an idle spell).
    next = std::max(next, now) + as_duration(units / rate);
}

std::chrono::microseconds wait_until(steady::time_point next, steady::time_point now) {
    if (now + TOLERANCE >= next) return std::chrono::microseconds(0);
    return std::chrono::duration_cast<std::chrono::microseconds>(next - TOLERANCE - now) + std::chrono::microseconds(1);
}

}  // namespace

write_pacer::write_pacer(pacer_options options, clock_fn now)
    : options_(options), now_(now ? std::move(now) : [] { return steady::now(); }) {
    const auto start = now_();
    budget_next_ = capacity_next_ = round_start_ = start;
}

// ---- the rate ------------------------------------------------------------------------------------------------

double write_pacer::sent_per_second(time_point now) const {
    double units = 0;
    time_point first = now;
    for (const send_slot& slot : sends_) {
        if (now - slot.start > MEASURE_WINDOW) continue;
        units += slot.units;
        first = std::min(first, slot.start);
    }
    const double span = std::max(seconds_d(now - first).count(), seconds_d(SEND_SLOT).count());
    return units / span;
}

double write_pacer::capacity_rate() const {
    if (!options_.follow_capacity || rate_ <= 0) return 0;
    if (throttling_) return rate_;
    // Probing: cubic growth from the last capacity, bounded by twice what the writer sent over the last second
    // (a writer that cannot use the rate learns nothing by raising it).
    const auto now = now_();
    const double t = seconds_d(now - growth_start_).count();
    const double c = options_.cubic_scale;
    // Units sent for the table to accept a capacity (more than it, beyond a floor: see STUBBORN_SHARE).
    const double sending = 1.0 / (1.0 - floor_share_);
    const double last = std::max(capacity_, MIN_RATE) * sending;
    const double start = last * (1.0 + options_.headroom);
    const double peak = peak_ * sending;
    double probe = start + last * c * t * t * t;
    if (peak > start && now - peak_at_ <= PEAK_MEMORY) {
        // A capacity measured not long ago and higher than the last one (the table was scaled down, and may be
        // back up): CUBIC's curve around it — quickly up to it, flat near it, probing beyond it ever faster.
        const double k = std::cbrt((1.0 - start / peak) / c);
        probe = peak * (1.0 + c * (t - k) * (t - k) * (t - k));
    }
    double bound = std::max(rate_, 2.0 * sent_per_second(now));
    if (floor_share_ > 0) {
        // Beyond a floor, what was sent is mostly handed back whatever the rate: bounding the probe by it let the
        // refusals feed the bound, and the rate doubled every few seconds against a table of one unit per second.
        // The table's acceptance bounds it instead: ACCEPTANCE_GROWTH times the units accepted over the last second,
        // sent for. A table whose acceptance follows the rate still lets it grow (the floor, fixed when it was
        // found, is a little under the share handed back, so a factor of 2 would grow only a few percent a second).
        const double accepted = window_accepted_ / seconds_d(MEASURE_WINDOW).count();
        bound = std::min(bound, std::max(MIN_RATE, ACCEPTANCE_GROWTH * accepted * sending));
    }
    return std::min(probe, bound);
}

double write_pacer::rate() const {
    const double budget = options_.budget_wcu > 0 ? options_.budget_wcu : 0;
    const double capacity = capacity_rate();
    if (budget > 0 && capacity > 0) return std::min(budget, capacity);
    return budget > 0 ? budget : capacity;
}

bool write_pacer::budget_bound() const {
    return options_.budget_wcu > 0 && rate() >= options_.budget_wcu;
}

double write_pacer::recent_throttled_share() const noexcept {
    if (window_charged_ <= 0) return 0;
    return std::clamp(1.0 - window_accepted_ / window_charged_, 0.0, 1.0);
}

// ---- sends ---------------------------------------------------------------------------------------------------

std::chrono::microseconds write_pacer::wait_for(double units) const {
    (void)units;
    const auto now = now_();
    std::chrono::microseconds wait{0};
    if (options_.budget_wcu > 0) wait = std::max(wait, wait_until(budget_next_, now));
    if (capacity_rate() > 0) wait = std::max(wait, wait_until(capacity_next_, now));
    return wait;
}

void write_pacer::on_sent(double units) {
    const auto now = now_();
    if (stats_.units_sent <= 0) first_send_ = now;
    stats_.units_sent += units;
    forget_before(now);
    if (sends_.empty() || now - sends_.back().start >= SEND_SLOT) {
        // The slot that just ended measured the writer's own pace if nothing limited it.
        if (!sends_.empty() && rate() <= 0 && !sends_.back().throttled && sends_.size() > 1) {
            const double seconds = seconds_d(now - sends_.back().start).count();
            stats_.peak_unthrottled = std::max(stats_.peak_unthrottled, sends_.back().units / seconds);
        }
        sends_.push_back({now, 0, false});
    }
    sends_.back().units += units;
    charge(budget_next_, now, units, options_.budget_wcu);
    charge(capacity_next_, now, units, capacity_rate());
}

// ---- responses -----------------------------------------------------------------------------------------------

void write_pacer::forget_before(time_point now) {
    while (!answers_.empty() && now - answers_.front().at > MEASURE_WINDOW) {
        window_charged_ -= answers_.front().charged;
        window_accepted_ -= answers_.front().accepted;
        if (answers_.front().accepted > 0) --window_accepting_;
        answers_.pop_front();
    }
    if (answers_.empty()) window_charged_ = window_accepted_ = 0;  // no drift from the running sums
    while (!accepting_.empty() && now - accepting_.front().at > SPARSE_MEMORY) accepting_.pop_front();
    while (sends_.size() > 1 && now - sends_.front().start > MEASURE_WINDOW + SEND_SLOT) sends_.pop_front();
}

void write_pacer::on_failed(double charged) {
    stats_.units_sent -= charged;
    // Nothing was consumed: the budget gets the units back. The capacity schedule too — the request did not
    // reach the table's capacity.
    if (options_.budget_wcu > 0) budget_next_ -= as_duration(charged / options_.budget_wcu);
    const double capacity = capacity_rate();
    if (capacity > 0) capacity_next_ -= as_duration(charged / capacity);
}

void write_pacer::on_response(double charged, double consumed, bool throttled) {
    const auto now = now_();
    stats_.units_accepted += consumed;
    forget_before(now);

    // The budget counts what the table consumed: units charged but not consumed (items handed back) are given
    // back, units consumed beyond the estimate (an item larger than estimated) are taken.
    if (options_.budget_wcu > 0 && consumed != charged) {
        budget_next_ += as_duration((consumed - charged) / options_.budget_wcu);
    }
    // The capacity schedule counts what was sent: items handed back did take the table's attention and are sent
    // again, so they are not given back (giving them back would pace only accepted units, and the units sent
    // would grow with the share throttled). A fully accepted response corrects the estimate.
    const double capacity = capacity_rate();
    if (!throttled && capacity > 0 && consumed != charged) {
        capacity_next_ += as_duration((consumed - charged) / capacity);
    }

    answers_.push_back({now, charged, consumed});
    window_charged_ += charged;
    window_accepted_ += consumed;
    if (consumed > 0) {
        ++window_accepting_;
        accepting_.push_back({now, charged, consumed});
        if (accepting_.size() > SPARSE_ANSWERS) accepting_.pop_front();
    }
    ++round_answers_;
    round_accepted_ += consumed;
    round_charged_ += charged;

    if (throttled) {
        round_partial_ = round_partial_ || consumed > 0;
        ++stats_.throttle_events;
        stats_.units_throttled += std::max(0.0, charged - consumed);
        if (!sends_.empty()) sends_.back().throttled = true;
    }
    // With a floor (see STUBBORN_SHARE), whole rounds are judged (end_round), not single responses.
    const bool counts = throttled && floor_share_ <= 0;
    round_throttled_ = round_throttled_ || counts;
    if (options_.follow_capacity) {
        if (counts && !throttling_) {
            start_spell(now);
        } else if (throttling_) {
            spell_accepted_ += consumed;
            ++spell_answers_;
            measure(now);
        }
    }
    const auto round = now - round_start_;
    const bool long_enough = (round >= ROUND && round_answers_ >= MIN_ROUND_ANSWERS) || round >= LONGEST_ROUND;
    const bool held = throttling_ && !round_throttled_ && round_answers_ < SPARSE_ROUND_ANSWERS && sparse();
    if (long_enough && !held) end_round(now);
}

// The first throttled response of a spell: the table's saved capacity is spent from here on. Until the spell has
// been measured, the rate is cut provisionally: to what was being sent (a tenth of it when nothing limited it:
// the writer then sends many times what a table accepts, and the tokens a deep cut leaves unused are saved in the
// table's burst, not lost).
void write_pacer::start_spell(time_point now) {
    if (stats_.throttle_events <= 1 && options_.budget_wcu <= 0 && now - first_send_ >= MIN_SPAN) {
        // The first throttle: until now the writer went at its own pace.
        const double pace = stats_.units_sent / seconds_d(now - first_send_).count();
        stats_.peak_unthrottled = std::max(stats_.peak_unthrottled, pace);
    }
    const double current = capacity_rate();
    const double provisional =
        current > 0 ? current / (1.0 + options_.headroom) : PROVISIONAL_SHARE * sent_per_second(now);
    rate_before_spell_ = current > 0 ? current : provisional;
    throttling_ = true;
    spell_began_ = spell_start_ = now;
    spell_accepted_ = 0;
    spell_answers_ = 0;
    spell_settled_ = false;
    stubborn_rounds_ = 0;
    rate_ = std::max(MIN_RATE, provisional);
    if (sparse()) measure(now);
}

// While throttled, the units accepted per second are the table's capacity; the rate is set a little above it.
void write_pacer::measure(time_point now) {
    if (!spell_settled_ && now - spell_start_ >= SETTLE && spell_answers_ >= MIN_SPAN_ANSWERS) {
        measure_from(now);
    }
    const auto since = now - spell_start_;
    double accepted_per_second = 0;
    if (sparse()) {
        accepted_per_second = sparse_accepted_per_second();
    } else {
        // A spell that accepted nothing for a second is measured at once, however few responses came (large
        // requests: waiting for MIN_SPAN_ANSWERS of them kept the provisional cut for seconds).
        const bool nothing = since >= MEASURE_WINDOW && window_accepted_ <= 0;
        if (!nothing && (since < MIN_SPAN || spell_answers_ < MIN_SPAN_ANSWERS)) return;
        accepted_per_second = since < MEASURE_WINDOW ? spell_accepted_ / seconds_d(since).count()
                                                     : window_accepted_ / seconds_d(MEASURE_WINDOW).count();
    }
    capacity_ = accepted_per_second;
    stats_.capacity_estimate = capacity_;
    rate_ = std::max(MIN_RATE, capacity_ / (1.0 - floor_share_) * (1.0 + options_.headroom));
    const bool stale = now - peak_at_ > PEAK_MEMORY;
    if (stale || capacity_ >= PEAK_KEEP * peak_) {
        peak_ = stale ? capacity_ : std::max(peak_, capacity_);
        peak_at_ = now;
    }
}

// True when responses that accepted units are too few in a second to measure the capacity (see SPARSE_ANSWERS).
bool write_pacer::sparse() const {
    return window_accepting_ <= 1 && accepting_.size() >= 2 &&
           accepting_.back().at - accepting_.front().at > MEASURE_WINDOW;
}

// The capacity measured between the last responses that accepted units (see SPARSE_ANSWERS). Precondition: sparse().
double write_pacer::sparse_accepted_per_second() const {
    double units = 0;
    for (size_t idx = 1; idx < accepting_.size(); ++idx) units += accepting_[idx].accepted;
    return units / seconds_d(accepting_.back().at - accepting_.front().at).count();
}

// The measure of the spell starts again from now (the rate keeps the last measure until the new one has enough).
void write_pacer::measure_from(time_point now) {
    spell_start_ = now;
    spell_accepted_ = 0;
    spell_answers_ = 0;
    spell_settled_ = true;
}

void write_pacer::end_round(time_point now) {
    const double handed_back = round_charged_ > 0 ? 1.0 - round_accepted_ / round_charged_ : 0;
    if (floor_share_ > 0) {
        if (handed_back < floor_share_ / 2) floor_share_ = 0;
        round_throttled_ = handed_back > floor_share_ + 2 * FLOOR_MARGIN;
        if (round_throttled_ && !throttling_ && options_.follow_capacity) {
            // Beyond the floor: a spell, measured from this round's responses.
            start_spell(now);
            spell_start_ = round_start_;
            spell_accepted_ = round_accepted_;
            spell_answers_ = round_answers_;
            spell_settled_ = true;
            measure(now);
        }
    }
    if (throttling_) {
        const bool measured_before = spell_began_ < round_start_ && capacity_ > 0;
        const bool stubborn = round_throttled_ && measured_before && (round_partial_ || !sparse()) &&
                              handed_back >= std::max(STUBBORN_SHARE, floor_share_ + 2 * FLOOR_MARGIN);
        stubborn_rounds_ = stubborn ? stubborn_rounds_ + 1 : 0;
        stubborn_least_ = stubborn_rounds_ > 1 ? std::min(stubborn_least_, handed_back) : handed_back;
        if (stubborn_rounds_ >= STUBBORN_ROUNDS) {
            // Not all about the rate: a floor, and back to the rate before the spell.
            floor_share_ = stubborn_least_ - FLOOR_MARGIN;
            throttling_ = false;
            growth_start_ = now;
            rate_ = rate_before_spell_;
            capacity_ = rate_before_spell_ / (1.0 + options_.headroom) * (1.0 - floor_share_);
            stats_.capacity_estimate = capacity_;
            ++stats_.stubborn_spells;
        } else if (!round_throttled_) {
            // A whole round accepted: the table has capacity to spare. Probe upwards from the last capacity.
            throttling_ = false;
            growth_start_ = now;
            if (capacity_ <= 0) capacity_ = rate_;
        } else if (capacity_ > 0 && now - spell_began_ > 2 * ROUND) {
            // The capacity fell (10,000 → 2,000): measure from this round on instead of averaging the old
            // capacity in for a second.
            const double round_rate = round_accepted_ / seconds_d(now - round_start_).count();
            if (round_rate < DROP_SHARE * capacity_) {
                spell_start_ = round_start_;
                spell_accepted_ = round_accepted_;
                spell_answers_ = round_answers_;
                spell_settled_ = true;
                measure(now);
            }
        }
    }
    round_start_ = now;
    round_answers_ = 0;
    round_accepted_ = 0;
    round_charged_ = 0;
    round_throttled_ = false;
    round_partial_ = false;
}

}  // namespace tarius::loader
