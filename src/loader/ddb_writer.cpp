#include <algorithm>
#include <cmath>
#include <thread>

#include "tarius/loader/writer.hpp"

namespace tarius::loader {
namespace {

constexpr std::string_view CAPACITY_SUFFIX = ",\"ReturnConsumedCapacity\":\"TOTAL\"}";

// The batch body with ReturnConsumedCapacity added (the batcher writes bodies without it).
std::string with_consumed_capacity(const std::string& body) {
    TARIUS_ASSERT(!body.empty() && body.back() == '}');
    std::string out;
    out.reserve(body.size() + CAPACITY_SUFFIX.size());
    out.append(body, 0, body.size() - 1);
    out += CAPACITY_SUFFIX;
    return out;
}

// Upper bound of the WCU a batch consumes: each item rounds up to whole KB separately, so
// sum(ceil(size_i / 1024)) ≤ items + total / 1024.
double wcu_upper_bound(const pipeline::batch& b) {
    return static_cast<double>(b.items) + std::floor(static_cast<double>(b.item_bytes) / 1024.0);
}

}  // namespace

ddb_writer::ddb_writer(aws::dynamodb_client& client, writer_options options, clock now)
    : client_(client),
      options_(options),
      now_(now ? std::move(now) : [] { return std::chrono::steady_clock::now(); }),
      window_(std::max<size_t>(1, options.max_in_flight)),
      jitter_state_(options.seed | 1) {
    budget_at_ = now_();
    budget_tokens_ = options_.max_wcu_per_second;  // a one-second burst at most
    checkpoint_.offset = 0;
}

result<void> ddb_writer::on_batch(pipeline::batch&& b) {
    if (failure_) return *failure_;
    if (stopped_) return make_error(errc::CANCELLED, "load stopped");
    auto p = std::make_unique<pending>();
    p->remaining = b.items;
    p->wcu_estimate = wcu_upper_bound(b);
    if (options_.max_wcu_per_second > 0 && p->wcu_estimate > options_.max_wcu_per_second) {
        // One request can never fit the per-second budget; let it take a whole second's worth.
        p->wcu_estimate = options_.max_wcu_per_second;
    }
    p->batch = std::move(b);
    if (p->batch.end_offset <= options_.already_written_through && options_.already_written_through > 0) {
        ++stats_.batches_skipped;
        finish_batch(*p);
        return ok();
    }
    p->body = with_consumed_capacity(p->batch.body);
    queue_.push_back(std::move(p));
    pump();
    // Backpressure: keep at most one window of sealed batches waiting behind the ones in flight.
    while (!failure_ && queue_.size() > window_) wait_for_progress();
    if (failure_) return *failure_;
    return ok();
}

result<void> ddb_writer::drain() {
    while (!failure_ && (!queue_.empty() || !waiting_.empty() || in_flight_ > 0)) {
        if (stopped_ && in_flight_ == 0) break;
        wait_for_progress();
    }
    if (failure_) return *failure_;
    if (stopped_ && (!queue_.empty() || !waiting_.empty())) return make_error(errc::CANCELLED, "load stopped");
    return ok();
}

void ddb_writer::wait_for_progress() {
    pump();
    if (in_flight_ > 0) {
        client_.poll(std::chrono::milliseconds(20));
    } else {
        // Nothing in flight: we wait for a backoff or the write budget to allow the next send.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    pump();
}

bool ddb_writer::can_dispatch(const pending& p) const {
    for (uint64_t hash : p.batch.key_hashes) {
        if (keys_in_flight_.count(hash)) return false;
    }
    return true;
}

bool ddb_writer::take_budget(double wcu) {
    if (options_.max_wcu_per_second <= 0) return true;
    const auto now = now_();
    const double elapsed = std::chrono::duration<double>(now - budget_at_).count();
    budget_at_ = now;
    budget_tokens_ = std::min(options_.max_wcu_per_second, budget_tokens_ + elapsed * options_.max_wcu_per_second);
    if (budget_tokens_ < wcu) return false;
    budget_tokens_ -= wcu;
    return true;
}

std::chrono::milliseconds ddb_writer::backoff(int round) {
    // Exponential backoff with full jitter (xorshift: deterministic for a seed).
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    const double unit = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ULL << 53);
    const double cap = std::min(static_cast<double>(options_.unprocessed_max_delay.count()),
                                static_cast<double>(options_.unprocessed_base_delay.count()) * std::pow(2.0, round));
    return std::chrono::milliseconds(static_cast<int64_t>(unit * cap));
}

void ddb_writer::pump() {
    if (failure_ || stopped_) return;
    const auto now = now_();
    // Leftovers whose backoff is over go first: their batch already holds its keys.
    for (auto it = waiting_.begin(); it != waiting_.end() && in_flight_ < window_;) {
        if ((*it)->not_before > now || !take_budget((*it)->wcu_estimate)) {
            ++it;
            continue;
        }
        auto p = std::move(*it);
        it = waiting_.erase(it);
        ++stats_.unprocessed_resent;
        dispatch(std::move(p));
    }
    // New batches strictly in file order; the head waits while a batch in flight holds one of its keys.
    while (!queue_.empty() && in_flight_ < window_) {
        pending& head = *queue_.front();
        if (!can_dispatch(head)) {
            ++stats_.held_back;
            break;
        }
        if (!take_budget(head.wcu_estimate)) break;
        for (uint64_t hash : head.batch.key_hashes) ++keys_in_flight_[hash];
        auto p = std::move(queue_.front());
        queue_.pop_front();
        dispatch(std::move(p));
    }
}

void ddb_writer::dispatch(std::unique_ptr<pending> p) {
    const uint64_t sequence = p->batch.sequence;
    std::string body = p->body;
    sent_[sequence] = std::move(p);
    ++in_flight_;
    ++stats_.batches_sent;
    stats_.peak_in_flight = std::max(stats_.peak_in_flight, in_flight_);
    client_.batch_write_item_async(std::move(body), [this, sequence](result<aws::batch_write_result> outcome) {
        complete(sequence, std::move(outcome));
    });
}

void ddb_writer::complete(uint64_t sequence, result<aws::batch_write_result> outcome) {
    auto it = sent_.find(sequence);
    TARIUS_ASSERT(it != sent_.end());
    std::unique_ptr<pending> p = std::move(it->second);
    sent_.erase(it);
    --in_flight_;
    if (!outcome) {
        if (!failure_) {
            error e = std::move(outcome).err();
            e.message = "batch " + std::to_string(sequence) + " (input bytes " + std::to_string(p->batch.start_offset) +
                        "-" + std::to_string(p->batch.end_offset) + "): " + e.message;
            failure_ = std::move(e);
        }
        return;
    }
    const aws::batch_write_result& r = *outcome;
    stats_.wcu_consumed += r.consumed_capacity;
    stats_.throttles += static_cast<uint64_t>(r.throttled_attempts);
    const size_t accepted = p->remaining - std::min(p->remaining, r.unprocessed_count);
    stats_.items_written += accepted;
    p->remaining -= accepted;

    const bool throttled = r.throttled_attempts > 0 || r.unprocessed_count > 0;
    if (throttled) {
        // Multiplicative decrease of the window; additive increase below.
        window_ = std::max<size_t>(1, window_ / 2);
        successes_since_cut_ = 0;
    } else if (window_ < options_.max_in_flight && ++successes_since_cut_ >= window_) {
        ++window_;
        successes_since_cut_ = 0;
    }

    if (r.unprocessed_count == 0) {
        finish_batch(*p);
        return;
    }
    ++stats_.throttles;
    if (++p->rounds > options_.max_unprocessed_rounds) {
        if (!failure_) {
            failure_ = make_error(errc::SERVICE,
                                  "batch " + std::to_string(sequence) + ": " + std::to_string(r.unprocessed_count) +
                                      " items still unprocessed after " + std::to_string(p->rounds - 1) +
                                      " resends (table throttled beyond the retry budget)",
                                  true);
        }
        return;
    }
    p->body = "{\"RequestItems\":" + r.unprocessed_items + CAPACITY_SUFFIX.data();
    p->not_before = now_() + backoff(p->rounds);
    waiting_.push_back(std::move(p));
}

void ddb_writer::finish_batch(const pending& p) {
    for (uint64_t hash : p.batch.key_hashes) {
        auto it = keys_in_flight_.find(hash);
        if (it == keys_in_flight_.end()) continue;  // skipped batches never registered keys
        if (--it->second == 0) keys_in_flight_.erase(it);
    }
    done_out_of_order_[p.batch.sequence] = {p.batch.end_offset, p.batch.end_line};
    items_out_of_order_[p.batch.sequence] = p.batch.items;
    // The checkpoint advances over the contiguous prefix of finished batches.
    while (!done_out_of_order_.empty() && done_out_of_order_.begin()->first == next_sequence_) {
        checkpoint_.offset = done_out_of_order_.begin()->second.first;
        checkpoint_.line = done_out_of_order_.begin()->second.second;
        checkpoint_.items_written += items_out_of_order_.begin()->second;
        ++checkpoint_.batches_done;
        done_out_of_order_.erase(done_out_of_order_.begin());
        items_out_of_order_.erase(items_out_of_order_.begin());
        ++next_sequence_;
    }
}

}  // namespace tarius::loader
