#include "tarius/lambda/handler.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "json/writer.hpp"
#include "tarius/lambda/continuation.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/loader/worker.hpp"

namespace tarius::lambda {
namespace {

int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

handler_result failure(std::string type, std::string message) {
    return handler_result{true, std::move(type), std::move(message)};
}

// One SQS record of an SQS event.
struct sqs_record {
    std::string message_id;
    std::string body;
    std::string queue_arn;
};

result<std::vector<sqs_record>> parse_sqs_records(simdjson::dom::array records) {
    std::vector<sqs_record> out;
    for (simdjson::dom::element record : records) {
        std::string_view id, body, arn;
        if (record["messageId"].get(id) != simdjson::SUCCESS || record["body"].get(body) != simdjson::SUCCESS) {
            return make_error(errc::INVALID_ARGUMENT, "SQS event: a record without messageId or body");
        }
        if (record["eventSourceARN"].get(arn) != simdjson::SUCCESS) arn = {};  // only needed for continuations
        out.push_back({std::string(id), std::string(body), std::string(arn)});
    }
    return out;
}

}  // namespace

void log_event(const char* level, const std::string& message, const std::string& request_id,
               const std::string& detail) {
    if (!loader::log_enabled(level)) return;
    std::string out;
    json::writer w(out);
    w.begin_object().key("level").value(level).key("msg").value(message);
    if (!request_id.empty()) w.key("request_id").value(request_id);
    if (!detail.empty()) w.key("detail").value(detail);
    w.end_object();
    std::fprintf(stdout, "%s\n", out.c_str());
    std::fflush(stdout);
}

std::string event_kind(std::string_view payload) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(payload.data(), payload.size()).get(doc) != simdjson::SUCCESS) return "unknown";
    simdjson::dom::array records;
    if (doc["Records"].get(records) == simdjson::SUCCESS) {
        std::string_view source;
        for (simdjson::dom::element record : records) {
            if (record["eventSource"].get(source) != simdjson::SUCCESS) source = {};
            break;
        }
        if (source == "aws:sqs") return "sqs";
        if (source == "aws:s3") return doc["tariusContinuation"].error() == simdjson::SUCCESS ? "continuation" : "s3";
        return "unknown";
    }
    std::string_view source;
    if (doc["source"].get(source) == simdjson::SUCCESS && source == "aws.s3") return "eventbridge";
    std::string_view test;
    if (doc["Event"].get(test) == simdjson::SUCCESS && test == "s3:TestEvent") return "s3";
    return "unknown";
}

result<std::string> queue_url_from_arn(std::string_view queue_arn, std::string_view sqs_endpoint_url) {
    // arn:partition:sqs:region:account:name
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (size_t colon; (colon = queue_arn.find(':', start)) != std::string_view::npos; start = colon + 1) {
        parts.push_back(queue_arn.substr(start, colon - start));
    }
    parts.push_back(queue_arn.substr(start));
    if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[4].empty() || parts[5].empty()) {
        return make_error(errc::INVALID_ARGUMENT, "not an SQS queue ARN: " + std::string(queue_arn));
    }
    std::string url(sqs_endpoint_url);
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url + "/" + std::string(parts[4]) + "/" + std::string(parts[5]);
}

struct event_handler::objects_result {
    std::string loads_json = "[";               // one entry per load attempted
    std::optional<std::string> transient;       // the first transient failure
    std::optional<std::string> stop_failure;    // a handover that must not happen (no progress, too many)
    std::vector<loader::object_ref> remaining;  // to hand over, the stopped object first
    continuation next;                          // the marker of that handover
};

event_handler::event_handler(loader::load_runner& runner, handler_options options, handover hand)
    : runner_(runner), options_(std::move(options)), handover_(std::move(hand)) {}

event_handler::objects_result event_handler::load_objects(const std::vector<loader::object_ref>& objects,
                                                          const std::string& request_id,
                                                          const loader::stop_predicate& stop,
                                                          const std::optional<continuation>& marker) {
    objects_result out;
    out.next.generation = (marker ? marker->generation : 0) + 1;
    for (size_t i = 0; i < objects.size(); ++i) {
        const loader::object_ref& obj = objects[i];
        if (!options_.filter.accepts(obj)) {
            log_event("info", "object outside the configured bucket/prefix/suffixes ignored", request_id, obj.uri());
            continue;
        }
        if (stop()) {  // no time left to start this one: hand it over untouched
            out.remaining.assign(objects.begin() + static_cast<std::ptrdiff_t>(i), objects.end());
            break;
        }
        loader::load_outcome outcome = runner_.load_object(obj, request_id, stop);
        loader::log_load(outcome, runner_.config().table);
        if (out.loads_json.size() > 1) out.loads_json += ',';
        json::writer w(out.loads_json);
        w.begin_object()
            .key("source")
            .value(outcome.source)
            .key("status")
            .value(loader::load_status_name(outcome.status))
            .key("load_id")
            .value(outcome.load_id)
            .key("rows")
            .value(outcome.summary.rows_read)
            .key("items")
            .value(outcome.summary.items)
            .key("rejected")
            .value(outcome.summary.rows_rejected)
            .end_object();
        if (outcome.status == loader::load_status::RETRY) {
            out.transient = obj.uri() + ": " + outcome.message;
            break;
        }
        if (outcome.status == loader::load_status::STOPPED) {
            out.remaining.assign(objects.begin() + static_cast<std::ptrdiff_t>(i), objects.end());
            out.next.load_id = outcome.load_id;
            out.next.offset = outcome.resume.offset;
            // The same load stopped again without moving its checkpoint: handing it over again would loop.
            if (marker && marker->load_id == outcome.load_id && outcome.resume.offset <= marker->offset) {
                out.stop_failure = obj.uri() + ": no progress since the last continuation (checkpoint at byte " +
                                   std::to_string(outcome.resume.offset) + ")";
            }
            break;
        }
    }
    if (!out.remaining.empty() && !out.stop_failure && out.next.generation > options_.max_continuations) {
        out.stop_failure = out.remaining.front().uri() + ": handed over " + std::to_string(out.next.generation - 1) +
                           " times, the TARIUS_MAX_CONTINUATIONS limit";
    }
    out.loads_json += ']';
    return out;
}

handler_result event_handler::handle(const invocation& inv, const std::function<int64_t()>& now_ms) {
    const std::function<int64_t()> now = now_ms ? now_ms : std::function<int64_t()>(epoch_ms);
    // The margin never takes more than half of the time left, so a margin set above the function's timeout still
    // lets every invocation make progress instead of handing the same work over and over.
    const int64_t left = inv.deadline_ms - now();
    const int64_t margin = std::min<int64_t>(options_.deadline_margin.count(), std::max<int64_t>(0, left / 2));
    const int64_t stop_at = inv.deadline_ms - margin;
    const loader::stop_predicate stop = [&] { return inv.deadline_ms > 0 && now() >= stop_at; };
    const std::string kind = event_kind(inv.payload);
    log_event("info", "invocation: " + kind + " event", inv.request_id);
    if (kind == "sqs") return handle_sqs(inv, stop);
    return handle_notification(inv, stop);
}

handler_result event_handler::handle_notification(const invocation& inv, const loader::stop_predicate& stop) {
    auto parsed = loader::parse_s3_message(inv.payload);
    if (!parsed) return failure("Tarius.UnsupportedEvent", parsed.err().message);
    if (parsed->test_event) return handler_result{false, {}, R"({"ignored":"s3:TestEvent"})"};
    const auto marker = read_continuation(inv.payload);
    objects_result loaded = load_objects(parsed->objects, inv.request_id, stop, marker);
    // A transient failure fails the invocation so Lambda retries it; the ledger skips what is already done.
    if (loaded.transient) return failure("Tarius.TransientFailure", *loaded.transient);
    if (loaded.stop_failure) return failure("Tarius.NoProgress", *loaded.stop_failure);
    const bool continued = !loaded.remaining.empty();
    if (continued) {
        auto handed = handover_.invoke_self(inv.function_arn, continuation_event(loaded.remaining, loaded.next));
        if (!handed) return failure("Tarius.HandoverFailed", "continuation Invoke failed: " + handed.err().message);
        log_event("info", "deadline near: the rest continues in a new invocation", inv.request_id,
                  loaded.remaining.front().uri() + " from byte " + std::to_string(loaded.next.offset));
    }
    std::string body;
    json::writer w(body);
    w.begin_object().key("loads").raw(loaded.loads_json).key("continued").value(continued).end_object();
    return handler_result{false, {}, std::move(body)};
}

handler_result event_handler::handle_sqs(const invocation& inv, const loader::stop_predicate& stop) {
    simdjson::dom::parser parser;
    simdjson::dom::array records;
    if (parser.parse(inv.payload.data(), inv.payload.size())["Records"].get(records) != simdjson::SUCCESS) {
        return failure("Tarius.UnsupportedEvent", "SQS event without a Records array");
    }
    auto parsed_records = parse_sqs_records(records);
    if (!parsed_records) return failure("Tarius.UnsupportedEvent", parsed_records.err().message);

    // Partial batch response: only the listed messages return to the queue (and count towards its redrive).
    std::vector<std::string> failed;
    std::string loads = "[";
    for (const sqs_record& record : *parsed_records) {
        if (stop()) {  // out of time: pass the message on untouched rather than spend one of its receives
            auto forwarded = handover_.enqueue(record.queue_arn, record.body);
            if (!forwarded) failed.push_back(record.message_id);
            continue;
        }
        auto parsed = loader::parse_s3_message(record.body);
        if (!parsed) {
            log_event("error", "message is not an S3 event; left for the dead-letter queue: " + parsed.err().message,
                      inv.request_id, record.message_id);
            failed.push_back(record.message_id);
            continue;
        }
        if (parsed->test_event) continue;
        objects_result loaded = load_objects(parsed->objects, inv.request_id, stop, read_continuation(record.body));
        if (loads.size() > 1 && loaded.loads_json.size() > 2) loads += ',';
        loads.append(loaded.loads_json, 1, loaded.loads_json.size() - 2);
        if (loaded.transient || loaded.stop_failure) {
            log_event("error",
                      "message returned to the queue: " + *(loaded.transient ? loaded.transient : loaded.stop_failure),
                      inv.request_id, record.message_id);
            failed.push_back(record.message_id);
            continue;
        }
        if (!loaded.remaining.empty()) {
            auto handed = handover_.enqueue(record.queue_arn, continuation_event(loaded.remaining, loaded.next));
            if (!handed) {
                log_event("error", "continuation message not sent: " + handed.err().message, inv.request_id,
                          record.message_id);
                failed.push_back(record.message_id);
            }
        }
    }
    loads += ']';
    std::string body;
    json::writer w(body);
    w.begin_object().key("batchItemFailures").begin_array();
    for (const std::string& id : failed) w.begin_object().key("itemIdentifier").value(id).end_object();
    w.end_array().key("loads").raw(loads).end_object();
    return handler_result{false, {}, std::move(body)};
}

}  // namespace tarius::lambda
