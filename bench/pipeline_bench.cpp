// Parse only, and parse + map + encode (the whole engine up to BatchWriteItem bodies), on products-like data
// generated in memory. Reports bytes/s and rows/s; parse_map_encode/1 runs on one thread, /2 with the engine's
// two-thread mode (scan on the calling thread, map + encode on a second); both are timed in wall-clock time.

#include <benchmark/benchmark.h>

#include <string>

#include "tarius/csv.hpp"
#include "tarius/pipeline/engine.hpp"
#include "tarius/sample.hpp"

namespace {

constexpr uint64_t ROWS = 200000;  // ~60 MB
constexpr size_t CHUNK = 1 << 20;

const std::string& sample_data() {
    static const std::string data = [] {
        tarius::pipeline::string_sink sink;
        tarius::sample::options opts;
        opts.rows = ROWS;
        if (!tarius::sample::generate(opts, sink)) std::abort();
        return sink.data();
    }();
    return data;
}

struct counting_rows final : tarius::csv::row_sink {
    uint64_t rows = 0;
    uint64_t fields = 0;
    tarius::result<void> on_header(const tarius::csv::header&) override { return tarius::ok(); }
    tarius::result<void> on_row(const tarius::csv::row& r) override {
        ++rows;
        fields += r.fields.size();
        return tarius::ok();
    }
    tarius::result<void> on_bad_row(const tarius::csv::row&, const tarius::row_problem&) override {
        return tarius::ok();
    }
};

struct counting_batches final : tarius::pipeline::batch_sink {
    uint64_t bytes = 0;
    tarius::result<void> on_batch(tarius::pipeline::batch&& b) override {
        bytes += b.body.size();
        return tarius::ok();
    }
};

void feed(tarius::byte_sink& sink, const std::string& data) {
    for (size_t offset = 0; offset < data.size(); offset += CHUNK) {
        if (!sink.write(std::string_view(data).substr(offset, CHUNK))) std::abort();
    }
    if (!sink.finish()) std::abort();
}

void parse_only(benchmark::State& state) {
    const std::string& data = sample_data();
    uint64_t rows = 0;
    for (auto _ : state) {
        counting_rows sink;
        tarius::csv::reader reader({}, sink);
        feed(reader, data);
        rows += sink.rows;
        benchmark::DoNotOptimize(sink.fields);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
    state.counters["rows_per_second"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void parse_map_encode(benchmark::State& state) {
    const std::string& data = sample_data();
    uint64_t rows = 0;
    uint64_t out_bytes = 0;
    for (auto _ : state) {
        tarius::pipeline::engine_options options;
        options.table = "product";
        options.mapping.keys = tarius::mapping::key_schema{{"ID", tarius::mapping::key_type::S}, std::nullopt};
        options.threads = static_cast<unsigned>(state.range(0));
        counting_batches batches;
        auto eng = tarius::pipeline::engine::create(std::move(options), batches, nullptr);
        if (!eng) std::abort();
        feed((*eng)->input(), data);
        rows += (*eng)->current_summary().rows_read;
        out_bytes += batches.bytes;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
    state.counters["rows_per_second"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
    state.counters["request_bytes_per_input_byte"] =
        static_cast<double>(out_bytes) / static_cast<double>(state.iterations() * data.size());
}

}  // namespace

BENCHMARK(parse_only)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(parse_map_encode)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
