#include "loader/load_pipeline.hpp"

#include <algorithm>

#include <simdjson.h>

#include <fstream>

#include "mapping/codec.hpp"
#include "mapping/item_key.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/pipeline/engine.hpp"

namespace tarius::loader::detail {
namespace {

using steady = std::chrono::steady_clock;

// How often a heartbeat that failed (the ledger did not answer) is tried again.
constexpr std::chrono::seconds HEARTBEAT_RETRY{1};
// How soon a heartbeat may follow the last attempt when the writer waits for a saved checkpoint.
constexpr std::chrono::milliseconds EARLY_HEARTBEAT{200};

// Passes sealed batches to the writer and remembers how far they reach, for progress reports.
class counting_batch_sink final : public pipeline::batch_sink {
public:
    explicit counting_batch_sink(pipeline::batch_sink& next) : next_(next) {}

    result<void> on_batch(pipeline::batch&& b) override {
        items_ += b.items;
        end_offset_ = b.end_offset;
        end_line_ = b.end_line;
        return next_.on_batch(std::move(b));
    }

    uint64_t items() const noexcept { return items_; }
    uint64_t end_offset() const noexcept { return end_offset_; }
    uint64_t end_line() const noexcept { return end_line_; }

private:
    pipeline::batch_sink& next_;
    uint64_t items_ = 0;
    uint64_t end_offset_ = 0;
    uint64_t end_line_ = 1;
};

// The load's periodic duties, run from the read loop (every slice of input) and from the writer (every tick
// while it waits): the stop check, the checkpoint and lease heartbeat, and progress reports.
class load_ticker {
public:
    load_ticker(const loader_config& config, const pipeline_request& request, steady::time_point started)
        : config_(config), request_(request), started_(started), last_heartbeat_(started), last_report_(started) {}

    void attach(ddb_writer& writer, counting_batch_sink& batches) {
        writer_ = &writer;
        batches_ = &batches;
    }
    void add_bytes(uint64_t n) noexcept { bytes_read_ += n; }
    [[nodiscard]] bool stop_requested() const { return request_.stop && request_.stop(); }
    [[nodiscard]] uint64_t bytes_read() const noexcept { return bytes_read_; }

    result<void> tick() {
        if (request_.stop && request_.stop()) return make_error(errc::CANCELLED, "stopped on request");
        const auto now = steady::now();
        const bool due = writer_ && (now - last_heartbeat_ >= config_.heartbeat_every ||
                                     (writer_->wants_checkpoint_saved() && now - last_attempt_ >= EARLY_HEARTBEAT));
        if (request_.heartbeat && due) {
            last_attempt_ = now;
            const checkpoint at = writer_->current_checkpoint();
            auto beat = request_.heartbeat(at);
            if (beat) {
                last_heartbeat_ = now;
                writer_->checkpoint_saved(at);
            } else if (beat.err().code == errc::CONFLICT) {
                return beat;  // another owner took the load over: stop without touching its record
            } else {
                // The ledger did not answer: keep loading and try again soon; the lease outlives a few misses.
                log_entry("warn", "heartbeat failed; trying again").with("error", beat.err().message);
                last_heartbeat_ = now - config_.heartbeat_every + HEARTBEAT_RETRY;
            }
        }
        if (request_.options.progress && now - last_report_ >= request_.options.progress_every) {
            last_report_ = now;
            request_.options.progress(progress(false, nullptr));
        }
        return ok();
    }

    load_progress progress(bool done, const pipeline_result* final_result) const {
        load_progress p;
        p.source = request_.source;
        p.bytes_read = bytes_read_;
        p.total_bytes = request_.total_bytes;
        const uint64_t header_lines = config_.dialect.has_header ? 1 : 0;
        if (batches_) {
            p.decoded_bytes = batches_->end_offset();
            const uint64_t lines = batches_->end_line() - 1;
            p.rows = lines > header_lines ? lines - header_lines : 0;
            p.items_batched = batches_->items();
        }
        if (writer_) {
            const writer_stats& ws = writer_->stats();
            p.items_written = ws.items_written - ws.items_skipped;
            p.throttles = ws.requests_throttled;
            p.throttled_share = ws.requests_sent
                                    ? static_cast<double>(ws.requests_throttled) / static_cast<double>(ws.requests_sent)
                                    : 0;
            p.rate_limit = writer_->rate();
            p.budget_wcu = config_.writer.max_wcu_per_second;
            p.wcu_consumed = ws.wcu_consumed;
            const write_pacer& pacer = writer_->pacer();
            p.table_limited = pacer.table_limited();
            p.table_capacity = pacer.stats().capacity_estimate;
            p.recent_handed_back = pacer.recent_throttled_share();
            p.demand_wcu = pacer.stats().peak_unthrottled;
        }
        p.elapsed_seconds = std::chrono::duration<double>(steady::now() - started_).count();
        if (p.elapsed_seconds > 0 && writer_) p.wcu_per_second = writer_->stats().wcu_consumed / p.elapsed_seconds;
        if (final_result) {
            p.decoded_bytes = std::max(p.decoded_bytes, final_result->counts.bytes);
            p.rows = final_result->counts.rows;
            p.rows_rejected = final_result->counts.rejected;
        }
        p.done = done;
        return p;
    }

private:
    const loader_config& config_;
    const pipeline_request& request_;
    steady::time_point started_;
    steady::time_point last_heartbeat_;
    steady::time_point last_attempt_{};
    steady::time_point last_report_;
    ddb_writer* writer_ = nullptr;
    counting_batch_sink* batches_ = nullptr;
    uint64_t bytes_read_ = 0;
};

// Forwards the input into the engine in slices, so that the stop check, the heartbeat and progress run often
// even when the producer hands over megabytes at once.
class ticking_sink final : public byte_sink {
public:
    static constexpr size_t SLICE = 64 * 1024;

    ticking_sink(byte_sink& next, load_ticker& ticker) : next_(next), ticker_(ticker) {}

    result<void> write(std::string_view chunk) override {
        while (!chunk.empty()) {
            if (auto ticked = ticker_.tick(); !ticked) return stop_reading(std::move(ticked).err());
            const std::string_view slice = chunk.substr(0, SLICE);
            chunk.remove_prefix(slice.size());
            ticker_.add_bytes(slice.size());
            if (auto written = next_.write(slice); !written) return stop_reading(std::move(written).err());
        }
        return ok();
    }
    result<void> finish() override { return next_.finish(); }
    // A download that stalls gives no chunk to tick on: the deadline still ends it.
    bool stop_requested() override {
        if (!ticker_.stop_requested()) return false;
        if (!failure_) failure_ = make_error(errc::CANCELLED, "stopped on request");
        return true;
    }

    /// Why the load stopped reading, when it did (the producer only sees that it must stop).
    [[nodiscard]] const std::optional<error>& failure() const noexcept { return failure_; }

private:
    // The producer (an S3 download) must neither retry nor take the blame: it gets a plain "stop", the pipeline
    // keeps the cause.
    result<void> stop_reading(error cause) {
        failure_ = std::move(cause);
        return make_error(errc::CANCELLED, "the load stopped reading: " + failure_->message);
    }

    byte_sink& next_;
    load_ticker& ticker_;
    std::optional<error> failure_;
};

// Collects the rows DynamoDB refused into the rejects and the first errors, and enforces --max-rejects over
// both kinds of rejects.
struct refusal_collector {
    const loader_config& config;
    pipeline::rejects_writer* rejects;
    pipeline::engine* engine = nullptr;
    std::vector<row_problem> problems;  // the first ones
    uint64_t count = 0;

    result<void> operator()(const row_problem& problem, std::string_view raw) {
        ++count;
        if (problems.size() < config.max_errors_listed) problems.push_back(problem);
        if (rejects) TARIUS_TRY(rejects->reject(problem, raw, true));
        const uint64_t total = count + (engine ? engine->current_summary().rows_rejected : 0);
        if (total > config.max_rejects) {
            return make_error(errc::LIMIT, "more than " + std::to_string(config.max_rejects) +
                                               " rows rejected; stopping the file (see the rejects for reasons)");
        }
        return ok();
    }
};

// A snapshot's deletes of the keys its file no longer holds, after the rows: batches that continue the input's
// (their offsets and lines past its end, deterministic), so the checkpoint covers them and a resumed load deletes
// each key once.
result<void> send_deletes(const snapshot::plan& plan, const pipeline::summary& input, const std::string& table,
                          const mapping::key_schema& keys, pipeline::batch_sink& sink) {
    std::ifstream deletes(plan.deletes_path);
    if (!deletes) return make_error(errc::IO, "snapshot: cannot read " + plan.deletes_path);
    pipeline::batcher batches(table, sink);
    batches.start_at(input.batches, input.bytes_in, input.bytes_in + 1);
    simdjson::dom::parser parser;
    mapping::encoded_item key;
    std::string line;
    uint64_t index = 0;
    while (std::getline(deletes, line)) {
        simdjson::dom::element json;
        key.key.clear();
        if (parser.parse(line).get(json) != simdjson::SUCCESS ||
            !mapping::detail::append_item_key(keys, json, key.key)) {
            return make_error(errc::INTERNAL, "snapshot: a key to delete is malformed: " + line);
        }
        key.key_hash = mapping::detail::hash64(key.key);
        key.size = line.size();
        ++index;
        const uint64_t end = input.bytes_in + index;
        TARIUS_TRY(
            batches.add(key, line, end, end + 1, pipeline::row_origin{{}, end, end - 1}, pipeline::write_kind::DELETE));
    }
    return batches.flush();
}

load_counts count_of(const pipeline::summary& s, const writer_stats& ws, const pacer_stats& pacing,
                     const load_work& earlier, double seconds, const snapshot::plan* snapshot) {
    load_counts c;
    c.rows = s.rows_read;
    c.items_written = ws.items_written;
    c.deleted = ws.items_deleted;
    if (snapshot) {
        // A snapshot's deletes are items its file no longer holds, not rows of it. The rows it did not send are
        // the earlier rows of a key (collapsed) and the unchanged ones.
        c.absent_deleted = c.deleted;
        c.deleted = 0;
        const uint64_t collapsed = std::min(snapshot->counts.collapsed, s.rows_unchanged);
        c.duplicates_collapsed += collapsed;
        c.unchanged = s.rows_unchanged - collapsed;
    }
    c.rejected = s.rows_rejected + ws.items_refused;
    c.rejected_by_reason = s.rejected_by_reason;
    c.rejected_by_reason[static_cast<size_t>(reject_reason::REFUSED_BY_DYNAMODB)] += ws.items_refused;
    // A replaced row whose replacement DynamoDB refused was written (or refused) itself: no longer collapsed.
    c.duplicates_collapsed += s.duplicates_collapsed - std::min(s.duplicates_collapsed, ws.items_revived);
    c.skipped_existing = ws.items_skipped_existing;
    c.skipped_stale = ws.items_skipped_stale;
    c.resent_uncertain = ws.items_resent_uncertain;
    c.not_loaded = c.rows > c.accounted() ? c.rows - c.accounted() : 0;
    c.blank_lines = s.blank_lines;
    c.bytes = s.bytes_in;
    c.compressed_bytes = s.compressed_bytes_in;
    c.compression = s.compression;
    c.requests = earlier.requests + ws.requests_sent;
    c.requests_throttled = earlier.requests_throttled + ws.requests_throttled;
    c.wcu_consumed = earlier.wcu_consumed + ws.wcu_consumed;
    c.wcu_estimated = earlier.wcu_estimated + ws.wcu_estimated;
    c.table_capacity_wcu = pacing.capacity_estimate;
    c.demand_wcu = pacing.peak_unthrottled;
    c.write_seconds = earlier.seconds + seconds;
    c.seconds = earlier.seconds + seconds;
    return c;
}

}  // namespace

pipeline_result run_pipeline(const loader_config& config, aws::dynamodb_client& writer_client,
                             const pipeline_request& request) {
    const auto started = steady::now();
    pipeline_result out;
    load_ticker ticker(config, request, started);
    refusal_collector refusals{config, request.rejects, nullptr, {}, 0};

    writer_options wopts = config.writer;
    wopts.table = config.table;
    wopts.keys = request.keys;
    wopts.stop_grace = request.options.stop_grace;
    wopts.resume = request.resume;
    wopts.strategy = make_write_strategy(config.writes, config.table, request.keys, request.load_id);
    wopts.max_refusals = std::min(wopts.max_refusals, request.max_refusals);
    wopts.checkpoints_saved = static_cast<bool>(request.heartbeat);
    ddb_writer writer(writer_client, wopts, std::ref(refusals), [&ticker] { return ticker.tick(); });
    counting_batch_sink batches(writer);
    ticker.attach(writer, batches);

    pipeline::engine_options options;
    options.source = request.source;
    options.table = config.table;
    options.dialect = config.dialect;
    options.mapping = config.mapping;
    options.keys = request.keys;
    options.max_errors_listed = config.max_errors_listed;
    options.max_rejects = config.max_rejects;
    options.keep_rows = true;
    options.operation = config.operation;
    options.version = config.version;
    options.duplicates = wopts.strategy->collapses_duplicates() ? pipeline::duplicate_policy::COLLAPSE
                                                                : pipeline::duplicate_policy::SEAL;
    options.keep_removed = config.writes.method == write_method::MERGE;
    if (request.snapshot) {
        const snapshot::plan* plan = request.snapshot;
        options.send_row = [plan](uint64_t line) { return plan->to_write.contains(line); };
    }
    options.finish_rejects = false;
    // Several requests in flight must fit the memory bound: a request body takes at most an eighth of it.
    options.max_batch_bytes = std::clamp<size_t>(config.writer.max_held_bytes / 8, 1 << 20, pipeline::MAX_BATCH_BYTES);
    auto eng = pipeline::engine::create(std::move(options), batches, request.rejects);
    if (!eng) {
        out.failure = eng.err();
        return out;
    }
    refusals.engine = eng->get();

    ticking_sink input((*eng)->input(), ticker);
    auto pumped = request.pump(input);
    if (pumped) pumped = input.finish();
    if (pumped && request.snapshot) {
        pumped = send_deletes(*request.snapshot, (*eng)->current_summary(), config.table, request.keys, batches);
    }
    if (!pumped) {
        out.failure = input.failure() ? *input.failure() : pumped.err();
        // A stop (or the writer's own failure) ends the writes; a bad input does not: the rows read before it
        // are written, so the report of a failed file says exactly what reached the table.
        if (out.failure->code == errc::CANCELLED) writer.stop();
    }
    auto drained = writer.drain();
    if (!drained && !out.failure) out.failure = drained.err();
    if (request.rejects) {
        auto closed = request.rejects->finish();
        if (!closed && !out.failure) out.failure = closed.err();
    }

    const pipeline::summary& s = (*eng)->current_summary();
    const double seconds = std::chrono::duration<double>(steady::now() - started).count();
    out.counts = count_of(s, writer.stats(), writer.pacing(), request.resume.work, seconds, request.snapshot);
    out.first_errors = s.first_errors;
    for (const row_problem& p : refusals.problems) {
        if (out.first_errors.size() >= config.max_errors_listed) break;
        out.first_errors.push_back(p);
    }
    out.resume = writer.current_checkpoint();
    if (request.options.progress) request.options.progress(ticker.progress(true, &out));
    return out;
}

}  // namespace tarius::loader::detail
