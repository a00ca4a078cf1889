// Parse-only throughput of the CSV reader on products-like data (~300-byte rows, 9 fields, a few quoted),
// fed in 1 MiB chunks; plain and gzip-compressed input. Reports bytes_per_second and rows/s.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "tarius/csv.hpp"
#include "tarius/stream.hpp"

namespace {

constexpr size_t TARGET_BYTES = size_t{64} << 20;
constexpr size_t CHUNK = size_t{1} << 20;

/// Deterministic pseudo-random numbers (a 64-bit LCG): the data set is the same on every run.
struct lcg {
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    uint64_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return state >> 33;
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

constexpr std::string_view VOCABULARY[] = {"steel",    "bolt",    "cotton",  "shirt",   "organic", "blue",
                                           "large",    "pack",    "premium", "kitchen", "garden",  "tool",
                                           "wireless", "charger", "ceramic", "mug",     "café",    "größe"};

void append_words(std::string& out, lcg& rnd, size_t words) {
    for (size_t word_idx = 0; word_idx < words; ++word_idx) {
        if (word_idx > 0) out.push_back(' ');
        out += VOCABULARY[rnd.below(std::size(VOCABULARY))];
    }
}

const std::string& products_csv() {
    static const std::string data = [] {
        std::string out = "sku,name,description,category,price,currency,stock,updated_at,active\n";
        out.reserve(TARGET_BYTES + 4096);
        lcg rnd;
        uint64_t row = 0;
        while (out.size() < TARGET_BYTES) {
            out += "SKU-" + std::to_string(1000000 + row++) + ",";
            append_words(out, rnd, 3 + rnd.below(3));
            out += ",\"";
            append_words(out, rnd, 22 + rnd.below(14));
            if (rnd.below(4) == 0) out += ", with \"\"quoted\"\" words";
            out += ", more text\",";
            append_words(out, rnd, 2);
            out += "," + std::to_string(rnd.below(100000)) + "." + std::to_string(10 + rnd.below(90)) + ",EUR," +
                   std::to_string(rnd.below(5000)) + ",2026-11-" + std::to_string(10 + rnd.below(19)) + "T10:00:00Z," +
                   (rnd.below(2) == 0 ? "true" : "false") + "\n";
        }
        return out;
    }();
    return data;
}

const std::string& products_gzip() {
    static const std::string data = [] {
        const std::string& plain = products_csv();
        uLongf size = compressBound(static_cast<uLong>(plain.size()));
        std::string out(size, '\0');
        z_stream zs{};
        deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
        zs.avail_in = static_cast<uInt>(plain.size());
        zs.next_out = reinterpret_cast<Bytef*>(out.data());
        zs.avail_out = static_cast<uInt>(out.size());
        deflate(&zs, Z_FINISH);
        out.resize(zs.total_out);
        deflateEnd(&zs);
        return out;
    }();
    return data;
}

/// Touches every field so the work cannot be optimised away.
class counting_sink final : public tarius::csv::row_sink {
public:
    tarius::result<void> on_header(const tarius::csv::header&) override { return tarius::ok(); }
    tarius::result<void> on_row(const tarius::csv::row& r) override {
        ++rows;
        for (const auto field : r.fields) bytes += field.size();
        return tarius::ok();
    }
    tarius::result<void> on_bad_row(const tarius::csv::row&, const tarius::row_problem&) override {
        ++bad;
        return tarius::ok();
    }
    uint64_t rows = 0;
    uint64_t bad = 0;
    uint64_t bytes = 0;
};

void feed(benchmark::State& state, const std::string& input, bool decode) {
    uint64_t rows = 0;
    for (auto _ : state) {
        counting_sink sink;
        tarius::csv::reader rd(tarius::csv::dialect{}, sink);
        auto decoder = tarius::make_decoding_sink(rd);
        tarius::byte_sink& front = decode ? *decoder : static_cast<tarius::byte_sink&>(rd);
        for (size_t pos = 0; pos < input.size(); pos += CHUNK) {
            if (!front.write(std::string_view(input).substr(pos, CHUNK))) state.SkipWithError("write failed");
        }
        if (!front.finish()) state.SkipWithError("finish failed");
        if (sink.bad != 0) state.SkipWithError("bad rows in generated data");
        benchmark::DoNotOptimize(sink.bytes);
        rows += sink.rows;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * products_csv().size()));
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
    state.counters["row_bytes"] = static_cast<double>(products_csv().size()) * static_cast<double>(state.iterations()) /
                                  static_cast<double>(rows == 0 ? 1 : rows);
}

void csv_reader_plain(benchmark::State& state) {
    feed(state, products_csv(), false);
}
void csv_reader_gzip(benchmark::State& state) {
    feed(state, products_gzip(), true);
}

}  // namespace

BENCHMARK(csv_reader_plain)->Unit(benchmark::kMillisecond);
BENCHMARK(csv_reader_gzip)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
