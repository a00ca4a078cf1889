#include "tarius/pipeline/engine.hpp"

#include <chrono>
#include <cstring>

namespace tarius::pipeline {
namespace {}  // namespace

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
    mapping::encoded_item item;
    row_problem problem;
    summary totals;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    bool finished = false;

    impl(engine_options opts, mapping::key_schema key_schema, batch_sink& sink, rejects_writer* rejects_out)
        : options(std::move(opts)),
          keys(std::move(key_schema)),
          batches(options.table, sink),
          rejects(rejects_out),
          reader(options.dialect, *this),
          decoder(make_decoding_sink(reader)) {
        totals.source = options.source;
    }

    result<void> on_header(const csv::header& hdr) override {
        auto bound = mapping::item_encoder::bind(options.mapping, keys, hdr.names);
        if (!bound) return std::move(bound).err();
        encoder.emplace(std::move(bound).value());
        if (rejects) rejects->set_header(hdr.raw);
        return ok();
    }

    result<void> on_row(const csv::row& r) override {
        if (encoder->encode(r, item, problem)) [[likely]] {
            return batches.add(item, r.end_offset, r.end_line);
        }
        problem.line = r.line;
        problem.byte_offset = r.byte_offset;
        TARIUS_TRY(record_reject(problem, r));
        batches.advance(r.end_offset, r.end_line);
        return ok();
    }

    result<void> on_bad_row(const csv::row& r, const row_problem& p) override {
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
            return make_error(errc::LIMIT, options.source + ": more than " + std::to_string(options.max_rejects) +
                                               " rows rejected; stopping the file (see the rejects for reasons)");
        }
        return ok();
    }

    // The engine's input: counts bytes before decompression; a failure is sticky and ends the run.
    result<void> write(std::string_view chunk) override {
        if (failure) return *failure;
        raw_bytes += chunk.size();
        auto written = decoder->write(chunk);
        if (!written) fail(written.err());
        return written;
    }

    // Ends the input: the last row, the last batch, the rejects, then the summary.
    result<void> finish() override {
        TARIUS_ASSERT(!finished);
        finished = true;
        result<void> done = failure ? result<void>(*failure) : decoder->finish();
        if (done) done = batches.flush();
        if (rejects) {
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

    void fill_summary() {
        const auto& stats = reader.stats();
        totals.rows_read = stats.rows;
        totals.blank_lines = stats.blank_lines;
        totals.bytes_in = stats.bytes;
        totals.compressed_bytes_in = raw_bytes;
        totals.compression = compression_name(detected_compression(*decoder));
        totals.items = batches.items_emitted();
        totals.duplicates_collapsed = batches.collapsed_duplicates();
        totals.batches = batches.batches_emitted();
        totals.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
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

const summary& engine::current_summary() const noexcept {
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
