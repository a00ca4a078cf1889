/// fault_server: a standalone DynamoDB stand-in for Python tests and benchmarks, served by the single-threaded
/// epoll server (fake/event_http_server.hpp) so that it costs little CPU next to the client it measures.
///
/// Prints its port on stdout, then answers until SIGTERM/SIGINT (or --max-seconds). Every POST is answered like
/// DynamoDB's BatchWriteItem: 200 {"UnprocessedItems":{}} with a correct x-amz-crc32 and an x-amzn-RequestId (a
/// PutItem / UpdateItem / DeleteItem: 200 {"ConsumedCapacity":{...,"CapacityUnits":1.0}}).
/// --faults applies scripted faults to the first POSTs, in order, then answers normally.

#include <signal.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "fake/event_http_server.hpp"

namespace {

using tarius::fake::fake_action;
using tarius::fake::fake_request;
using tarius::fake::fake_response;

constexpr const char* USAGE =
    "usage: fault_server [--mode ddb-ok|ddb-unprocessed] [--faults KIND[:COUNT],...] [--port N]\n"
    "                    [--slow-ms MS] [--log FILE] [--max-seconds S] [--latency-ms MS] [--accepted FILE]\n"
    "                    [--ccf-every N] [--report-capacity] [--timer-resolution-us US]\n"
    "Prints the port it listens on (127.0.0.1) on stdout and serves until SIGTERM/SIGINT.\n"
    "  --mode ddb-ok           every POST: 200 {\"UnprocessedItems\":{}} (default); a PutItem, UpdateItem or\n"
    "                          DeleteItem: 200 {\"ConsumedCapacity\":{\"TableName\":..,\"CapacityUnits\":1.0}}\n"
    "  --mode ddb-unprocessed  every POST: 200 with the second half of each table's items unprocessed\n"
    "  --faults LIST           faults for the first POSTs, in order, then the mode's answer. KIND is one of\n"
    "      throttle     400 ProvisionedThroughputExceededException\n"
    "      throttling   400 ThrottlingException\n"
    "      NNN          that status (e.g. 500, 503) with a DynamoDB-style JSON error\n"
    "      reset        reset the connection without answering\n"
    "      close        close the connection without answering\n"
    "      truncate     announce the whole body, send half of it, close\n"
    "      badcrc       200 with a wrong x-amz-crc32\n"
    "      unprocessed  200 with half of each table's items under UnprocessedItems\n"
    "      slow         wait --slow-ms (default 2000) before the normal answer\n"
    "  --log FILE      one JSON line per request: seq, method, target, fault, body_bytes\n"
    "  --latency-ms MS answer every POST after MS milliseconds (a service's latency, for benchmarks)\n"
    "  --accepted FILE one line per item the stub accepted (written): the PutRequest Item, minified\n"
    "  --report-capacity  BatchWriteItem answers carry ConsumedCapacity: 1 unit per item written (items under 1 KB)\n"
    "  --ccf-every N   every Nth PutItem/UpdateItem/DeleteItem: 400 ConditionalCheckFailedException\n"
    "  --max-seconds S exit after S seconds even without a signal (a guard for forgotten processes)\n"
    "  --timer-resolution-us US  delays (--latency-ms, slow) end on a grid of US microseconds: each answer is\n"
    "                  within US/2 of its delay, the mean stays exact, and answers due together leave in one wake-up\n"
    "                  (fewer wake-ups of the stub and of the client it measures); 0 (default) = each at its own "
    "time\n";

enum class fault_kind : uint8_t {
    NONE,
    THROTTLE,
    THROTTLING,
    STATUS,
    RESET,
    CLOSE,
    TRUNCATE,
    BAD_CRC,
    UNPROCESSED,
    SLOW
};

struct fault {
    fault_kind kind = fault_kind::NONE;
    int status = 0;  // for STATUS
    std::string name;
};

/// CRC-32 (IEEE 802.3, zlib's), the checksum DynamoDB puts in x-amz-crc32.
uint32_t crc32(std::string_view data) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char byte : data) c = table[(c ^ byte) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out.append(buf);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

/// Parses "throttle:3,500:2,reset" into one fault per request. Returns false on an unknown kind.
bool parse_faults(std::string_view spec, std::vector<fault>& out) {
    while (!spec.empty()) {
        size_t comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        if (item.empty()) continue;
        size_t colon = item.find(':');
        std::string_view name = item.substr(0, colon);
        long count = 1;
        if (colon != std::string_view::npos) {
            std::string digits(item.substr(colon + 1));
            char* end = nullptr;
            count = std::strtol(digits.c_str(), &end, 10);
            if (end == digits.c_str() || *end != '\0' || count < 0) return false;
        }
        fault f;
        f.name = std::string(name);
        if (name == "throttle") {
            f.kind = fault_kind::THROTTLE;
        } else if (name == "throttling") {
            f.kind = fault_kind::THROTTLING;
        } else if (name == "reset") {
            f.kind = fault_kind::RESET;
        } else if (name == "close") {
            f.kind = fault_kind::CLOSE;
        } else if (name == "truncate") {
            f.kind = fault_kind::TRUNCATE;
        } else if (name == "badcrc") {
            f.kind = fault_kind::BAD_CRC;
        } else if (name == "unprocessed") {
            f.kind = fault_kind::UNPROCESSED;
        } else if (name == "slow") {
            f.kind = fault_kind::SLOW;
        } else if (name.size() == 3 && name[0] >= '1' && name[0] <= '5' && name[1] >= '0' && name[1] <= '9' &&
                   name[2] >= '0' && name[2] <= '9') {
            f.kind = fault_kind::STATUS;
            f.status = std::atoi(std::string(name).c_str());
        } else {
            return false;
        }
        for (long idx = 0; idx < count; ++idx) out.push_back(f);
    }
    return true;
}

/// Appends the items of a BatchWriteItem body that the stub accepts (all, or the first half when `keep_half`,
/// matching unprocessed_half) to `out`, one minified Item per line.
void accepted_items(simdjson::dom::parser& parser, const std::string& request_body, bool keep_half, std::string& out) {
    simdjson::dom::element doc;
    if (parser.parse(request_body).get(doc) != simdjson::SUCCESS) return;
    simdjson::dom::object tables;
    if (doc["RequestItems"].get_object().get(tables) != simdjson::SUCCESS) return;
    for (auto [table, requests] : tables) {
        simdjson::dom::array list;
        if (requests.get_array().get(list) != simdjson::SUCCESS) continue;
        const size_t n = list.size();
        const size_t take = keep_half ? n - n / 2 : n;
        size_t idx = 0;
        for (simdjson::dom::element request : list) {
            if (idx++ >= take) break;
            simdjson::dom::element item;
            if (request["PutRequest"]["Item"].get(item) != simdjson::SUCCESS) continue;
            out.append(simdjson::minify(item));
            out.push_back('\n');
        }
    }
}

/// The body of a DynamoDB error answer.
std::string error_body(std::string_view type, std::string_view message) {
    return std::string(R"({"__type":")") + std::string(type) + R"(","message":")" + std::string(message) + "\"}";
}

/// Builds {"UnprocessedItems":{...}} holding the second half (rounded down) of each table's write requests, each
/// echoed exactly as received (minified). Returns false when the body is not a BatchWriteItem request.
bool unprocessed_half(simdjson::dom::parser& parser, const std::string& request_body, std::string& out) {
    simdjson::dom::element doc;
    if (parser.parse(request_body).get(doc) != simdjson::SUCCESS) return false;
    simdjson::dom::object tables;
    if (doc["RequestItems"].get_object().get(tables) != simdjson::SUCCESS) return false;
    out = R"({"UnprocessedItems":{)";
    bool first_table = true;
    for (auto [table, requests] : tables) {
        simdjson::dom::array list;
        if (requests.get_array().get(list) != simdjson::SUCCESS) return false;
        size_t n = list.size();
        size_t keep_from = n - n / 2;
        if (n / 2 == 0) continue;
        if (!first_table) out.push_back(',');
        first_table = false;
        out.append("\"").append(json_escape(table)).append("\":[");
        size_t idx = 0;
        bool first_item = true;
        for (simdjson::dom::element item : list) {
            if (idx++ < keep_from) continue;
            if (!first_item) out.push_back(',');
            first_item = false;
            out.append(simdjson::minify(item));
        }
        out.append("]");
    }
    out.append("}}");
    return true;
}

/// The DynamoDB answers. Not thread-safe: answer() is called on the event loop's one thread only.
class ddb_stub {
public:
    ddb_stub(bool always_unprocessed, std::vector<fault> faults, std::chrono::milliseconds slow, std::FILE* log,
             std::chrono::milliseconds latency, std::FILE* accepted, uint64_t ccf_every, bool report_capacity)
        : always_unprocessed_(always_unprocessed),
          ccf_every_(ccf_every),
          report_capacity_(report_capacity),
          faults_(std::move(faults)),
          slow_(slow),
          log_(log),
          latency_(latency),
          accepted_(accepted) {}

    fake_response answer(const fake_request& req) {
        fake_response resp;
        if (req.method != "POST") {
            // Health checks (tarius_stack waits on GET /) consume no fault.
            resp.body = "{}";
            return resp;
        }
        const uint64_t post_idx = post_counter_++;
        fault f = post_idx < faults_.size() ? faults_[post_idx] : fault{};
        if (f.kind == fault_kind::NONE && always_unprocessed_) {
            f.kind = fault_kind::UNPROCESSED;
            f.name = "unprocessed";
        }
        log(req, post_idx, f);

        std::string body = R"({"UnprocessedItems":{}})";
        int status = 200;
        const std::string_view target = req.header("X-Amz-Target").value_or("");
        const bool item_write =
            target.ends_with(".PutItem") || target.ends_with(".UpdateItem") || target.ends_with(".DeleteItem");
        if (item_write) {
            body = R"({"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.0}})";
            const uint64_t item_idx = ++item_counter_;
            if (f.kind == fault_kind::NONE && ccf_every_ > 0 && item_idx % ccf_every_ == 0) {
                status = 400;
                body = error_body("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                                  "The conditional request failed");
            }
        }
        switch (f.kind) {
            case fault_kind::THROTTLE:
                status = 400;
                body = error_body("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                                  "The level of configured provisioned throughput for the table was exceeded. "
                                  "Consider increasing your provisioning level with the UpdateTable API.");
                break;
            case fault_kind::THROTTLING:
                status = 400;
                body = error_body("com.amazon.coral.availability#ThrottlingException",
                                  "Rate of requests exceeds the "
                                  "allowed throughput.");
                break;
            case fault_kind::STATUS:
                status = f.status;
                if (status == 500) {
                    body = error_body("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error");
                } else if (status == 503) {
                    body =
                        error_body("com.amazon.coral.availability#ServiceUnavailableException", "Service unavailable");
                } else if (status >= 400) {
                    body = error_body("com.amazonaws.dynamodb.v20120810#InjectedFault",
                                      "fault_server injected status " + std::to_string(status));
                }
                break;
            case fault_kind::RESET: resp.action = fake_action::RESET; return resp;
            case fault_kind::CLOSE: resp.action = fake_action::CLOSE; return resp;
            case fault_kind::SLOW: resp.delay = slow_; break;
            case fault_kind::UNPROCESSED: {
                std::string half;
                if (unprocessed_half(parser_, req.body, half)) {
                    body = std::move(half);
                } else {
                    status = 400;
                    body = error_body("com.amazon.coral.service#SerializationException",
                                      "fault_server: not a BatchWriteItem body");
                }
                break;
            }
            case fault_kind::NONE:
            case fault_kind::TRUNCATE:
            case fault_kind::BAD_CRC:
                if (report_capacity_ && !item_write) {
                    const size_t items = items_in(parser_, req.body);
                    body = R"({"UnprocessedItems":{},"ConsumedCapacity":[{"TableName":"t","CapacityUnits":)" +
                           std::to_string(items) + ".0}]}";
                }
                break;
        }
        if (accepted_ != nullptr && status == 200) {
            // What a real table would now hold; a truncated or corrupted answer still wrote the items.
            std::string lines;
            accepted_items(parser_, req.body, f.kind == fault_kind::UNPROCESSED, lines);
            std::fputs(lines.c_str(), accepted_);
            std::fflush(accepted_);
        }
        if (resp.delay.count() == 0) resp.delay = latency_;
        uint32_t crc = crc32(body);
        if (f.kind == fault_kind::BAD_CRC) crc ^= 0x5A5A5A5Au;
        char request_id[40];
        std::snprintf(request_id, sizeof(request_id), "FAULTSRV%024llu",
                      static_cast<unsigned long long>(post_idx));  // DynamoDB ids are 52 chars; length is not checked
        resp.status = status;
        resp.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                        {"x-amzn-RequestId", request_id},
                        {"x-amz-crc32", std::to_string(crc)}};
        if (f.kind == fault_kind::TRUNCATE) resp.truncate_after = body.size() / 2;
        resp.body = std::move(body);
        return resp;
    }

private:
    void log(const fake_request& req, uint64_t post_idx, const fault& f) {
        if (log_ == nullptr) return;
        std::string line = "{\"seq\":" + std::to_string(req.sequence) + ",\"post\":" + std::to_string(post_idx) +
                           ",\"method\":\"" + json_escape(req.method) + "\",\"target\":\"" +
                           json_escape(req.header("X-Amz-Target").value_or("")) + "\",\"fault\":\"" +
                           json_escape(f.kind == fault_kind::NONE ? "none" : f.name) +
                           "\",\"body_bytes\":" + std::to_string(req.body_bytes) +
                           ",\"connection\":" + std::to_string(req.connection_id) + "}\n";
        std::fputs(line.c_str(), log_);
        std::fflush(log_);
    }

    // The requests of a BatchWriteItem body (0 when it is not one).
    static size_t items_in(simdjson::dom::parser& parser, const std::string& request_body) {
        simdjson::dom::object tables;
        if (parser.parse(request_body)["RequestItems"].get_object().get(tables) != simdjson::SUCCESS) return 0;
        size_t n = 0;
        for (auto [table, requests] : tables) {
            simdjson::dom::array list;
            if (requests.get_array().get(list) == simdjson::SUCCESS) n += list.size();
        }
        return n;
    }

    bool always_unprocessed_;
    uint64_t ccf_every_;
    bool report_capacity_;
    std::vector<fault> faults_;
    std::chrono::milliseconds slow_;
    std::FILE* log_;
    std::chrono::milliseconds latency_;
    std::FILE* accepted_;
    simdjson::dom::parser parser_;  // one for the server: answer() runs on its single loop thread
    uint64_t post_counter_ = 0;
    uint64_t item_counter_ = 0;
};

int usage_error(const char* why) {
    std::fprintf(stderr, "fault_server: %s\n%s", why, USAGE);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = "ddb-ok";
    std::vector<fault> faults;
    long port = 0;
    long slow_ms = 2000;
    long max_seconds = 0;
    std::string log_path;
    std::string accepted_path;
    long latency_ms = 0;
    long ccf_every = 0;
    long timer_resolution_us = 0;
    bool report_capacity = false;
    for (int idx = 1; idx < argc; ++idx) {
        std::string_view arg = argv[idx];
        if (arg == "-h" || arg == "--help") {
            std::fputs(USAGE, stdout);
            return 0;
        }
        if (arg == "--report-capacity") {
            report_capacity = true;
            continue;
        }
        if (idx + 1 >= argc) return usage_error("missing value or unknown flag");
        const char* value = argv[++idx];
        if (arg == "--mode") {
            mode = value;
        } else if (arg == "--faults") {
            if (!parse_faults(value, faults)) return usage_error("bad --faults list");
        } else if (arg == "--port") {
            port = std::strtol(value, nullptr, 10);
        } else if (arg == "--slow-ms") {
            slow_ms = std::strtol(value, nullptr, 10);
        } else if (arg == "--log") {
            log_path = value;
        } else if (arg == "--latency-ms") {
            latency_ms = std::strtol(value, nullptr, 10);
        } else if (arg == "--accepted") {
            accepted_path = value;
        } else if (arg == "--ccf-every") {
            ccf_every = std::strtol(value, nullptr, 10);
        } else if (arg == "--timer-resolution-us") {
            timer_resolution_us = std::strtol(value, nullptr, 10);
        } else if (arg == "--max-seconds") {
            max_seconds = std::strtol(value, nullptr, 10);
        } else {
            return usage_error("unknown flag");
        }
    }
    if (mode != "ddb-ok" && mode != "ddb-unprocessed") return usage_error("unknown --mode");
    if (port < 0 || port > 65535) return usage_error("bad --port");
    if (timer_resolution_us < 0) return usage_error("bad --timer-resolution-us");

    // Signals are blocked before any thread starts so every thread inherits the mask and sigwait() gets them.
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
    std::FILE* accepted = nullptr;
    if (!accepted_path.empty()) {
        accepted = std::fopen(accepted_path.c_str(), "a");
        if (accepted == nullptr) return usage_error("cannot open --accepted file");
    }
    ddb_stub stub(mode == "ddb-unprocessed", std::move(faults), std::chrono::milliseconds(slow_ms), log,
                  std::chrono::milliseconds(latency_ms), accepted, static_cast<uint64_t>(std::max(0L, ccf_every)),
                  report_capacity);
    tarius::fake::event_http_server server([&stub](const fake_request& req) { return stub.answer(req); });
    server.set_timer_resolution(std::chrono::microseconds(timer_resolution_us));
    auto started = server.start(static_cast<uint16_t>(port));
    if (!started) {
        std::fprintf(stderr, "fault_server: %s\n", started.err().message.c_str());
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);

    if (max_seconds > 0) {
        timespec limit{};
        limit.tv_sec = max_seconds;
        // Returns on a signal or when the limit passes; both end the server.
        while (sigtimedwait(&signals, nullptr, &limit) < 0 && errno == EINTR) {
        }
    } else {
        int sig = 0;
        sigwait(&signals, &sig);
    }
    server.stop();
    if (log != nullptr) std::fclose(log);
    if (accepted != nullptr) std::fclose(accepted);
    return 0;
}
