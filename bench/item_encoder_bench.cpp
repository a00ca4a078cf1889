// item_encoder throughput on products-like rows: 9 string columns, optionally a currency number column.
// Bytes/s counts the rows' field bytes (what the CSV reader hands over).
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"

namespace {

using namespace tarius::mapping;

struct products {
    std::vector<std::string> header{"ID", "Title", "Brand", "Category", "Color", "Size", "Sku", "Description", "Url"};
    std::vector<std::vector<std::string>> rows;
    size_t field_bytes = 0;

    explicit products(bool with_price) {
        if (with_price) header.push_back("Price");
        const char* brands[] = {"Acme", "Globex", "Initech", "Umbrella", "Stark Industries"};
        const char* colors[] = {"red", "green", "blue", "black", "white", "burnt orange"};
        for (int idx = 0; idx < 1024; ++idx) {
            std::vector<std::string> row{
                "P" + std::to_string(100000 + idx),
                "Deluxe widget model " + std::to_string(idx % 97) + " with \"extra\" grip",
                brands[idx % 5],
                "Home & Garden > Tools > Widgets",
                colors[idx % 6],
                idx % 3 == 0 ? "XL" : "M",
                "SKU-" + std::to_string(idx * 7919 % 100000),
                "A sturdy, dependable widget for every workshop; ships in recyclable packaging. Item " +
                    std::to_string(idx),
                "https://example.com/products/" + std::to_string(idx) + "?ref=catalog",
            };
            if (with_price)
                row.push_back("$" + std::to_string(1 + idx % 3) + "," + std::to_string(100 + idx % 900) + ".99");
            for (const auto& field : row) field_bytes += field.size();
            rows.push_back(std::move(row));
        }
    }
};

void run(benchmark::State& state, bool with_price) {
    products data(with_price);
    mapping m;
    if (with_price) {
        column_rule price;
        price.column = "Price";
        price.type = value_type::NUMBER;
        price.currency = true;
        m.columns.push_back(price);
    }
    const key_schema keys{key_attribute{"ID", key_type::S}, std::nullopt};
    auto encoder = item_encoder::bind(m, keys, data.header);
    if (!encoder) {
        state.SkipWithError(encoder.err().message.c_str());
        return;
    }
    std::vector<std::vector<std::string_view>> views;
    for (const auto& row : data.rows) views.emplace_back(row.begin(), row.end());
    const std::vector<uint8_t> quoted(data.header.size(), 0);
    encoded_item item;
    tarius::row_problem problem;
    size_t json_bytes = 0;
    for (auto _ : state) {
        for (const auto& fields : views) {
            tarius::csv::row r;
            r.fields = fields;
            r.quoted = quoted;
            if (!encoder->encode(r, item, problem)) {
                state.SkipWithError(problem.message.c_str());
                return;
            }
            json_bytes += item.json.size();
            benchmark::DoNotOptimize(item.json.data());
        }
    }
    const auto iterations = static_cast<int64_t>(state.iterations());
    state.SetBytesProcessed(iterations * static_cast<int64_t>(data.field_bytes));
    state.SetItemsProcessed(iterations * static_cast<int64_t>(data.rows.size()));
    state.counters["json_bytes_per_row"] =
        static_cast<double>(json_bytes) / static_cast<double>(iterations * static_cast<int64_t>(data.rows.size()));
}

void bm_all_strings(benchmark::State& state) {
    run(state, false);
}
void bm_strings_and_currency(benchmark::State& state) {
    run(state, true);
}

}  // namespace

BENCHMARK(bm_all_strings);
BENCHMARK(bm_strings_and_currency);
BENCHMARK_MAIN();
