#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "json/writer.hpp"
#include "mapping/item_key.hpp"
#include "tarius/aws/error_class.hpp"
#include "tarius/loader/writer.hpp"

namespace tarius::loader {
namespace {

using steady = std::chrono::steady_clock;

// A request body is held twice while in flight: by the client's call and by the transport's attempt.
constexpr size_t BODY_COPIES = 2;

// Batches active at once, per request allowed in flight. More than one: a batch stays active until its last item
// is acknowledged, so batches waiting for a few handed-back items must not keep fresh items from filling requests
// (with one, 64 such batches starved the writer into sending small requests of leftovers only).
constexpr size_t ACTIVE_PER_IN_FLIGHT = 8;
// How far past the furthest batch activated a saved checkpoint lets a gated writer go before the next save: about
// half a second of input at full speed, so that an early heartbeat is a few ledger writes a second at most.
constexpr uint64_t UNCERTAIN_WINDOW_BYTES = 4 << 20;

// DynamoDB's write units of a put: one per started KB of the item, at least one.
double write_units(uint32_t item_size) {
    return std::max(1.0, std::ceil(static_cast<double>(item_size) / 1024.0));
}

}  // namespace

struct ddb_writer::entry {
    uint64_t sequence = 0;  // the batch
    uint32_t item = 0;      // index in its items_info
    int32_t version = -1;   // -1: the item's own row; ≥ 0: a revived earlier row (index in batch::replaced)
    uint32_t attempts = 0;  // sends so far
    steady::time_point not_before{};
    bool maybe_landed = false;  // an earlier send failed after it may have been written (a 5xx, a reset, a timeout)
};

struct ddb_writer::request {
    std::vector<entry> entries;
    size_t from_retry = 0;  // the first entries came from retry_, the rest from fresh_ (for put_back)
    bool pinned = false;    // a half of a refused request: sent alone, never merged
    double charged = 0;     // write units counted when sent
    size_t body_bytes = 0;
    bool cost_unknown = false;  // holds a delete whose cost no answer had told when it was sent
};

struct ddb_writer::batch_state {
    pipeline::batch b;
    uint32_t open = 0;  // items whose fate is not final yet
    checkpoint fates;   // its puts acknowledged and rows skipped (the counts of a checkpoint only)
};

ddb_writer::ddb_writer(aws::dynamodb_client& client, writer_options options, refusal_handler on_refused,
                       writer_tick tick, clock now)
    : client_(client),
      options_(std::move(options)),
      on_refused_(std::move(on_refused)),
      tick_(std::move(tick)),
      now_(now ? std::move(now) : [] { return steady::now(); }),
      pacer_(pacer_options{options_.max_wcu_per_second, options_.follow_capacity}, now_),
      jitter_state_(options_.seed | 1) {
    options_.max_in_flight = std::max<size_t>(1, options_.max_in_flight);
    if (!options_.strategy) options_.strategy = make_write_strategy({}, options_.table, options_.keys, {});
    for (const refusal& r : options_.resume.refused) earlier_refusals_by_line_[r.line] = r.message;
    // Until the replay reaches the resume point, the earlier runs' checkpoint stands (see skip).
    checkpoint_ = options_.resume;
    checkpoint_.refused.clear();
    checkpoint_.work = {};
    saved_promise_ = options_.resume.uncertain_through;  // what the ledger already says the earlier runs may send
    replaying_ = options_.resume.offset > 0;
    started_ = last_tick_ = last_progress_ = now_();
}

ddb_writer::~ddb_writer() = default;

// ---- batches in --------------------------------------------------------------------------------------------

result<void> ddb_writer::on_batch(pipeline::batch&& b) {
    if (failure_ || stopping_) return settle();
    if (replaying_ && b.end_offset <= options_.resume.offset) {
        skip(std::move(b));
        return failure_ ? settle() : ok();
    }
    if (replaying_) end_of_resumed_part();  // the input no longer has a batch ending at the checkpoint
    if (failure_) return settle();
    accept(std::move(b));
    pump();
    // Backpressure: a bounded number of batches and bytes; one batch alone may exceed the byte bound.
    while (
        !failure_ && !stopping_ &&
        (queued_.size() > options_.max_in_flight ||
         (held_bytes_ > options_.max_held_bytes && !(active_.empty() && queued_.size() <= 1 && in_flight_.empty())))) {
        wait_for_progress();
    }
    return failure_ || stopping_ ? settle() : ok();
}

void ddb_writer::accept(pipeline::batch&& b) {
    held_bytes_ += b.held_bytes();
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, held_bytes_);
    queued_.push_back(std::move(b));
}

// A batch an earlier run of this load wrote: its rows are counted as that run's responses decided, and the rows
// DynamoDB refused then are rejected again, with the reasons it gave.
void ddb_writer::skip(pipeline::batch&& b) {
    ++stats_.batches_skipped;
    uint64_t written = 0;
    uint64_t deleted = 0;
    for (uint32_t item_idx = 0; item_idx < b.items_info.size(); ++item_idx) {
        const pipeline::batch_item& item = b.items_info[item_idx];
        int32_t version = -1;
        for (;;) {
            const pipeline::stored_origin& origin = version < 0 ? item.origin : b.replaced[version].origin;
            auto refused = earlier_refusals_by_line_.find(origin.line);
            if (refused == earlier_refusals_by_line_.end()) {
                const auto kind = version < 0 ? item.kind : b.replaced[version].kind;
                ++(kind == pipeline::write_kind::DELETE ? deleted : written);
                break;
            }
            record_refusal(b.sequence, origin, b.raw_row(origin), refused->second);
            if (failure_) return;
            version = version < 0 ? item.replaced : b.replaced[version].replaced;
            if (version < 0) break;
            ++stats_.items_revived;
        }
    }
    stats_.items_written += written;
    stats_.items_deleted += deleted;
    stats_.items_skipped += written + deleted;
    last_progress_ = now_();
    // Skipped batches are the first ones of the input, in order. The checkpoint stays the earlier runs' until the
    // replay reaches it: which of the replayed puts were skipped rather than written only its totals know.
    TARIUS_ASSERT(b.sequence == next_sequence_);
    next_sequence_ = b.sequence + 1;
    if (b.end_offset == options_.resume.offset) end_of_resumed_part();
}

// The replay reached the resume point: the rows the earlier runs skipped were counted written by skip(), and the
// batches replayed must be the batches the checkpoint covers.
void ddb_writer::end_of_resumed_part() {
    replaying_ = false;
    const checkpoint& earlier = options_.resume;
    const uint64_t skipped = earlier.skipped_existing + earlier.skipped_stale + earlier.resent_uncertain;
    stats_.items_written -= std::min(stats_.items_written, skipped);
    stats_.items_skipped -= std::min(stats_.items_skipped, skipped);
    stats_.items_skipped_existing += earlier.skipped_existing;
    stats_.items_skipped_stale += earlier.skipped_stale;
    stats_.items_resent_uncertain += earlier.resent_uncertain;
    if (next_sequence_ != options_.resume.batches_done) {
        fail(make_error(errc::CSV_FILE, "the input changed since the earlier run of this load: " +
                                            std::to_string(next_sequence_) + " batches below its checkpoint, " +
                                            std::to_string(options_.resume.batches_done) + " then"));
    }
}

// Moves sealed batches into the active set, in file order; the head waits while an active batch holds one of its
// keys (rows of one key keep file order).
void ddb_writer::activate() {
    while (!queued_.empty() && active_.size() < ACTIVE_PER_IN_FLIGHT * options_.max_in_flight &&
           fresh_.size() < fresh_limit()) {
        pipeline::batch& head = queued_.front();
        bool free = true;
        for (const auto& item : head.items_info) {
            if (keys_held_.count(item.key_hash)) {
                free = false;
                break;
            }
        }
        if (!free) {
            ++stats_.held_back;
            return;
        }
        if (gated_by_saved_checkpoint() && head.end_offset > saved_promise_) {
            // Beyond what the ledger says this run may have sent: wait for the next saved checkpoint.
            waits_for_save_ = true;
            ++stats_.held_back;
            return;
        }
        auto state = std::make_unique<batch_state>();
        sent_through_ = std::max(sent_through_, head.end_offset);
        state->b = std::move(head);
        queued_.pop_front();
        state->open = static_cast<uint32_t>(state->b.items_info.size());
        for (uint32_t item_idx = 0; item_idx < state->b.items_info.size(); ++item_idx) {
            ++keys_held_[state->b.items_info[item_idx].key_hash];
            fresh_.push_back(entry{state->b.sequence, item_idx, -1, 0, {}, false});
        }
        const uint64_t sequence = state->b.sequence;
        active_.emplace(sequence, std::move(state));
    }
}

// ---- requests out ------------------------------------------------------------------------------------------

// Items ready to fill requests: two full requests of batch writes; with one row per request, two per request
// allowed in flight.
size_t ddb_writer::fresh_limit() const noexcept {
    const size_t per_request = options_.strategy->max_entries();
    return per_request > 1 ? 2 * per_request : 2 * options_.max_in_flight;
}

write_entry ddb_writer::view_of(const entry& e) const {
    const pipeline::batch& b = active_.at(e.sequence)->b;
    write_entry out;
    out.json = json_of(e);
    out.kind = kind_of(e);
    out.line = e.version < 0 ? b.items_info[e.item].origin.line : b.replaced[e.version].origin.line;
    if (e.version < 0) out.aux = b.item_aux(e.item);
    return out;
}

std::string_view ddb_writer::json_of(const entry& e) const {
    const pipeline::batch& b = active_.at(e.sequence)->b;
    return e.version < 0 ? b.item_json(e.item) : b.replaced_item_json(b.replaced[e.version]);
}

pipeline::write_kind ddb_writer::kind_of(const entry& e) const {
    const pipeline::batch& b = active_.at(e.sequence)->b;
    return e.version < 0 ? b.items_info[e.item].kind : b.replaced[e.version].kind;
}

double ddb_writer::units_of(const entry& e) const {
    if (kind_of(e) == pipeline::write_kind::DELETE) return std::max(1.0, delete_units_);
    const pipeline::batch& b = active_.at(e.sequence)->b;
    return write_units(e.version < 0 ? b.items_info[e.item].size : b.replaced[e.version].size);
}

// With a budget, a delete whose cost nothing has told yet goes alone: one second's budget must not hold many.
bool ddb_writer::cost_unknown(const entry& e) const {
    return options_.max_wcu_per_second > 0 && delete_units_ <= 0 && kind_of(e) == pipeline::write_kind::DELETE;
}

void ddb_writer::learn_delete_cost(const request& r, double consumed) {
    double put_units = 0;
    double deletes = 0;
    for (const entry& e : r.entries) {
        if (kind_of(e) == pipeline::write_kind::DELETE) {
            ++deletes;
        } else {
            put_units += units_of(e);
        }
    }
    if (deletes == 0) return;
    // No ConsumedCapacity in the answer (DynamoDB always sends it when asked; a stand-in may not): the minimum.
    const double each = consumed > 0 ? std::max(1.0, (consumed - put_units) / deletes) : 1.0;
    // Leaning to the larger: a budget errs on the side of sending less.
    delete_units_ = delete_units_ <= 0 ? each : std::max(each, 0.7 * delete_units_ + 0.3 * each);
}

// Takes the next request's items: a pinned half first, else due resends then fresh items, within 25 items, the
// request size limit and (with a budget) one second's budget — an item costing more goes alone.
bool ddb_writer::assemble(request& out, steady::time_point now) {
    if (!pinned_.empty() && pinned_.front().front().not_before <= now) {
        out.entries = std::move(pinned_.front());
        pinned_.pop_front();
        out.pinned = true;
        for (const entry& e : out.entries) out.charged += units_of(e);
        return true;
    }
    // A request costs at most one second at the current rate (the budget, or the table's capacity when it
    // throttles), so that a slow table still sees steady progress; an item costing more goes alone.
    const double rate = pacer_.rate();
    const double cost_cap = rate > 0 ? rate : INFINITY;
    const size_t byte_cap = pipeline::MAX_BATCH_BYTES - 1024;
    const write_strategy& strategy = *options_.strategy;
    size_t bytes = strategy.request_overhead();
    auto fits = [&](const entry& e) {
        // One delete of unknown cost at a time: its answer tells the cost of the next ones.
        if (cost_unknown(e) && cost_unknown_in_flight_ > 0) return false;
        if (out.entries.empty()) return true;
        if (out.entries.size() == strategy.max_entries()) return false;
        if (cost_unknown(e) || cost_unknown(out.entries.front())) return false;
        return out.charged + units_of(e) <= cost_cap && bytes + strategy.entry_bytes(view_of(e)) <= byte_cap;
    };
    auto take = [&](const entry& e) {
        bytes += strategy.entry_bytes(view_of(e));
        out.charged += units_of(e);
        out.entries.push_back(e);
    };
    for (auto it = retry_.begin(); it != retry_.end();) {
        if (it->not_before > now) {
            ++it;
            continue;
        }
        if (!fits(*it)) break;
        take(*it);
        it = retry_.erase(it);
    }
    out.from_retry = out.entries.size();
    while (!fresh_.empty() && fits(fresh_.front())) {
        take(fresh_.front());
        fresh_.pop_front();
    }
    return !out.entries.empty();
}

// Returns a request's items where they came from (the pacer said "not yet").
void ddb_writer::put_back(request& r) {
    if (r.pinned) {
        pinned_.push_front(std::move(r.entries));
        return;
    }
    for (size_t idx = r.entries.size(); idx > r.from_retry; --idx) fresh_.push_front(r.entries[idx - 1]);
    for (size_t idx = r.from_retry; idx > 0; --idx) retry_.push_front(r.entries[idx - 1]);
}

void ddb_writer::send(request&& r) {
    const write_strategy& strategy = *options_.strategy;
    r.body_bytes = strategy.request_overhead();
    for (const entry& e : r.entries) r.body_bytes += strategy.entry_bytes(view_of(e));
    for (entry& e : r.entries) {
        if (e.attempts++ > 0) ++stats_.items_resent;
    }
    r.cost_unknown =
        std::any_of(r.entries.begin(), r.entries.end(), [this](const entry& e) { return cost_unknown(e); });
    if (r.cost_unknown) ++cost_unknown_in_flight_;
    held_bytes_ += r.body_bytes * BODY_COPIES;
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, held_bytes_);
    pacer_.on_sent(r.charged);
    ++stats_.requests_sent;
    const uint64_t id = next_request_id_++;
    std::vector<write_entry> views;
    views.reserve(r.entries.size());
    for (const entry& e : r.entries) views.push_back(view_of(e));
    in_flight_.emplace(id, std::move(r));
    stats_.peak_in_flight = std::max(stats_.peak_in_flight, in_flight_.size());
    // The callback may run before send returns (a request that cannot even be signed, or one the strategy refuses).
    std::weak_ptr<int> alive = alive_;
    options_.strategy->send(client_, views, [this, alive, id](result<aws::batch_write_result> outcome) {
        if (alive.expired()) return;
        complete(id, std::move(outcome));
    });
}

void ddb_writer::pump() {
    pacer_wait_ = std::chrono::microseconds(0);
    if (failure_ || stopping_) return;
    activate();
    const auto now = now_();
    while (in_flight_.size() < options_.max_in_flight && !failure_ && !stopping_) {
        request r;
        if (!assemble(r, now)) break;
        pacer_wait_ = pacer_.wait_for(r.charged);
        if (pacer_wait_.count() > 0) {
            put_back(r);
            break;
        }
        send(std::move(r));
        activate();
    }
}

// ---- responses in ------------------------------------------------------------------------------------------

namespace {

// Which entries of a request came back in UnprocessedItems, recognised by their canonical keys. False when an
// unprocessed item matches none (then every entry counts as unprocessed: sending a put twice is harmless,
// counting one that was not written is not).
bool mark_unprocessed(const std::string& unprocessed_json, const mapping::key_schema& keys,
                      const std::vector<std::string_view>& entry_keys, std::vector<bool>& unprocessed) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(unprocessed_json).get(doc) != simdjson::SUCCESS) return false;
    simdjson::dom::object tables;
    if (doc.get_object().get(tables) != simdjson::SUCCESS) return false;
    std::string key;
    for (auto table : tables) {
        simdjson::dom::array requests;
        if (table.value.get_array().get(requests) != simdjson::SUCCESS) return false;
        for (simdjson::dom::element request : requests) {
            simdjson::dom::element item;
            // A put comes back with its item, a delete with its key: both hold the key attributes.
            if (request["PutRequest"]["Item"].get(item) != simdjson::SUCCESS &&
                request["DeleteRequest"]["Key"].get(item) != simdjson::SUCCESS) {
                return false;
            }
            key.clear();
            if (!mapping::detail::append_item_key(keys, item, key)) return false;
            bool found = false;
            for (size_t idx = 0; idx < entry_keys.size() && !found; ++idx) {
                if (!unprocessed[idx] && entry_keys[idx] == key) found = unprocessed[idx] = true;
            }
            if (!found) return false;
        }
    }
    return true;
}

}  // namespace

void ddb_writer::complete(uint64_t request_id, result<aws::batch_write_result> outcome) {
    auto node = in_flight_.extract(request_id);
    if (node.empty()) return;
    request r = std::move(node.mapped());
    if (r.cost_unknown) --cost_unknown_in_flight_;
    held_bytes_ -= r.body_bytes * BODY_COPIES;
    if (outcome) {
        const aws::batch_write_result& answer = *outcome;
        std::vector<bool> unprocessed(r.entries.size(), false);
        if (answer.unprocessed_count > 0) {
            std::vector<std::string_view> keys;
            keys.reserve(r.entries.size());
            for (const entry& e : r.entries) keys.push_back(active_.at(e.sequence)->b.item_key(e.item));
            if (!mark_unprocessed(answer.unprocessed_items, options_.keys, keys, unprocessed)) {
                std::fill(unprocessed.begin(), unprocessed.end(), true);
            }
        }
        double accepted_units = 0;
        for (size_t idx = 0; idx < r.entries.size(); ++idx) {
            if (!unprocessed[idx]) accepted_units += units_of(r.entries[idx]);
        }
        stats_.wcu_consumed += answer.consumed_capacity;
        if (answer.unprocessed_count == 0) learn_delete_cost(r, answer.consumed_capacity);
        const bool throttled = answer.unprocessed_count > 0 || answer.throttled_attempts > 0;
        if (throttled) ++stats_.requests_throttled;
        pacer_.on_response(r.charged, answer.consumed_capacity > 0 ? answer.consumed_capacity : accepted_units,
                           throttled);
        for (size_t idx = 0; idx < r.entries.size(); ++idx) {
            if (unprocessed[idx]) {
                resend(r.entries[idx], true);
            } else {
                on_written(r.entries[idx]);
            }
        }
        return;
    }
    const error& err = outcome.err();
    switch (aws::classify(err, aws::call_scope::ITEM_WRITE)) {
        case aws::error_class::THROTTLED:
        case aws::error_class::TRANSIENT: {
            const bool throttled = aws::classify(err, aws::call_scope::ITEM_WRITE) == aws::error_class::THROTTLED;
            if (throttled) {
                ++stats_.requests_throttled;
            } else {
                ++stats_.requests_failed;
            }
            // A throttled request consumed nothing. A failed one (a 5xx, a reset, a timeout) may have been written
            // before the answer was lost: its units stay charged, so what reaches the table never exceeds the budget
            // however often it is sent again.
            if (throttled) pacer_.on_response(r.charged, 0, true);
            for (entry& e : r.entries) e.maybe_landed = e.maybe_landed || !throttled;
            if (r.pinned) {
                if (failure_ || stopping_) return;
                for (entry& e : r.entries) e.not_before = now_() + backoff(e.attempts);
                pinned_.push_back(std::move(r.entries));
                return;
            }
            for (const entry& e : r.entries) resend(e, throttled);
            return;
        }
        case aws::error_class::ITEM: {
            pacer_.on_failed(r.charged);
            if (r.entries.size() == 1) {
                on_refused(r.entries.front(), err.service && !err.service->message.empty()
                                                  ? err.service->code + ": " + err.service->message
                                                  : err.message);
                return;
            }
            // DynamoDB validates a whole request before writing any of it: split it until the refused item
            // stands alone. Both halves go next, alone, before anything else.
            ++stats_.bisections;
            if (failure_ || stopping_) return;
            const auto middle = r.entries.begin() + static_cast<std::ptrdiff_t>(r.entries.size() / 2);
            for (entry& e : r.entries) e.not_before = {};
            pinned_.push_front(std::vector<entry>(middle, r.entries.end()));
            pinned_.push_front(std::vector<entry>(r.entries.begin(), middle));
            return;
        }
        case aws::error_class::CONDITION: {
            const std::optional<skip_reason> why = options_.strategy->when_condition_fails();
            if (!why || r.entries.size() != 1) {
                fail(err);  // a condition this writer never sent
                return;
            }
            // DynamoDB charges a write whose condition failed, and reports nothing: the row's own cost (the
            // stored item may be larger), counted apart as an estimate.
            const double units = units_of(r.entries.front());
            stats_.wcu_consumed += units;
            stats_.wcu_estimated += units;
            pacer_.on_response(r.charged, units, false);
            on_skipped(r.entries.front(), *why);
            return;
        }
        case aws::error_class::RECORD:
        case aws::error_class::FATAL: fail(err); return;
    }
}

void ddb_writer::resend(entry e, bool throttled) {
    if (failure_ || stopping_) return;  // abandoned: not counted, and beyond the checkpoint
    // Items the table handed back for capacity are due at once: the pacer already cut the rate to what the table
    // accepts, and a jittered backoff per item would scatter them into many small requests (each one a request
    // more) instead of merging them, in order, into the next full ones. Faults back off.
    e.not_before = throttled && options_.follow_capacity ? now_() : now_() + backoff(e.attempts);
    retry_.push_back(e);
}

void ddb_writer::on_written(const entry& e) {
    batch_state& state = *active_.at(e.sequence);
    if (kind_of(e) == pipeline::write_kind::DELETE) {
        ++stats_.items_deleted;
    } else {
        ++stats_.items_written;
        ++state.fates.items_written;
    }
    last_progress_ = now_();
    finish_item(state);
}

void ddb_writer::on_skipped(const entry& e, skip_reason why) {
    batch_state& state = *active_.at(e.sequence);
    const pipeline::batch_item& item = state.b.items_info[e.item];
    const uint64_t offset = (e.version < 0 ? item.origin : state.b.replaced[e.version].origin).byte_offset;
    const bool sent_by_stopped_run = offset < options_.resume.uncertain_through;
    if ((e.maybe_landed && !options_.strategy->skip_is_certain_after_resend(false)) ||
        (sent_by_stopped_run && !options_.strategy->skip_is_certain_after_resend(true))) {
        // An earlier send of this row may have written it (and a later row of its key may have been written over
        // it since), or found the condition false too.
        ++stats_.items_resent_uncertain;
        ++state.fates.resent_uncertain;
    } else if (why == skip_reason::EXISTING) {
        ++stats_.items_skipped_existing;
        ++state.fates.skipped_existing;
    } else {
        ++stats_.items_skipped_stale;
        ++state.fates.skipped_stale;
    }
    last_progress_ = now_();
    finish_item(state);
}

void ddb_writer::on_refused(const entry& e, const std::string& message) {
    batch_state& state = *active_.at(e.sequence);
    const pipeline::batch& b = state.b;
    const pipeline::batch_item& item = b.items_info[e.item];
    const pipeline::stored_origin& origin = e.version < 0 ? item.origin : b.replaced[e.version].origin;
    last_progress_ = now_();
    record_refusal(e.sequence, origin, b.raw_row(origin), message);
    // Writing the rows one by one would have left the row this one replaced in the table: send that instead.
    const int32_t earlier = e.version < 0 ? item.replaced : b.replaced[e.version].replaced;
    if (earlier >= 0) {
        // Stopping or failed: the batch stays open, below the checkpoint, so that a resumed load sends it again
        // (the refusal, in this unfinished batch, is not in the checkpoint) and writes the earlier row then.
        if (failure_ || stopping_) return;
        ++stats_.items_revived;
        retry_.push_front(entry{e.sequence, e.item, earlier, 0, {}, false});
        return;
    }
    finish_item(state);
}

// A row DynamoDB refused: counted, kept for the checkpoint (a resumed load rejects it again without sending it),
// handed to the rejects.
void ddb_writer::record_refusal(uint64_t sequence, const pipeline::stored_origin& origin, std::string_view raw,
                                const std::string& message) {
    row_problem problem;
    problem.reason = reject_reason::REFUSED_BY_DYNAMODB;
    problem.line = origin.line;
    problem.byte_offset = origin.byte_offset;
    problem.message = message;
    ++stats_.items_refused;
    refusals_.push_back({sequence, refusal{origin.line, message}});
    if (on_refused_) {
        auto handled = on_refused_(problem, raw);
        if (!handled) fail(handled.err());
    }
    if (stats_.items_refused > options_.max_refusals) {
        fail(make_error(errc::LIMIT, "DynamoDB refused more than " + std::to_string(options_.max_refusals) +
                                         " rows of this file (the last at line " + std::to_string(origin.line) + ": " +
                                         message + "); the table does not accept this file's items"));
    }
}

void ddb_writer::finish_item(batch_state& state) {
    if (--state.open == 0) finish_batch(state.b.sequence);
}

void ddb_writer::finish_batch(uint64_t sequence) {
    auto node = active_.extract(sequence);
    batch_state& state = *node.mapped();
    std::vector<uint64_t> keys;
    keys.reserve(state.b.items_info.size());
    for (const auto& item : state.b.items_info) keys.push_back(item.key_hash);
    // A newer feed's later row of a key waits until the checkpoint covers this batch: should the load stop, a row
    // the resumed load sends again has no later row of its key written after it, so its fate comes out the same.
    if (!options_.strategy->orders_keys_by_checkpoint()) release_keys(keys);
    held_bytes_ -= state.b.held_bytes();
    done_out_of_order_[sequence] = {state.b.end_offset, state.b.end_line};
    fates_by_batch_[sequence] = {state.fates, std::move(keys)};
    // The checkpoint advances over the contiguous prefix of finished batches.
    while (!done_out_of_order_.empty() && done_out_of_order_.begin()->first == next_sequence_) {
        checkpoint_.offset = done_out_of_order_.begin()->second.first;
        checkpoint_.line = done_out_of_order_.begin()->second.second;
        const auto& [fates, batch_keys] = fates_by_batch_[next_sequence_];
        checkpoint_.items_written += fates.items_written;
        checkpoint_.skipped_existing += fates.skipped_existing;
        checkpoint_.skipped_stale += fates.skipped_stale;
        checkpoint_.resent_uncertain += fates.resent_uncertain;
        if (options_.strategy->orders_keys_by_checkpoint()) release_keys(batch_keys);
        ++checkpoint_.batches_done;
        done_out_of_order_.erase(done_out_of_order_.begin());
        fates_by_batch_.erase(next_sequence_);
        ++next_sequence_;
    }
}

void ddb_writer::release_keys(const std::vector<uint64_t>& keys) {
    for (const uint64_t key_hash : keys) {
        auto it = keys_held_.find(key_hash);
        if (it != keys_held_.end() && --it->second == 0) keys_held_.erase(it);
    }
}

// Where a resumed run stops trusting a false condition on a row this run may have sent (see checkpoint). Saved,
// it is also how far this run may send until the next save (gated_by_saved_checkpoint).
uint64_t ddb_writer::uncertain_through() const noexcept {
    const bool conditional = options_.strategy->when_condition_fails().has_value();
    if (!conditional || options_.strategy->skip_is_certain_after_resend(true)) return 0;
    // Stopped, nothing more is sent: with the marker, no row above the checkpoint has a later row of its key
    // written over it (that row waits for the checkpoint), so its fate comes out the same when sent again.
    if ((stopping_ || failure_) && options_.strategy->skip_is_certain_after_resend(false)) return 0;
    if (!gated_by_saved_checkpoint()) return sent_through_;
    return std::max(saved_promise_, sent_through_ + UNCERTAIN_WINDOW_BYTES);
}

// A resumable load whose false conditions on rows sent again do not tell their fate: its rows go no further than
// the ledger says.
bool ddb_writer::gated_by_saved_checkpoint() const noexcept {
    return options_.checkpoints_saved && options_.strategy->when_condition_fails().has_value() &&
           !options_.strategy->skip_is_certain_after_resend(true);
}

void ddb_writer::checkpoint_saved(const checkpoint& at) noexcept {
    saved_promise_ = std::max(saved_promise_, at.uncertain_through);
    waits_for_save_ = false;
}

checkpoint ddb_writer::current_checkpoint() const {
    checkpoint out = checkpoint_;
    out.uncertain_through = std::max(checkpoint_.uncertain_through, uncertain_through());
    out.work = options_.resume.work;
    out.work.requests += stats_.requests_sent;
    out.work.requests_throttled += stats_.requests_throttled;
    out.work.wcu_consumed += stats_.wcu_consumed;
    out.work.wcu_estimated += stats_.wcu_estimated;
    out.work.seconds += std::chrono::duration<double>(now_() - started_).count();
    for (const auto& [sequence, r] : refusals_) {
        if (sequence < next_sequence_) out.refused.push_back(r);
    }
    if (replaying_) out.refused = options_.resume.refused;  // the earlier runs' checkpoint stands as it was
    return out;
}

// ---- waiting -----------------------------------------------------------------------------------------------

std::chrono::milliseconds ddb_writer::backoff(uint32_t attempts) {
    // Exponential backoff with full jitter (xorshift: deterministic for a seed).
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 7;
    jitter_state_ ^= jitter_state_ << 17;
    const double unit = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ULL << 53);
    const double exponent = std::min<double>(attempts > 0 ? attempts - 1 : 0, 20);
    const double cap = std::min(static_cast<double>(options_.retry_max_delay.count()),
                                static_cast<double>(options_.retry_base_delay.count()) * std::pow(2.0, exponent));
    return std::chrono::milliseconds(static_cast<int64_t>(unit * cap));
}

void ddb_writer::check_progress() {
    const bool work_left = !queued_.empty() || !active_.empty();
    if (!work_left || failure_ || stopping_) return;
    const auto idle = now_() - last_progress_;
    if (idle < options_.no_progress_limit) return;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(idle).count();
    fail(make_error(errc::SERVICE,
                    "no row written or rejected for " + std::to_string(seconds) + " s (" +
                        std::to_string(stats_.requests_throttled) + " requests throttled, " +
                        std::to_string(stats_.requests_failed) + " failed); stopping with the checkpoint saved",
                    true));
}

void ddb_writer::wait_for_progress() {
    auto now = now_();
    if (tick_ && now - last_tick_ >= options_.tick_every) {
        last_tick_ = now;
        auto ticked = tick_();
        if (!ticked) {
            if (ticked.err().code == errc::CANCELLED) {
                stop();
            } else {
                fail(ticked.err());
            }
            return;
        }
    }
    // Waiting for the budget is the load going as fast as it was asked to: not a stall.
    if (pacer_wait_.count() > 0 && pacer_.budget_bound()) last_progress_ = now;
    check_progress();
    pump();
    // Sleep until something can happen: a response, the pacer's next slot, a resend's backoff, the next tick.
    std::chrono::milliseconds wait =
        std::min<std::chrono::milliseconds>(options_.tick_every, std::chrono::milliseconds(20));
    if (pacer_wait_.count() > 0) {
        wait =
            std::clamp(std::chrono::ceil<std::chrono::milliseconds>(pacer_wait_), std::chrono::milliseconds(1), wait);
    } else if (in_flight_.empty()) {
        wait = std::min(wait, std::chrono::milliseconds(2));
    }
    if (!in_flight_.empty()) {
        client_.poll(wait);
    } else {
        std::this_thread::sleep_for(wait);
    }
    pump();
}

void ddb_writer::fail(error e) {
    if (failure_) return;
    failure_ = std::move(e);
    stop_deadline_ = now_() + options_.stop_grace;
}

void ddb_writer::stop() noexcept {
    if (stopping_) return;
    stopping_ = true;
    if (!failure_) stop_deadline_ = now_() + options_.stop_grace;
}

// After a stop or a failure: let what is in flight land (its acknowledgements count) for at most the grace period.
result<void> ddb_writer::settle() {
    while (!in_flight_.empty() && now_() < stop_deadline_) client_.poll(std::chrono::milliseconds(20));
    if (failure_) return *failure_;
    return make_error(errc::CANCELLED, "load stopped");
}

result<void> ddb_writer::drain() {
    if (replaying_ && !failure_ && !stopping_) end_of_resumed_part();  // the input ended before the checkpoint
    while (!failure_ && !stopping_ && (!queued_.empty() || !active_.empty())) wait_for_progress();
    if (failure_ || stopping_) return settle();
    return ok();
}

}  // namespace tarius::loader
