#pragma once
// The writer tests' DynamoDB: applies puts to an in-memory table, answers in a chosen order, and can throttle,
// fail, leave items unprocessed or refuse items the way DynamoDB does (a whole request refused when it holds an
// invalid item). It checks the writer's promise that no two requests in flight hold the same key. Batches are
// made by the real batcher from (ID, V) rows.

#include <simdjson.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/errors.hpp"
#include "tarius/pipeline/batch.hpp"

namespace writer_harness {

using tarius::aws::batch_write_callback;
using tarius::aws::batch_write_result;

/// An error as the real client returns it for a DynamoDB answer with `code`.
inline tarius::error service_error(long status, const std::string& code, const std::string& message) {
    tarius::aws::service_error e;
    e.service = "dynamodb";
    e.operation = "BatchWriteItem";
    e.http_status = status;
    e.code = code;
    e.message = message;
    e.throttling = code == "ProvisionedThroughputExceededException" || code == "ThrottlingException";
    e.retryable = e.throttling || status >= 500;
    return e.to_error();
}

class fake_dynamodb final : public tarius::aws::dynamodb_client {
public:
    struct pending_call {
        std::string body;
        batch_write_callback done;
        std::string operation;  // PutItem / UpdateItem; empty: BatchWriteItem
    };
    struct sent_request {
        std::chrono::steady_clock::time_point at;
        size_t items = 0;
    };
    std::deque<pending_call> in_flight;
    std::map<std::string, std::string> table;  // ID → V
    std::vector<sent_request> sent;
    std::function<size_t(size_t)> pick = [](size_t) { return size_t{0}; };  // which in-flight call completes next
    std::function<size_t(size_t call, size_t items)> leave_unprocessed = [](size_t, size_t) { return size_t{0}; };
    std::function<std::optional<tarius::error>(size_t call)> fail_call = [](size_t) {
        return std::optional<tarius::error>{};
    };
    std::function<bool(size_t call)> written_then_failed = [](size_t) { return false; };
    std::function<std::chrono::steady_clock::time_point()> clock = [] { return std::chrono::steady_clock::now(); };
    std::string poison = "POISON";  // a V holding this is refused as invalid
    // PutItem with a condition: whether it is false for this body (insert: the key exists, unless the marker is
    // the stored item's).
    std::function<bool(const std::string& body)> condition_false = [this](const std::string& body) {
        simdjson::dom::parser p;
        simdjson::dom::element doc = p.parse(body);
        const std::string id(doc["Item"]["ID"]["S"].get_string().value());
        if (!table.count(id)) return false;
        std::string_view marker;
        if (doc["Item"]["tarius_row"]["S"].get_string().get(marker) != simdjson::SUCCESS) return true;
        return markers[id] != marker;
    };
    std::map<std::string, std::string> markers;  // ID → the row marker its item holds
    double units_per_item = 1;                   // write units each accepted item consumes (ConsumedCapacity)
    bool renumber_unprocessed = false;           // answer UnprocessedItems in another spelling (keys re-serialised)
    size_t calls = 0;
    size_t max_in_flight = 0;
    bool overlap_seen = false;

    tarius::result<tarius::aws::table_description> describe_table(const std::string&) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    tarius::result<batch_write_result> batch_write_item(std::string) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    tarius::result<std::string> call(const std::string&, std::string) override {
        return tarius::make_error(tarius::errc::INTERNAL, "unused");
    }
    std::function<void(const std::string& body)> on_send;  // sees every PutItem / UpdateItem body as it goes
    void write_item_async(std::string operation, std::string body, batch_write_callback done) override {
        if (on_send) on_send(body);
        sent.push_back({clock(), 1});
        in_flight.push_back({std::move(body), std::move(done), std::move(operation)});
        max_in_flight = std::max(max_in_flight, in_flight.size());
    }
    void batch_write_item_async(std::string body, batch_write_callback done) override {
        auto keys = ids_of(body);
        for (const auto& other : in_flight) {
            for (const auto& id : ids_of(other.body)) overlap_seen |= keys.count(id) > 0;
        }
        sent.push_back({clock(), keys.size()});
        in_flight.push_back({std::move(body), std::move(done), {}});
        max_in_flight = std::max(max_in_flight, in_flight.size());
    }
    size_t poll(std::chrono::milliseconds) override {
        if (in_flight.empty()) return 0;
        const size_t index = pick(in_flight.size()) % in_flight.size();
        pending_call c = std::move(in_flight[index]);
        in_flight.erase(in_flight.begin() + static_cast<long>(index));
        const size_t number = calls++;
        if (auto failure = fail_call(number)) {
            c.done(std::move(*failure));
            return in_flight.size();
        }
        if (!c.operation.empty()) {
            answer_item_write(c, number);
            return in_flight.size();
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc = parser.parse(c.body);
        std::vector<std::string> puts;
        for (auto table_entry : doc["RequestItems"].get_object()) {
            for (simdjson::dom::element put : table_entry.value.get_array()) puts.push_back(simdjson::minify(put));
        }
        for (const auto& put_text : puts) {
            simdjson::dom::element put = parser.parse(put_text);
            if (std::string(put["PutRequest"]["Item"]["V"]["S"].get_string().value()).find(poison) !=
                std::string::npos) {
                // DynamoDB validates the whole request first: nothing of it is written.
                c.done(service_error(400, "ValidationException", "One or more parameter values were invalid: poison"));
                return in_flight.size();
            }
        }
        const size_t left = std::min(puts.size(), leave_unprocessed(number, puts.size()));
        batch_write_result r;
        std::string unprocessed;
        for (size_t put_idx = 0; put_idx < puts.size(); ++put_idx) {
            simdjson::dom::element put = parser.parse(puts[put_idx]);
            const std::string id(put["PutRequest"]["Item"]["ID"]["S"].get_string().value());
            const std::string v(put["PutRequest"]["Item"]["V"]["S"].get_string().value());
            if (put_idx < left) {
                // The items come back as DynamoDB spells them: attributes in another order when asked.
                const std::string item = renumber_unprocessed ? R"({"PutRequest":{"Item":{"V":{"S":")" + v +
                                                                    R"("},"ID":{"S":")" + id + R"("}}}})"
                                                              : puts[put_idx];
                unprocessed += (unprocessed.empty() ? "" : ",") + item;
                continue;
            }
            table[id] = v;
        }
        if (left) {
            r.unprocessed_items = R"({"t":[)" + unprocessed + "]}";
            r.unprocessed_count = left;
        }
        r.consumed_capacity = units_per_item * static_cast<double>(puts.size() - left);
        if (written_then_failed(number)) {
            // The table wrote the request, and the answer was lost: the caller sees a passing fault.
            c.done(service_error(500, "InternalServerError", "Internal server error"));
            return in_flight.size();
        }
        c.done(std::move(r));
        return in_flight.size();
    }

    void answer_item_write(pending_call& c, size_t number) {
        if (condition_false(c.body)) {
            c.done(service_error(400, "ConditionalCheckFailedException", "The conditional request failed"));
            return;
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc = parser.parse(c.body);
        const std::string id(doc["Item"]["ID"]["S"].get_string().value());
        table[id] = std::string(doc["Item"]["V"]["S"].get_string().value());
        std::string_view marker;
        if (doc["Item"]["tarius_row"]["S"].get_string().get(marker) == simdjson::SUCCESS) markers[id] = marker;
        if (written_then_failed(number)) {
            c.done(service_error(500, "InternalServerError", "Internal server error"));
            return;
        }
        batch_write_result r;
        r.consumed_capacity = units_per_item;
        c.done(std::move(r));
    }

    static std::set<std::string> ids_of(const std::string& body) {
        std::set<std::string> ids;
        simdjson::dom::parser parser;
        simdjson::dom::element doc = parser.parse(body);
        for (auto table_entry : doc["RequestItems"].get_object()) {
            for (simdjson::dom::element put : table_entry.value.get_array()) {
                ids.insert(std::string(put["PutRequest"]["Item"]["ID"]["S"].get_string().value()));
            }
        }
        return ids;
    }
};

/// One CSV row of the test files: key, value, and (optionally) its DynamoDB size.
struct row {
    std::string id;
    std::string v;
    size_t size = 0;  // 0: id + v + 4
};

/// The canonical key of a string key, as item_encoder writes it.
inline std::string key_of(const std::string& id) {
    std::string key = "S" + id;
    key.push_back(static_cast<char>((id.size() >> 8) & 0xff));
    key.push_back(static_cast<char>(id.size() & 0xff));
    return key;
}

/// Batches of the rows through the real batcher: each row spans 100 input bytes and one line (line 2 first),
/// raw bytes "id,v\n".
inline std::vector<tarius::pipeline::batch> make_batches(
    const std::vector<row>& rows, size_t per_batch = 25,
    tarius::pipeline::duplicate_policy duplicates = tarius::pipeline::duplicate_policy::COLLAPSE) {
    struct collect final : tarius::pipeline::batch_sink {
        std::vector<tarius::pipeline::batch> out;
        tarius::result<void> on_batch(tarius::pipeline::batch&& b) override {
            out.push_back(std::move(b));
            return tarius::ok();
        }
    } sink;
    tarius::pipeline::batcher batches("t", sink, per_batch, tarius::pipeline::MAX_BATCH_BYTES, true, duplicates);
    for (size_t row_idx = 0; row_idx < rows.size(); ++row_idx) {
        const row& r = rows[row_idx];
        tarius::mapping::encoded_item item;
        item.json = R"({"ID":{"S":")" + r.id + R"("},"V":{"S":")" + r.v + R"("}})";
        item.key = key_of(r.id);
        item.key_hash = std::hash<std::string>{}(item.key);
        item.size = r.size ? r.size : r.id.size() + r.v.size() + 4;
        const std::string raw = r.id + "," + r.v + "\n";
        const uint64_t start = 100 * row_idx;
        (void)batches.add(item, item.json, start + 100, row_idx + 3,
                          tarius::pipeline::row_origin{raw, row_idx + 2, start});
    }
    (void)batches.flush();
    return std::move(sink.out);
}

/// Rows whose keys repeat across batches (never within 25 consecutive rows unless `distinct` is small).
inline std::vector<row> rows_with_repeats(size_t count, size_t distinct_keys) {
    std::vector<row> rows;
    for (size_t serial = 0; serial < count; ++serial) {
        rows.push_back({"k" + std::to_string((serial * 7919) % distinct_keys), "v" + std::to_string(serial), 0});
    }
    return rows;
}

/// The table writing `rows` one by one in file order leaves, without the rows `skip` names.
inline std::map<std::string, std::string> one_by_one(const std::vector<row>& rows,
                                                     const std::function<bool(const row&)>& skip = {}) {
    std::map<std::string, std::string> out;
    for (const row& r : rows) {
        if (skip && skip(r)) continue;
        out[r.id] = r.v;
    }
    return out;
}

}  // namespace writer_harness
