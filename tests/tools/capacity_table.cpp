/// capacity_table: a stand-in for a provisioned DynamoDB table, for benchmarks of the writer against a table's
/// capacity (issue 13). The Python stand-in (tests/python/ddb_fault_proxy.py --capacity) spends about 80 µs of CPU
/// per item, so it cannot take 20,000 items/s on a shared 2-core machine; this one answers the same way.
///
/// A token bucket of W write units per second, W on a schedule, holding at most --burst-seconds of unused capacity.
/// A BatchWriteItem gets the items, in request order, that the tokens cover (one unit per started KB of each item,
/// DynamoDB's rule); the rest comes back byte for byte as UnprocessedItems; a request that gets nothing is answered
/// ProvisionedThroughputExceededException. ConsumedCapacity is returned when the request asks for it. DescribeTable
/// reports a provisioned table keyed on --key (and --sort-key). Items are counted, not stored. Each second's accepted
/// write units go to --log as one JSON line; GET /stats answers the totals and the seconds so far.
///
/// With --partitions N, the table is also split the way DynamoDB splits it: each item goes to the partition a hash
/// of its partition key value picks, and each partition has its own bucket (--partition-wcu per second, 1,000 by
/// default: DynamoDB's limit per partition). An item is accepted when both its partition and the table have the
/// tokens; an item of a partition without tokens comes back unprocessed while the other items of the request are
/// still taken (DynamoDB writes a batch's items to their partitions independently).

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "fake/http_fake.hpp"
#include "json/writer.hpp"
#include "tarius/aws/errors.hpp"

namespace {

using tarius::fake::fake_request;
using tarius::fake::fake_response;
using steady = std::chrono::steady_clock;

constexpr const char* USAGE =
    "usage: capacity_table --wcu SCHEDULE [--burst-seconds S] [--key NAME[:S|N|B]] [--sort-key NAME[:S|N|B]]\n"
    "                      [--partitions N --partition-wcu P] [--log FILE] [--port N] [--max-seconds S]\n"
    "Prints the port it listens on (127.0.0.1) on stdout and serves until SIGTERM/SIGINT.\n"
    "  --wcu SCHEDULE       write units per second: '10000', or '0:10000,5:2000,10:10000' (from the first write)\n"
    "  --burst-seconds S    unused capacity kept, in seconds of capacity (default 1)\n"
    "  --key NAME[:TYPE]    the partition key DescribeTable reports (default ID:S)\n"
    "  --sort-key NAME[:TYPE]  a sort key DescribeTable reports too\n"
    "  --partitions N       items go to N partitions by a hash of their partition key value; each partition also\n"
    "                       limits its items to --partition-wcu P write units per second (default 1000), with the\n"
    "                       same burst; an item whose partition has no tokens comes back unprocessed\n"
    "  --log FILE           one JSON line per second: accepted items and write units, requests, throttled,\n"
    "                       partial, capacity\n"
    "  --max-seconds S      exit after S seconds even without a signal (a guard for forgotten processes)\n"
    "GET /stats answers the counters as JSON.\n";

constexpr std::string_view TARGET_PREFIX = "DynamoDB_20120810.";
constexpr std::string_view THROTTLE_BODY =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
    R"("message":"The level of configured provisioned throughput for the table was exceeded. )"
    R"(Consider increasing your provisioning level with the UpdateTable API."})";

/// One step of the capacity schedule: from `at_seconds` after the first write on, `wcu` units per second.
struct schedule_step {
    double at_seconds = 0;  ///< seconds after the first BatchWriteItem
    double wcu = 0;         ///< write units per second from then on
};

/// "10000" or "0:10000,5:2000,10:10000"; nullopt when malformed or when time 0 has no capacity.
std::optional<std::vector<schedule_step>> parse_schedule(std::string_view text) {
    std::vector<schedule_step> steps;
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string part(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        schedule_step step;
        const size_t colon = part.find(':');
        char* end = nullptr;
        if (colon != std::string::npos) {
            step.at_seconds = std::strtod(part.c_str(), &end);
            if (end != part.c_str() + colon) return std::nullopt;
        }
        const char* wcu_text = part.c_str() + (colon == std::string::npos ? 0 : colon + 1);
        step.wcu = std::strtod(wcu_text, &end);
        if (end == wcu_text || *end != '\0' || !(step.wcu > 0) || step.at_seconds < 0) return std::nullopt;
        steps.push_back(step);
    }
    std::sort(steps.begin(), steps.end(),
              [](const schedule_step& a, const schedule_step& b) { return a.at_seconds < b.at_seconds; });
    if (steps.empty() || steps.front().at_seconds > 0) return std::nullopt;
    return steps;
}

// ---- raw JSON spans: the proxy hands back unprocessed requests byte for byte -----------------------------------

size_t skip_ws(std::string_view s, size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}

/// The index past the string starting at s[i] (a '"'), or npos.
size_t string_end(std::string_view s, size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;  // the escaped character, whatever it is, cannot end the string
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

/// The index past the JSON value starting at s[i], or npos.
size_t value_end(std::string_view s, size_t i) {
    if (i >= s.size()) return std::string_view::npos;
    if (s[i] == '"') return string_end(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = string_end(s, i);
                if (i == std::string_view::npos) return i;
                continue;
            }
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            ++i;
        }
        return std::string_view::npos;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' &&
           s[i] != '\r') {
        ++i;
    }
    return i;
}

/// One write request of a BatchWriteItem: its table and its raw `{"PutRequest":...}` bytes.
struct write_request {
    std::string table;     ///< the table name as written in the body (JSON-escaped)
    std::string_view raw;  ///< the request's bytes in the body
};

/// Calls `member(name_raw, value_start, value_end)` for each member of the object at s[i]; false when malformed.
template <typename F>
bool for_each_member(std::string_view s, size_t i, F&& member) {
    i = skip_ws(s, i);
    if (i >= s.size() || s[i] != '{') return false;
    i = skip_ws(s, i + 1);
    if (i < s.size() && s[i] == '}') return true;
    while (i < s.size()) {
        const size_t name_end = string_end(s, i);
        if (s[i] != '"' || name_end == std::string_view::npos) return false;
        const std::string_view name = s.substr(i + 1, name_end - i - 2);
        i = skip_ws(s, name_end);
        if (i >= s.size() || s[i] != ':') return false;
        const size_t start = skip_ws(s, i + 1);
        const size_t end = value_end(s, start);
        if (end == std::string_view::npos) return false;
        if (!member(name, start, end)) return false;
        i = skip_ws(s, end);
        if (i < s.size() && s[i] == '}') return true;
        if (i >= s.size() || s[i] != ',') return false;
        i = skip_ws(s, i + 1);
    }
    return false;
}

/// The write requests of a BatchWriteItem body, in order, and whether it asks for ConsumedCapacity.
bool split_batch(std::string_view body, std::vector<write_request>& out, bool& wants_capacity) {
    wants_capacity = false;
    return for_each_member(body, 0, [&](std::string_view name, size_t start, size_t end) {
        if (name == "ReturnConsumedCapacity") {
            const std::string_view value = body.substr(start, end - start);
            wants_capacity = value == "\"TOTAL\"" || value == "\"INDEXES\"";
            return true;
        }
        if (name != "RequestItems") return true;
        return for_each_member(body, start, [&](std::string_view table, size_t array_start, size_t) {
            size_t i = skip_ws(body, array_start);
            if (i >= body.size() || body[i] != '[') return false;
            i = skip_ws(body, i + 1);
            if (i < body.size() && body[i] == ']') return true;
            while (i < body.size()) {
                const size_t element_end = value_end(body, i);
                if (element_end == std::string_view::npos) return false;
                out.push_back({std::string(table), body.substr(i, element_end - i)});
                i = skip_ws(body, element_end);
                if (i < body.size() && body[i] == ']') return true;
                if (i >= body.size() || body[i] != ',') return false;
                i = skip_ws(body, i + 1);
            }
            return false;
        });
    });
}

// ---- DynamoDB's item size ---------------------------------------------------------------------------------------

/// Bytes of one attribute value (`{"S":"..."}` and the like) by DynamoDB's documented sizing: strings as UTF-8,
/// numbers one byte per two significant digits plus one, binaries decoded, null and booleans one byte, lists and
/// maps three bytes plus one per element.
uint64_t value_size(simdjson::dom::element value) {
    simdjson::dom::object typed;
    if (value.get_object().get(typed) != simdjson::SUCCESS) return 0;
    for (auto [kind, v] : typed) {
        std::string_view text;
        if (kind == "S") return v.get_string().get(text) == simdjson::SUCCESS ? text.size() : 0;
        if (kind == "N") {
            if (v.get_string().get(text) != simdjson::SUCCESS) return 0;
            size_t digits = 0;
            size_t first = std::string_view::npos;
            size_t last = 0;
            for (size_t idx = 0; idx < text.size() && text[idx] != 'e' && text[idx] != 'E'; ++idx) {
                if (text[idx] >= '1' && text[idx] <= '9') {
                    if (first == std::string_view::npos) first = digits;
                    last = digits;
                }
                if (text[idx] >= '0' && text[idx] <= '9') ++digits;
            }
            const size_t significant = first == std::string_view::npos ? 1 : last - first + 1;
            return 1 + (significant + 1) / 2;
        }
        if (kind == "B") {
            if (v.get_string().get(text) != simdjson::SUCCESS) return 0;
            const size_t padding =
                text.size() >= 2 ? static_cast<size_t>(std::count(text.end() - 2, text.end(), '=')) : 0;
            return text.size() / 4 * 3 - padding;
        }
        if (kind == "BOOL" || kind == "NULL") return 1;
        simdjson::dom::array elements;
        if ((kind == "SS" || kind == "NS" || kind == "BS") && v.get_array().get(elements) == simdjson::SUCCESS) {
            uint64_t total = 0;
            const std::string scalar(kind.substr(0, 1));
            for (simdjson::dom::element e : elements) {
                std::string_view member;
                if (e.get_string().get(member) != simdjson::SUCCESS) continue;
                if (scalar == "S") {
                    total += member.size();
                } else if (scalar == "B") {
                    total += member.size() / 4 * 3;
                } else {
                    total += 1 + (member.size() + 1) / 2;
                }
            }
            return total;
        }
        if (kind == "L" && v.get_array().get(elements) == simdjson::SUCCESS) {
            uint64_t total = 3;
            for (simdjson::dom::element e : elements) total += 1 + value_size(e);
            return total;
        }
        simdjson::dom::object map;
        if (kind == "M" && v.get_object().get(map) == simdjson::SUCCESS) {
            uint64_t total = 3;
            for (auto [name, e] : map) total += 1 + name.size() + value_size(e);
            return total;
        }
    }
    return 0;
}

/// What one write request costs and where it goes.
struct item_cost {
    uint64_t units = 1;     ///< one per started KB of its item (names plus values), at least one
    uint64_t key_hash = 0;  ///< FNV-1a of its partition key value as JSON (0 when it has none)
};

uint64_t fnv1a(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (char ch : text) {
        hash ^= static_cast<unsigned char>(ch);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/// The cost of one raw write request, its partition key being the attribute `key_name`.
item_cost cost_of(std::string_view raw, std::string_view key_name, simdjson::dom::parser& parser) {
    item_cost out;
    simdjson::dom::element request;
    if (parser.parse(raw.data(), raw.size(), true).get(request) != simdjson::SUCCESS) return out;
    simdjson::dom::object item;
    if (request["PutRequest"]["Item"].get_object().get(item) != simdjson::SUCCESS &&
        request["DeleteRequest"]["Key"].get_object().get(item) != simdjson::SUCCESS) {
        return out;
    }
    uint64_t size = 0;
    for (auto [name, value] : item) {
        size += name.size() + value_size(value);
        if (name == key_name) out.key_hash = fnv1a(simdjson::minify(value));
    }
    out.units = std::max<uint64_t>(1, (size + 1023) / 1024);
    return out;
}

// ---- the table ---------------------------------------------------------------------------------------------------

/// Counters of one second (or of the whole run).
struct counters {
    uint64_t requests = 0;            ///< BatchWriteItem requests
    uint64_t items = 0;               ///< items accepted
    double wcu = 0;                   ///< write units accepted
    uint64_t throttled_requests = 0;  ///< requests answered ProvisionedThroughputExceededException
    uint64_t partial_requests = 0;    ///< requests answered with UnprocessedItems
    uint64_t unprocessed_items = 0;   ///< items handed back
    uint64_t partition_refused = 0;   ///< of which: items whose partition had no tokens (--partitions)
};

void write_counters(tarius::json::writer& w, const counters& c) {
    w.key("requests").value(c.requests).key("items").value(c.items).key("wcu").value(c.wcu);
    w.key("throttled_requests").value(c.throttled_requests).key("partial_requests").value(c.partial_requests);
    w.key("unprocessed_items").value(c.unprocessed_items).key("partition_refused").value(c.partition_refused);
}

fake_response json_answer(int status, std::string body) {
    fake_response out;
    out.status = status;
    static std::atomic<uint64_t> sequence{0};
    char request_id[53];
    std::snprintf(request_id, sizeof(request_id), "CAPACITYTABLE%039llu",
                  static_cast<unsigned long long>(sequence.fetch_add(1)));
    out.headers = {{"x-amzn-RequestId", request_id},
                   {"x-amz-crc32", std::to_string(tarius::aws::crc32(body))},
                   {"Content-Type", "application/x-amz-json-1.0"}};
    out.body = std::move(body);
    return out;
}

/// The provisioned table: a token bucket shared by every connection's thread.
class capacity_table {
public:
    /// The key's and sort key's attribute names and types; `partitions` of `partition_wcu` each (0: none).
    capacity_table(std::vector<schedule_step> schedule, double burst_seconds, std::string key_name,
                   std::string key_type, std::string sort_name, std::string sort_type, size_t partitions,
                   double partition_wcu)
        : schedule_(std::move(schedule)),
          burst_seconds_(burst_seconds),
          key_name_(std::move(key_name)),
          key_type_(std::move(key_type)),
          sort_name_(std::move(sort_name)),
          sort_type_(std::move(sort_type)),
          partition_wcu_(partition_wcu),
          partition_tokens_(partitions, partition_wcu * burst_seconds) {}

    /// The answer to one request (any connection's thread).
    fake_response answer(const fake_request& req) {
        if (req.method == "GET" && req.path == "/stats") return json_answer(200, stats_json());
        const std::string target(req.header("X-Amz-Target").value_or(""));
        if (target == std::string(TARGET_PREFIX) + "BatchWriteItem") return batch_write(req.body);
        if (target == std::string(TARGET_PREFIX) + "DescribeTable") return describe_table(req.body);
        return json_answer(400, R"({"__type":"com.amazon.coral.service#UnknownOperationException",)"
                                R"("message":"capacity_table answers BatchWriteItem and DescribeTable"})");
    }

    /// Writes one JSON line per finished second (every second so far when `final`).
    void write_log(std::FILE* log, bool final) {
        if (log == nullptr) return;
        std::lock_guard lock(mutex_);
        if (!started_) return;
        const double elapsed = std::chrono::duration<double>(steady::now() - *started_).count();
        const size_t through = final ? seconds_.size() : std::min(seconds_.size(), static_cast<size_t>(elapsed));
        for (; logged_ < through; ++logged_) {
            std::string line;
            tarius::json::writer w(line);
            w.begin_object().key("second").value(static_cast<uint64_t>(logged_));
            w.key("capacity").value(capacity_at(static_cast<double>(logged_)));
            write_counters(w, seconds_[logged_]);
            w.end_object();
            std::fprintf(log, "%s\n", line.c_str());
        }
        std::fflush(log);
    }

private:
    double capacity_at(double elapsed) const {
        double wcu = schedule_.front().wcu;
        for (const schedule_step& step : schedule_) {
            if (step.at_seconds <= elapsed) wcu = step.wcu;
        }
        return wcu;
    }

    fake_response batch_write(const std::string& body) {
        std::vector<write_request> requests;
        bool wants_capacity = false;
        if (!split_batch(body, requests, wants_capacity) || requests.empty()) {
            return json_answer(400, R"({"__type":"com.amazon.coral.validate#ValidationException",)"
                                    R"("message":"capacity_table: malformed BatchWriteItem body"})");
        }
        thread_local simdjson::dom::parser parser;
        std::vector<item_cost> costs(requests.size());
        for (size_t idx = 0; idx < requests.size(); ++idx) costs[idx] = cost_of(requests[idx].raw, key_name_, parser);

        std::vector<size_t> unprocessed;  // indexes, in request order
        size_t accepted = 0;
        double accepted_units = 0;
        {
            std::lock_guard lock(mutex_);
            const auto now = steady::now();
            refill(now);
            const double elapsed = std::chrono::duration<double>(now - *started_).count();
            last_request_seconds_ = elapsed;
            const size_t second = static_cast<size_t>(elapsed);
            if (seconds_.size() <= second) seconds_.resize(second + 1);
            // Items in request order while the table's tokens cover them (the first that does not fit ends the
            // batch); with partitions, an item whose partition has no tokens is handed back and the next tried.
            uint64_t refused_by_partition = 0;
            bool table_out = false;
            for (size_t idx = 0; idx < costs.size(); ++idx) {
                const double units = static_cast<double>(costs[idx].units);
                if (table_out || tokens_ < units) {
                    table_out = true;
                    unprocessed.push_back(idx);
                    continue;
                }
                double* partition = partition_tokens_.empty()
                                        ? nullptr
                                        : &partition_tokens_[costs[idx].key_hash % partition_tokens_.size()];
                if (partition && *partition < units) {
                    ++refused_by_partition;
                    unprocessed.push_back(idx);
                    continue;
                }
                tokens_ -= units;
                if (partition) *partition -= units;
                accepted_units += units;
                ++accepted;
            }
            for (counters* c : {&seconds_[second], &totals_}) {
                ++c->requests;
                c->items += accepted;
                c->wcu += accepted_units;
                c->partition_refused += refused_by_partition;
                if (accepted == 0) ++c->throttled_requests;
                if (accepted > 0 && !unprocessed.empty()) {
                    ++c->partial_requests;
                    c->unprocessed_items += unprocessed.size();
                }
            }
        }
        if (accepted == 0) return json_answer(400, std::string(THROTTLE_BODY));

        std::string out = R"({"UnprocessedItems":{)";
        for (size_t pos = 0; pos < unprocessed.size();) {
            const std::string& table = requests[unprocessed[pos]].table;
            if (pos > 0) out += ',';
            out += '"' + table + "\":[";  // the name as it was written in the request (still escaped)
            for (bool first = true; pos < unprocessed.size() && requests[unprocessed[pos]].table == table;
                 ++pos, first = false) {
                if (!first) out += ',';
                out += requests[unprocessed[pos]].raw;
            }
            out += ']';
        }
        out += '}';
        if (wants_capacity) {
            out += R"(,"ConsumedCapacity":[{"TableName":")" + requests.front().table + R"(","CapacityUnits":)";
            char units_text[32];
            std::snprintf(units_text, sizeof(units_text), "%.1f", accepted_units);
            out += units_text;
            out += "}]";
        }
        out += '}';
        return json_answer(200, std::move(out));
    }

    fake_response describe_table(const std::string& body) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        std::string_view name;
        if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["TableName"].get_string().get(name)) {
            return json_answer(400, R"({"__type":"com.amazon.coral.validate#ValidationException",)"
                                    R"("message":"capacity_table: DescribeTable needs a TableName"})");
        }
        double wcu = 0;
        {
            std::lock_guard lock(mutex_);
            wcu = capacity_at(started_ ? std::chrono::duration<double>(steady::now() - *started_).count() : 0);
        }
        std::string out;
        tarius::json::writer w(out);
        w.begin_object().key("Table").begin_object();
        w.key("TableName").value(name).key("TableStatus").value("ACTIVE");
        w.key("TableArn").value("arn:aws:dynamodb:us-east-1:000000000000:table/" + std::string(name));
        w.key("KeySchema").begin_array().begin_object();
        w.key("AttributeName").value(key_name_).key("KeyType").value("HASH").end_object();
        if (!sort_name_.empty()) {
            w.begin_object().key("AttributeName").value(sort_name_).key("KeyType").value("RANGE").end_object();
        }
        w.end_array();
        w.key("AttributeDefinitions").begin_array().begin_object();
        w.key("AttributeName").value(key_name_).key("AttributeType").value(key_type_).end_object();
        if (!sort_name_.empty()) {
            w.begin_object().key("AttributeName").value(sort_name_).key("AttributeType").value(sort_type_).end_object();
        }
        w.end_array();
        w.key("BillingModeSummary").begin_object().key("BillingMode").value("PROVISIONED").end_object();
        w.key("ProvisionedThroughput").begin_object().key("ReadCapacityUnits").value(uint64_t{1});
        w.key("WriteCapacityUnits").value(static_cast<uint64_t>(wcu)).end_object();
        w.end_object().end_object();
        return json_answer(200, std::move(out));
    }

    // Under mutex_: the bucket gains the current capacity's rate for the time since the last refill.
    void refill(steady::time_point now) {
        if (!started_) {
            started_ = now;
            refilled_at_ = now;
            tokens_ = capacity_at(0) * burst_seconds_;
            return;
        }
        const double rate = capacity_at(std::chrono::duration<double>(now - *started_).count());
        const double seconds = std::chrono::duration<double>(now - refilled_at_).count();
        tokens_ = std::min(rate * burst_seconds_, tokens_ + rate * seconds);
        for (double& partition : partition_tokens_) {
            partition = std::min(partition_wcu_ * burst_seconds_, partition + partition_wcu_ * seconds);
        }
        refilled_at_ = now;
    }

    std::string stats_json() {
        std::lock_guard lock(mutex_);
        std::string out;
        tarius::json::writer w(out);
        w.begin_object().key("totals").begin_object();
        write_counters(w, totals_);
        // From the first BatchWriteItem to the last one.
        w.key("span_seconds").value(last_request_seconds_);
        w.end_object().key("seconds").begin_array();
        for (size_t second = 0; second < seconds_.size(); ++second) {
            w.begin_object().key("second").value(static_cast<uint64_t>(second));
            w.key("capacity").value(capacity_at(static_cast<double>(second)));
            write_counters(w, seconds_[second]);
            w.end_object();
        }
        w.end_array().end_object();
        return out;
    }

    const std::vector<schedule_step> schedule_;
    const double burst_seconds_;
    const std::string key_name_;
    const std::string key_type_;
    const std::string sort_name_;
    const std::string sort_type_;
    const double partition_wcu_;
    std::mutex mutex_;
    std::vector<double> partition_tokens_;       // one bucket per partition (none without --partitions)
    double last_request_seconds_ = 0;            // the last BatchWriteItem, after the first
    std::optional<steady::time_point> started_;  // the first BatchWriteItem
    steady::time_point refilled_at_;
    double tokens_ = 0;
    std::vector<counters> seconds_;
    counters totals_;
    size_t logged_ = 0;
};

int usage_error(const char* why) {
    std::fprintf(stderr, "capacity_table: %s\n%s", why, USAGE);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<std::vector<schedule_step>> schedule;
    double burst_seconds = 1.0;
    std::string key = "ID:S";
    std::string sort_key;
    long partitions = 0;
    double partition_wcu = 1000;
    std::string log_path;
    long port = 0;
    long max_seconds = 0;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string_view arg = argv[idx];
        if (arg == "-h" || arg == "--help") {
            std::fputs(USAGE, stdout);
            return 0;
        }
        if (idx + 1 >= argc) return usage_error("missing value or unknown flag");
        const char* value = argv[++idx];
        if (arg == "--wcu") {
            schedule = parse_schedule(value);
            if (!schedule) return usage_error("bad --wcu schedule");
        } else if (arg == "--burst-seconds") {
            burst_seconds = std::strtod(value, nullptr);
        } else if (arg == "--key") {
            key = value;
        } else if (arg == "--sort-key") {
            sort_key = value;
        } else if (arg == "--partitions") {
            partitions = std::strtol(value, nullptr, 10);
        } else if (arg == "--partition-wcu") {
            partition_wcu = std::strtod(value, nullptr);
        } else if (arg == "--log") {
            log_path = value;
        } else if (arg == "--port") {
            port = std::strtol(value, nullptr, 10);
        } else if (arg == "--max-seconds") {
            max_seconds = std::strtol(value, nullptr, 10);
        } else {
            return usage_error("unknown flag");
        }
    }
    if (!schedule) return usage_error("--wcu is required");
    if (!(burst_seconds > 0)) return usage_error("bad --burst-seconds");
    if (port < 0 || port > 65535) return usage_error("bad --port");
    const size_t colon = key.find(':');
    const std::string key_name = key.substr(0, colon);
    const std::string key_type = colon == std::string::npos ? "S" : key.substr(colon + 1);
    if (key_name.empty() || (key_type != "S" && key_type != "N" && key_type != "B")) return usage_error("bad --key");
    const size_t sort_colon = sort_key.find(':');
    const std::string sort_name = sort_key.substr(0, sort_colon);
    const std::string sort_type = sort_colon == std::string::npos ? "S" : sort_key.substr(sort_colon + 1);
    if (sort_type != "S" && sort_type != "N" && sort_type != "B") return usage_error("bad --sort-key");
    if (partitions < 0 || partitions > 100000 || !(partition_wcu > 0)) return usage_error("bad --partitions");

    // Signals are blocked before any thread starts so every thread inherits the mask and sigtimedwait() gets them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::FILE* log = nullptr;
    if (!log_path.empty()) {
        log = std::fopen(log_path.c_str(), "a");
        if (log == nullptr) return usage_error("cannot open --log file");
    }
    capacity_table table(std::move(*schedule), burst_seconds, key_name, key_type, sort_name, sort_type,
                         static_cast<size_t>(partitions), partition_wcu);
    tarius::fake::http_fake server([&table](const fake_request& req) { return table.answer(req); });
    server.set_recording(false);  // a long benchmark must not grow memory
    auto started = server.start(static_cast<uint16_t>(port));
    if (!started) {
        std::fprintf(stderr, "capacity_table: %s\n", started.err().message.c_str());
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);

    // Wake every second to log the seconds that ended; stop on a signal or after --max-seconds.
    const auto deadline = steady::now() + std::chrono::seconds(max_seconds);
    for (;;) {
        timespec second{};
        second.tv_sec = 1;
        if (sigtimedwait(&signals, nullptr, &second) >= 0) break;
        if (errno != EAGAIN && errno != EINTR) break;
        table.write_log(log, false);
        if (max_seconds > 0 && steady::now() >= deadline) break;
    }
    server.stop();
    table.write_log(log, true);
    if (log != nullptr) std::fclose(log);
    return 0;
}
