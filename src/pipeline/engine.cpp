#include "tarius/pipeline/engine.hpp"

#include "csv/spin_wait.hpp"
#include "mapping/number.hpp"
#include "mapping/timestamp.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tarius::pipeline {
namespace {

// "a, b, c" (names of columns or values, for messages).
std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "(any other value)" : out;
}

// "\"D\", \"X\"" (cell values, quoted so that an empty one shows).
std::string quote_values(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& value : values) out += (out.empty() ? "\"" : ", \"") + value + "\"";
    return out.empty() ? "(any other value)" : out;
}

std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Two-thread mode: parsed rows travel from the scanning thread to the encoding thread in blocks: one input chunk
// read straight into the block (see input_buffer), or about BLOCK_BYTES of copied rows and unescaped values.
// At most BLOCKS blocks exist at once: one being filled, one being encoded, the rest queued. Memory is bounded
// by BLOCKS * (chunk + BLOCK_BYTES + the largest row + the rows' offsets).
constexpr size_t BLOCK_BYTES = size_t{256} << 10;
constexpr size_t BLOCKS = 16;
// Blocks address their bytes with 32-bit offsets; rows are capped at max_row_size, so this is always enough
// when the cap is below this (larger caps run on one thread).
constexpr size_t MAX_PARALLEL_ROW = size_t{256} << 20;

// The reader's counters that the summary reports, as they were when a row was handed over. When encoding stops
// at a row (a sink error, too many rejects), the summary shows these, like the one-thread run that stops there.
struct stats_snapshot {
    uint64_t rows = 0;
    uint64_t blank_lines = 0;
    uint64_t bytes = 0;      // decoded bytes the reader had been given
    uint64_t raw_bytes = 0;  // bytes the engine had been given
};

// Offsets into a block address two areas: the input chunk the caller read straight into the block (see
// byte_sink::input_buffer), and, with this bit set, `data` (rows copied from elsewhere, unescaped values).
constexpr uint32_t IN_DATA = uint32_t{1} << 31;
// The largest input area a block offers.
constexpr size_t MAX_INPUT_AREA = size_t{64} << 20;

// A field of a packed row: where its value is in the block, its size, and whether it was quoted (QUOTED set
// in `size_quoted`; fields are at most max_field_size < MAX_PARALLEL_ROW bytes).
struct packed_field {
    uint32_t offset;
    uint32_t size_quoted;
};
constexpr uint32_t QUOTED = uint32_t{1} << 31;

// A row as the reader handed it over, with its views turned into offsets into the block.
struct packed_row {
    uint32_t raw_offset;
    uint32_t raw_size;
    uint32_t field_begin;  // first field in row_block::fields
    uint32_t field_count;
    int32_t problem;  // index in row_block::problems for a row the reader rejected, -1 for a good row
    bool raw_complete;
    bool in_finish;  // handed over by finish() (the last rows), not by a write()
    uint64_t line;
    uint64_t byte_offset;
    uint64_t end_offset;
    uint64_t end_line;
    stats_snapshot stats;
};

struct row_block {
    std::unique_ptr<char[]> input;  // the input area: a chunk read by the caller straight into the block
    size_t input_capacity = 0;
    bool input_used = false;  // rows of this block point into `input`: it must travel with them
    std::string data;
    std::vector<packed_row> rows;
    std::vector<packed_field> fields;
    std::vector<row_problem> problems;

    void clear() {
        input_used = false;
        data.clear();
        rows.clear();
        fields.clear();
        problems.clear();
    }

    [[nodiscard]] const char* at(uint32_t offset) const noexcept {
        return (offset & IN_DATA) != 0 ? data.data() + (offset & ~IN_DATA) : input.get() + offset;
    }
};

}  // namespace

struct engine::impl final : csv::row_sink, byte_sink {
    engine_options options;
    mapping::key_schema keys;
    batcher batches;
    rejects_writer* rejects;
    csv::reader reader;
    std::unique_ptr<byte_sink> decoder;
    uint64_t raw_bytes = 0;
    std::optional<error> failure;
    std::optional<mapping::item_encoder> encoder;
    size_t operation_column = SIZE_MAX;  // index of options.operation's column in the header
    size_t version_column = SIZE_MAX;    // index of options.version's column in the header
    std::string version_json;            // the row's version as DynamoDB JSON ({"N":"12"})
    std::string version_message;
    uint64_t rows_unchanged = 0;         // rows options.send_row held back
    mapping::encoded_item rejected_key;  // the key of a rejected row (options.on_rejected_key)
    row_problem rejected_key_problem;
    mapping::encoded_item item;
    row_problem problem;
    summary totals;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    bool finished = false;
    bool rejects_closed = false;  // finished early: the reject limit stopped the file

    // Two-thread mode. The scanning side (the caller's thread) owns `filling`; everything else below is
    // shared under `mutex`. The encoding side owns `item`, `problem`, `encoder`, `batches`, `rejects` and the
    // counts in `totals` while it runs; the caller touches them again only after joining it.
    bool parallel = false;
    std::thread worker;
    std::mutex mutex;
    std::condition_variable ready_changed;  // a block was queued, or the input ended
    std::condition_variable free_changed;   // a block came back, or encoding stopped
    std::deque<std::unique_ptr<row_block>> ready;
    std::vector<std::unique_ptr<row_block>> free_blocks;
    std::unique_ptr<row_block> filling;
    bool input_done = false;
    bool abandon = false;
    std::atomic<bool> worker_failed{false};
    // Lock-free hints for spin_until, kept equal to ready.size(), free_blocks.size() and input_done || abandon
    // (written under `mutex`; the condition variables stay the source of truth).
    std::atomic<size_t> ready_count{0};
    std::atomic<size_t> free_count{0};
    std::atomic<bool> stopping{false};
    std::optional<error> worker_error;              // set (under mutex) before worker_failed
    std::optional<stats_snapshot> stopped_at;       // the counters of the row where encoding stopped
    bool stopped_in_finish = false;                 // that row came from finish()
    std::vector<std::string_view> unpacked_fields;  // the encoding side's views of a packed row
    std::vector<uint8_t> unpacked_quoted;

    impl(engine_options opts, mapping::key_schema key_schema, batch_sink& sink, rejects_writer* rejects_out)
        : options(std::move(opts)),
          keys(std::move(key_schema)),
          batches(options.table, sink, MAX_BATCH_ITEMS, options.max_batch_bytes, options.keep_rows, options.duplicates),
          rejects(rejects_out),
          reader(options.dialect, *this),
          decoder(make_decoding_sink(reader)) {
        totals.source = options.source;
        parallel = options.threads >= 2 && options.dialect.max_row_size <= MAX_PARALLEL_ROW &&
                   options.dialect.max_field_size <= MAX_PARALLEL_ROW;
    }

    ~impl() override { stop_worker(true); }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    // ---- the reader's sink (the caller's thread) ---------------------------------------------------------

    // The index of a column the feed's mode reads (`what`: "operation", "version").
    static result<size_t> column_of(const csv::header& hdr, const std::string& name, const char* what) {
        const auto found = std::find(hdr.names.begin(), hdr.names.end(), name);
        if (found == hdr.names.end()) {
            return make_error(errc::CSV_FILE,
                              std::string(what) + " column " + name + " not in header: " + join_names(hdr.names));
        }
        return static_cast<size_t>(found - hdr.names.begin());
    }

    result<void> on_header(const csv::header& hdr) override {
        if (options.operation) {
            TARIUS_ASSIGN_OR_RETURN(operation_column, column_of(hdr, options.operation->column, "operation"));
        }
        if (options.version) {
            TARIUS_ASSIGN_OR_RETURN(version_column, column_of(hdr, options.version->column, "version"));
        }
        auto bound = mapping::item_encoder::bind(options.mapping, keys, hdr.names);
        if (!bound) return std::move(bound).err();
        encoder.emplace(std::move(bound).value());
        if (rejects) rejects->set_header(hdr.raw);
        if (parallel) start_worker();  // before the first row: nothing is packed yet if it falls back
        return ok();
    }

    result<void> on_row(const csv::row& r) override {
        if (parallel) return pack(r, nullptr);
        return process_row(r);
    }

    result<void> on_bad_row(const csv::row& r, const row_problem& p) override {
        if (parallel) return pack(r, &p);
        return process_bad_row(r, p);
    }

    // ---- rows → items → batches (the encoding side: the caller's thread, or the worker) ------------------

    // What the operation column says of a row: a put, a delete, or neither (a problem).
    std::optional<write_kind> operation_of(const csv::row& r) {
        if (operation_column == SIZE_MAX) return write_kind::PUT;
        const row_operation& op = *options.operation;
        const std::string_view cell = trim_blanks(r.fields[operation_column]);
        if (std::find(op.delete_values.begin(), op.delete_values.end(), cell) != op.delete_values.end()) {
            return write_kind::DELETE;
        }
        if (op.put_values.empty() ||
            std::find(op.put_values.begin(), op.put_values.end(), cell) != op.put_values.end()) {
            return write_kind::PUT;
        }
        problem.reason = reject_reason::INVALID_OPERATION;
        problem.column_index = static_cast<int64_t>(operation_column);
        problem.column = op.column;
        problem.message = "operation column " + op.column + " holds \"" + std::string(cell) + "\": expected " +
                          quote_values(op.delete_values) + " (delete) or " + quote_values(op.put_values) + " (put)";
        return std::nullopt;
    }

    // A newer feed's row version as DynamoDB JSON in `version_json`; false (a problem) when the cell is empty or
    // not a version.
    bool read_version(const csv::row& r) {
        const std::string_view cell = trim_blanks(r.fields[version_column]);
        version_json.clear();
        version_message.clear();
        const bool timestamp = options.version->timestamp;
        version_json += timestamp ? "{\"S\":\"" : "{\"N\":\"";
        bool valid = false;
        if (cell.empty()) {
            version_message = "empty";
        } else if (timestamp) {
            valid = mapping::detail::append_canonical_timestamp(cell, false, version_json, version_message);
        } else {
            valid = mapping::detail::append_canonical_number(cell, version_json, version_message) > 0;
        }
        if (valid) {
            version_json += "\"}";
            return true;
        }
        problem.reason = reject_reason::INVALID_VERSION;
        problem.column_index = static_cast<int64_t>(version_column);
        problem.column = options.version->column;
        problem.message =
            "version column " + options.version->column + " holds \"" + std::string(cell) + "\": " + version_message +
            (timestamp ? " (expected an ISO-8601 timestamp with its UTC offset)" : " (expected a number)");
        return false;
    }

    result<void> process_row(const csv::row& r) {
        std::string_view json;
        const std::optional<write_kind> kind = operation_of(r);
        if (kind == write_kind::DELETE) {
            if (encoder->encode_key(r, item, json, problem)) {
                return batches.add(item, json, r.end_offset, r.end_line, row_origin{r.raw, r.line, r.byte_offset},
                                   write_kind::DELETE);
            }
        } else if (kind && (version_column == SIZE_MAX || read_version(r)) && encoder->encode(r, item, json, problem))
            [[likely]] {
            if (options.send_row && !options.send_row(r.line)) {
                ++rows_unchanged;
                batches.advance(r.end_offset, r.end_line);
                return ok();
            }
            std::string_view aux;
            if (version_column != SIZE_MAX) aux = version_json;
            if (options.keep_removed) aux = item.removed;
            return batches.add(item, json, r.end_offset, r.end_line, row_origin{r.raw, r.line, r.byte_offset},
                               write_kind::PUT, aux);
        }
        if (options.on_rejected_key && kind == write_kind::PUT) {
            std::string_view key_json;
            if (encoder->encode_key(r, rejected_key, key_json, rejected_key_problem)) {
                options.on_rejected_key(rejected_key, key_json, r.line);
            }
        }
        problem.line = r.line;
        problem.byte_offset = r.byte_offset;
        TARIUS_TRY(record_reject(problem, r));
        batches.advance(r.end_offset, r.end_line);
        return ok();
    }

    result<void> process_bad_row(const csv::row& r, const row_problem& p) {
        TARIUS_TRY(record_reject(p, r));
        batches.advance(r.end_offset, r.end_line);
        return ok();
    }

    result<void> record_reject(const row_problem& p, const csv::row& r) {
        ++totals.rows_rejected;
        ++totals.rejected_by_reason[static_cast<size_t>(p.reason)];
        if (totals.first_errors.size() < options.max_errors_listed) totals.first_errors.push_back(p);
        if (rejects) TARIUS_TRY(rejects->reject(p, r.raw, r.raw_complete));
        if (totals.rows_rejected > options.max_rejects) {
            std::string message = options.source + ": more than " + std::to_string(options.max_rejects) +
                                  " rows rejected; stopping the file (see the rejects for reasons)";
            // The rejects are how the user learns why, and a caller whose write() failed never calls finish():
            // they are written out now, every one of them, the row that crossed the limit included.
            if (rejects && options.finish_rejects) {
                rejects_closed = true;
                if (auto closed = rejects->finish(); !closed)
                    message += "; writing the rejects failed too: " + closed.err().message;
            }
            return make_error(errc::LIMIT, std::move(message));
        }
        return ok();
    }

    // ---- the engine's input (the caller's thread) --------------------------------------------------------

    // Counts bytes before decompression; a failure is sticky and ends the run.
    result<void> write(std::string_view chunk) override {
        if (failure) return *failure;
        if (parallel && worker_failed.load(std::memory_order_acquire)) return settle(ok());
        raw_bytes += chunk.size();
        auto written = decoder->write(chunk);
        if (parallel && (!written || worker_failed.load(std::memory_order_acquire))) return settle(written);
        if (!written) fail(written.err());
        // Rows pointing into the block's input area go with it now: the caller reads the next chunk elsewhere.
        if (written && parallel && filling && filling->input_used) return settle_on_error(hand_over());
        return written;
    }

    // Two-thread mode offers the block being filled as the input area, so that rows of plain input reach the
    // encoding side without a copy. (Rows of compressed input come from the decoder's buffer and are copied.)
    std::span<char> input_buffer(size_t min_size) override {
        if (!parallel || !filling || failure || min_size > MAX_INPUT_AREA) return {};
        row_block& block = *filling;
        TARIUS_ASSERT(!block.input_used);  // write() hands such a block over before returning
        if (block.input_capacity < min_size) {
            block.input = std::make_unique_for_overwrite<char[]>(min_size);
            block.input_capacity = min_size;
        }
        return std::span<char>(block.input.get(), block.input_capacity);
    }

    // Ends the input: the last row, the last batch, the rejects, then the summary.
    result<void> finish() override {
        TARIUS_ASSERT(!finished);
        finished = true;
        result<void> done = failure ? result<void>(*failure) : decoder->finish();
        if (parallel && !failure) {
            // Rows packed before a failure of the input (a truncated gzip stream) are encoded all the same.
            if (filling && !filling->rows.empty() && !worker_failed.load()) {
                auto handed = hand_over();
                if (done) done = std::move(handed);
            }
            done = drain(std::move(done));
        }
        // Encoding stopped at a row that a write() handed over: one thread would have returned the error from
        // that write(), and finish() would never have run; the rejects are left unfinished the same way.
        const bool stopped_before_finish = parallel && worker_failed.load() && !stopped_in_finish;
        if (done) done = batches.flush();
        if (rejects && options.finish_rejects && !stopped_before_finish && !rejects_closed) {
            auto closed = rejects->finish();
            if (done && !closed) done = std::move(closed);
        }
        if (!done) fail(done.err());
        fill_summary();
        return done;
    }

    void fail(const error& e) {
        if (!failure) failure = e;
        fill_summary();
    }

    // The counts of an unfinished run. With two threads they belong to the encoding side until finish() or an
    // error settles them (and fills the summary).
    void refresh_summary() {
        if (!finished && !failure && !parallel) fill_summary();
    }

    void fill_summary() {
        const auto& stats = reader.stats();
        totals.rows_read = stopped_at ? stopped_at->rows : stats.rows;
        totals.blank_lines = stopped_at ? stopped_at->blank_lines : stats.blank_lines;
        totals.bytes_in = stopped_at ? stopped_at->bytes : stats.bytes;
        totals.compressed_bytes_in = stopped_at ? stopped_at->raw_bytes : raw_bytes;
        totals.compression = compression_name(detected_compression(*decoder));
        totals.items = batches.items_emitted();
        totals.duplicates_collapsed = batches.collapsed_duplicates();
        totals.rows_unchanged = rows_unchanged;
        totals.batches = batches.batches_emitted();
        totals.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }

    // ---- two-thread mode ---------------------------------------------------------------------------------

    void start_worker() {
        if (worker.joinable()) return;
        // Blocks grow to what they hold and keep their memory from then on: new memory costs page faults.
        filling = std::make_unique<row_block>();
        for (size_t block_idx = 1; block_idx < BLOCKS; ++block_idx) {
            free_blocks.push_back(std::make_unique<row_block>());
        }
        free_count.store(free_blocks.size(), std::memory_order_relaxed);
        // std::thread reports a failure to start by throwing; the engine then simply stays on one thread.
        try {
            worker = std::thread([this] { encode_blocks(); });
        } catch (const std::system_error&) {
            parallel = false;
        }
    }

    // Appends a row (and, for a rejected one, its problem) to the block being filled; hands the block over
    // when it is full. The row's views are valid only during this call, so its bytes are copied: the raw row,
    // then any field value that is not a slice of it (quoted fields with `""` unescaped by the reader).
    result<void> pack(const csv::row& r, const row_problem* p) {
        row_block& block = *filling;
        const auto& stats = reader.stats();
        uint32_t raw_offset = 0;
        const size_t input_distance = distance(r.raw.data(), block.input.get());
        if (block.input && input_distance <= block.input_capacity &&
            r.raw.size() <= block.input_capacity - input_distance) {
            raw_offset = static_cast<uint32_t>(input_distance);  // in the input area: no copy
            block.input_used = true;
        } else {
            raw_offset = static_cast<uint32_t>(block.data.size()) | IN_DATA;
            block.data.append(r.raw);
        }
        packed_row& packed = block.rows.emplace_back();
        packed.raw_offset = raw_offset;
        packed.raw_size = static_cast<uint32_t>(r.raw.size());
        packed.field_begin = static_cast<uint32_t>(block.fields.size());
        packed.field_count = 0;
        packed.problem = -1;
        packed.raw_complete = r.raw_complete;
        packed.in_finish = finished;
        packed.line = r.line;
        packed.byte_offset = r.byte_offset;
        packed.end_offset = r.end_offset;
        packed.end_line = r.end_line;
        packed.stats = stats_snapshot{stats.rows, stats.blank_lines, stats.bytes, raw_bytes};
        if (p != nullptr) {
            // The encoding side uses only the raw bytes of a row the reader rejected.
            packed.problem = static_cast<int32_t>(block.problems.size());
            block.problems.push_back(*p);
        } else {
            const size_t count = r.fields.size();
            packed.field_count = static_cast<uint32_t>(count);
            const char* raw_begin = r.raw.data();
            const size_t raw_size = r.raw.size();
            for (size_t field_idx = 0; field_idx < count; ++field_idx) {
                const std::string_view field = r.fields[field_idx];
                const uint32_t size_quoted =
                    static_cast<uint32_t>(field.size()) |
                    (field_idx < r.quoted.size() && r.quoted[field_idx] != 0 ? QUOTED : uint32_t{0});
                // A value that is not a slice of the raw row (unescaped into the reader's scratch) is copied.
                const size_t in_raw = distance(field.data(), raw_begin);
                if (in_raw <= raw_size && field.size() <= raw_size - in_raw) {
                    block.fields.push_back(packed_field{raw_offset + static_cast<uint32_t>(in_raw), size_quoted});
                } else {
                    block.fields.push_back(
                        packed_field{static_cast<uint32_t>(block.data.size()) | IN_DATA, size_quoted});
                    block.data.append(field);
                }
            }
        }
        if (block.data.size() >= BLOCK_BYTES) return hand_over();
        return ok();
    }

    // How far `p` is past `base`, as an unsigned number: huge (wrapped around) when `p` is before `base`, so one
    // comparison tells whether `p` lies in a span starting at `base`. Addresses, not pointer subtraction, since
    // the two may point into different objects.
    static size_t distance(const char* p, const char* base) noexcept {
        return static_cast<size_t>(reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(base));
    }

    // Queues the block being filled and takes a free one, waiting while all are in use. Fails with the
    // encoding side's error once it has stopped (the reader then stops too).
    result<void> hand_over() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            ready.push_back(std::move(filling));
            ready_count.store(ready.size(), std::memory_order_relaxed);
        }
        ready_changed.notify_one();
        detail::spin_until([this] { return free_count.load(std::memory_order_relaxed) > 0 || worker_failed.load(); });
        std::unique_lock<std::mutex> lock(mutex);
        free_changed.wait(lock, [this] { return !free_blocks.empty() || worker_failed.load(); });
        if (worker_failed.load()) {
            filling = std::make_unique<row_block>();  // keeps `filling` usable; nothing more is packed
            return *worker_error;
        }
        filling = std::move(free_blocks.back());
        free_blocks.pop_back();
        free_count.store(free_blocks.size(), std::memory_order_relaxed);
        return ok();
    }

    // The worker: encodes the rows of each block in order until the input ends or a row fails.
    void encode_blocks() {
        for (;;) {
            std::unique_ptr<row_block> block;
            {
                detail::spin_until([this] {
                    return ready_count.load(std::memory_order_relaxed) > 0 || stopping.load(std::memory_order_relaxed);
                });
                std::unique_lock<std::mutex> lock(mutex);
                ready_changed.wait(lock, [this] { return !ready.empty() || input_done || abandon; });
                if (abandon || ready.empty()) return;
                block = std::move(ready.front());
                ready.pop_front();
                ready_count.store(ready.size(), std::memory_order_relaxed);
            }
            std::optional<error> stopped = encode_block(*block);
            block->clear();
            std::lock_guard<std::mutex> lock(mutex);
            free_blocks.push_back(std::move(block));
            free_count.store(free_blocks.size(), std::memory_order_relaxed);
            if (stopped) {
                worker_error = std::move(stopped);
                worker_failed.store(true, std::memory_order_release);
            }
            free_changed.notify_one();
            if (worker_failed.load()) return;
        }
    }

    std::optional<error> encode_block(const row_block& block) {
        for (const packed_row& packed : block.rows) {
            csv::row r;
            r.raw = std::string_view(block.at(packed.raw_offset), packed.raw_size);
            r.line = packed.line;
            r.byte_offset = packed.byte_offset;
            r.end_offset = packed.end_offset;
            r.end_line = packed.end_line;
            r.raw_complete = packed.raw_complete;
            result<void> done = ok();
            if (packed.problem >= 0) {
                done = process_bad_row(r, block.problems[static_cast<size_t>(packed.problem)]);
            } else {
                unpacked_fields.resize(packed.field_count);
                unpacked_quoted.resize(packed.field_count);
                for (size_t field_idx = 0; field_idx < packed.field_count; ++field_idx) {
                    const packed_field& f = block.fields[packed.field_begin + field_idx];
                    unpacked_fields[field_idx] = std::string_view(block.at(f.offset), f.size_quoted & ~QUOTED);
                    unpacked_quoted[field_idx] = static_cast<uint8_t>(f.size_quoted >> 31);
                }
                r.fields = std::span<const std::string_view>(unpacked_fields.data(), packed.field_count);
                r.quoted = std::span<const uint8_t>(unpacked_quoted.data(), packed.field_count);
                done = process_row(r);
            }
            if (!done) {
                stopped_at = packed.stats;  // read by the caller's thread after the join
                stopped_in_finish = packed.in_finish;
                return std::move(done).err();
            }
        }
        return std::nullopt;
    }

    // Ends the worker: lets it encode what was handed over (or, with `abandon_rows`, drop it) and joins it.
    void stop_worker(bool abandon_rows) {
        if (!worker.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mutex);
            input_done = true;
            if (abandon_rows) abandon = true;
            stopping.store(true, std::memory_order_relaxed);
        }
        ready_changed.notify_one();
        worker.join();
    }

    // Waits until every row handed over is encoded (or encoding stopped at one), then returns the error that
    // came first in file order: the encoding side's (it stopped at an earlier row than anything the scanning
    // side saw after it), else `scanned`.
    result<void> drain(result<void> scanned) {
        stop_worker(false);
        if (worker_failed.load()) return *worker_error;
        return scanned;
    }

    // Passes `r` through; an error (the encoding side stopped) is settled like any failure.
    result<void> settle_on_error(result<void> r) {
        if (r) return r;
        return settle(std::move(r));
    }

    // The scanning side failed or saw the encoding side fail: hand over what was packed before the failure,
    // wait for it, and make the first error in file order sticky, with the summary of a one-thread run.
    result<void> settle(result<void> scanned) {
        if (!worker_failed.load() && filling && !filling->rows.empty()) {
            // Fails only when encoding stopped meanwhile, which drain reports.
            [[maybe_unused]] auto handed = hand_over();
        }
        result<void> first = drain(std::move(scanned));
        TARIUS_ASSERT(!first);
        fail(first.err());
        return first;
    }
};

engine::engine(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
engine::~engine() = default;

result<std::unique_ptr<engine>> engine::create(engine_options options, batch_sink& batches, rejects_writer* rejects) {
    std::optional<mapping::key_schema> keys = options.keys ? options.keys : options.mapping.keys;
    if (!keys) {
        return make_error(errc::INVALID_ARGUMENT,
                          "no key schema: give the partition key with --key NAME[:S|N|B] or in the mapping");
    }
    auto p = std::make_unique<impl>(std::move(options), std::move(*keys), batches, rejects);
    return std::unique_ptr<engine>(new engine(std::move(p)));
}

byte_sink& engine::input() noexcept {
    return *impl_;
}

void engine::resume_at(uint64_t offset, uint64_t line) {
    impl_->reader.resume_at(offset, line);
    impl_->batches.advance(offset, line);
}

result<void> engine::finish() {
    return impl_->finish();
}

const summary& engine::current_summary() noexcept {
    impl_->refresh_summary();
    return impl_->totals;
}

result<summary> run_file(const std::string& path, engine_options options, batch_sink& batches,
                         rejects_writer* rejects) {
    if (options.source.empty()) options.source = path;
    TARIUS_ASSIGN_OR_RETURN(auto eng, engine::create(std::move(options), batches, rejects));
    TARIUS_TRY(pump_file(path, eng->input()));
    return eng->current_summary();
}

}  // namespace tarius::pipeline
