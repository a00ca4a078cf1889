#include "tarius/lambda/handler.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <optional>

#include "json/writer.hpp"
#include "tarius/lambda/continuation.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/text.hpp"

namespace tarius::lambda {
namespace {

// Reasons listed in an invocation error's message; the rest are counted.
constexpr size_t MAX_REASONS_LISTED = 20;
// The longest message kept per load in the answer.
constexpr size_t MAX_MESSAGE_IN_ANSWER = 300;

int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

handler_result failure(const char* type, std::string message) {
    return handler_result{true, type, std::move(message)};
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

// The answer's record of the loads of an invocation: the first ones in full, every one counted by status, so the
// answer stays far below the Runtime API's 6 MiB limit whatever the number of records.
class loads_answer {
public:
    explicit loads_answer(size_t max_listed) : max_listed_(max_listed) {}

    void add(const loader::load_outcome& outcome) {
        ++by_status_[loader::load_status_name(outcome.status)];
        if (listed_ >= max_listed_) {
            ++omitted_;
            return;
        }
        ++listed_;
        if (loads_.size() > 1) loads_ += ',';
        json::writer w(loads_);
        w.begin_object().key("source").value(outcome.source);
        if (!outcome.feed.empty()) w.key("feed").value(outcome.feed);
        w.key("status").value(loader::load_status_name(outcome.status));
        w.key("load_id").value(outcome.load_id).key("counts");
        loader::write_counts(w, outcome.counts);
        if (!outcome.message.empty()) {
            w.key("message").value(utf8_prefix(outcome.message, MAX_MESSAGE_IN_ANSWER));
        }
        w.end_object();
    }
    void ignore() { ++ignored_; }

    // Writes "loads", "loads_omitted", "by_status" and "ignored" into an open object.
    void write(json::writer& w) const {
        w.key("loads").raw(loads_ + "]").key("loads_omitted").value(omitted_);
        w.key("by_status").begin_object();
        for (const auto& [status, n] : by_status_) w.key(status).value(n);
        w.end_object().key("ignored").value(ignored_);
    }

private:
    size_t max_listed_;
    size_t listed_ = 0;
    uint64_t omitted_ = 0;
    uint64_t ignored_ = 0;
    std::string loads_ = "[";
    std::map<std::string, uint64_t> by_status_;
};

// "a: why; b: why; … and 3 more".
std::string reasons_text(const std::vector<std::string>& reasons) {
    std::string out;
    for (size_t idx = 0; idx < reasons.size() && idx < MAX_REASONS_LISTED; ++idx) {
        if (idx) out += "; ";
        out += reasons[idx];
    }
    if (reasons.size() > MAX_REASONS_LISTED) {
        out += "; and " + std::to_string(reasons.size() - MAX_REASONS_LISTED) + " more";
    }
    return out;
}

}  // namespace

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

struct event_handler::records_result {
    std::vector<loader::load_outcome> outcomes;  // every load attempted, in order
    std::vector<std::string> retry_reasons;      // objects that failed transiently (or by a deployment error)
    std::vector<loader::object_ref> retry;       // those objects
    bool configuration_error = false;            // one of them failed by a deployment error
    std::vector<loader::object_ref> remaining;   // to hand over: the stopped object first, then those not started
    std::optional<std::string> stop_failure;     // a handover that must not happen (no progress, too many)
    continuation next;                           // the marker of that handover
    uint64_t ignored = 0;                        // objects outside the landing filter
};

event_handler::event_handler(object_loader& loader, handler_options options, handover hand)
    : loader_(loader), options_(std::move(options)), handover_(std::move(hand)) {}

event_handler::records_result event_handler::load_objects(const std::vector<loader::object_ref>& objects,
                                                          const std::string& request_id,
                                                          const loader::stop_predicate& stop,
                                                          std::chrono::milliseconds stop_grace,
                                                          const std::optional<continuation>& marker) {
    records_result out;
    out.next.generation = (marker ? marker->generation : 0) + 1;
    loader::load_options load_opts;
    load_opts.stop_grace = stop_grace;
    for (size_t i = 0; i < objects.size(); ++i) {
        const loader::object_ref& obj = objects[i];
        if (!loader_.accepts(obj)) {
            loader::log_unmatched(obj);
            ++out.ignored;
            continue;
        }
        if (stop()) {  // no time left to start this one: hand it over untouched
            out.remaining.assign(objects.begin() + static_cast<std::ptrdiff_t>(i), objects.end());
            break;
        }
        loader::load_outcome outcome = loader_.load(obj, request_id, stop, load_opts);
        loader::log_load(outcome, outcome.table);
        const loader::load_status status = outcome.status;
        const bool configuration = status == loader::load_status::FAILED && outcome.failure == aws::error_class::FATAL;
        if (status == loader::load_status::RETRY || configuration) {
            out.retry.push_back(obj);
            out.retry_reasons.push_back(obj.uri() + ": " + outcome.message);
            out.configuration_error = out.configuration_error || configuration;
        } else if (status == loader::load_status::STOPPED) {
            out.remaining.assign(objects.begin() + static_cast<std::ptrdiff_t>(i), objects.end());
            out.next.load_id = outcome.load_id;
            out.next.offset = outcome.resume.offset;
            // The same load stopped again without moving its checkpoint: handing it over again would loop.
            if (marker && marker->load_id == outcome.load_id && outcome.resume.offset <= marker->offset) {
                out.stop_failure = obj.uri() + ": no progress since the last continuation (checkpoint at byte " +
                                   std::to_string(outcome.resume.offset) + ")";
            }
            out.outcomes.push_back(std::move(outcome));
            break;
        }
        out.outcomes.push_back(std::move(outcome));
    }
    if (!out.remaining.empty()) {
        // The objects that failed transiently travel with the handover: the next invocation retries them too.
        out.remaining.insert(out.remaining.end(), out.retry.begin(), out.retry.end());
        out.retry.clear();
        out.retry_reasons.clear();
        if (!out.stop_failure && out.next.generation > options_.max_continuations) {
            out.stop_failure = out.remaining.front().uri() + ": handed over " +
                               std::to_string(out.next.generation - 1) + " times, the TARIUS_MAX_CONTINUATIONS limit";
        }
    }
    return out;
}

handler_result event_handler::handle(const invocation& inv, const std::function<int64_t()>& now_ms) {
    const std::function<int64_t()> now = now_ms ? now_ms : std::function<int64_t()>(epoch_ms);
    loader::set_log_request_id(inv.request_id);
    // The margin never takes more than half of the time left, so a margin set above the function's timeout still
    // lets every invocation make progress instead of handing the same work over and over.
    const int64_t left = inv.deadline_ms - now();
    const int64_t margin = std::min<int64_t>(options_.deadline_margin.count(), std::max<int64_t>(0, left / 2));
    const int64_t stop_at = inv.deadline_ms - margin;
    const loader::stop_predicate stop = [&] { return inv.deadline_ms > 0 && now() >= stop_at; };
    // After the stop, writes in flight may land for half the margin; the other half is for the handover.
    const auto stop_grace = std::chrono::milliseconds(margin / 2);
    const std::string kind = event_kind(inv.payload);
    loader::log_entry("info", "invocation").with("event", kind);
    handler_result out = kind == "sqs" ? handle_sqs(inv, stop, stop_grace) : handle_notification(inv, stop, stop_grace);
    loader::set_log_request_id({});
    return out;
}

handler_result event_handler::handle_notification(const invocation& inv, const loader::stop_predicate& stop,
                                                  std::chrono::milliseconds stop_grace) {
    auto parsed = loader::parse_s3_message(inv.payload);
    if (!parsed) return failure(ERROR_UNSUPPORTED_EVENT, parsed.err().message);
    if (parsed->test_event) return handler_result{false, {}, R"({"ignored":"s3:TestEvent"})"};
    const auto marker = read_continuation(inv.payload);
    records_result loaded = load_objects(parsed->objects, inv.request_id, stop, stop_grace, marker);
    if (loaded.stop_failure) return failure(ERROR_NO_PROGRESS, *loaded.stop_failure);
    const bool continued = !loaded.remaining.empty();
    if (continued) {
        for (const std::string& event : continuation_events(loaded.remaining, loaded.next, options_.max_event_bytes)) {
            auto handed = handover_.invoke_self(inv.function_arn, event);
            // The event fails and Lambda retries it: the ledger skips what finished and resumes the rest.
            if (!handed) return failure(ERROR_HANDOVER, "continuation Invoke failed: " + handed.err().message);
        }
        loader::log_entry("info", "deadline near: the rest continues in a new invocation")
            .with("source", loaded.remaining.front().uri())
            .with("offset", loaded.next.offset)
            .with("objects", static_cast<uint64_t>(loaded.remaining.size()));
    } else if (!loaded.retry.empty()) {
        // Lambda retries the event; the ledger skips the objects that finished, so only these load again.
        return failure(loaded.configuration_error ? ERROR_CONFIGURATION : ERROR_TRANSIENT,
                       reasons_text(loaded.retry_reasons));
    }
    loads_answer answer(options_.max_loads_listed);
    for (const auto& outcome : loaded.outcomes) answer.add(outcome);
    for (uint64_t idx = 0; idx < loaded.ignored; ++idx) answer.ignore();
    std::string body;
    json::writer w(body);
    w.begin_object();
    answer.write(w);
    w.key("continued").value(continued).end_object();
    return handler_result{false, {}, std::move(body)};
}

handler_result event_handler::handle_sqs(const invocation& inv, const loader::stop_predicate& stop,
                                         std::chrono::milliseconds stop_grace) {
    simdjson::dom::parser parser;
    simdjson::dom::array records;
    if (parser.parse(inv.payload.data(), inv.payload.size())["Records"].get(records) != simdjson::SUCCESS) {
        return failure(ERROR_UNSUPPORTED_EVENT, "SQS event without a Records array");
    }
    auto parsed_records = parse_sqs_records(records);
    if (!parsed_records) return failure(ERROR_UNSUPPORTED_EVENT, parsed_records.err().message);

    // Partial batch response: only the listed messages return to the queue (and count towards its redrive).
    std::vector<std::string> failed;
    loads_answer answer(options_.max_loads_listed);
    for (const sqs_record& record : *parsed_records) {
        loader::set_log_request_id(inv.request_id + "/" + record.message_id);
        if (stop()) {  // out of time: pass the message on untouched rather than spend one of its receives
            auto forwarded = handover_.enqueue(record.queue_arn, record.body);
            if (!forwarded) failed.push_back(record.message_id);
            continue;
        }
        auto parsed = loader::parse_s3_message(record.body);
        if (!parsed) {
            loader::log_entry("error", "message is not an S3 event; left for the dead-letter queue")
                .with("error", parsed.err().message);
            failed.push_back(record.message_id);
            continue;
        }
        if (parsed->test_event) continue;
        records_result loaded =
            load_objects(parsed->objects, inv.request_id, stop, stop_grace, read_continuation(record.body));
        for (const auto& outcome : loaded.outcomes) answer.add(outcome);
        for (uint64_t idx = 0; idx < loaded.ignored; ++idx) answer.ignore();
        if (loaded.stop_failure || !loaded.retry.empty()) {
            loader::log_entry("error", "message returned to the queue")
                .with("error", loaded.stop_failure ? *loaded.stop_failure : reasons_text(loaded.retry_reasons));
            failed.push_back(record.message_id);
            continue;
        }
        if (!loaded.remaining.empty()) {
            for (const std::string& event :
                 continuation_events(loaded.remaining, loaded.next, options_.max_event_bytes)) {
                auto handed = handover_.enqueue(record.queue_arn, event);
                if (!handed) {
                    loader::log_entry("error", "continuation message not sent").with("error", handed.err().message);
                    failed.push_back(record.message_id);
                    break;
                }
            }
        }
    }
    loader::set_log_request_id(inv.request_id);
    std::string body;
    json::writer w(body);
    w.begin_object().key("batchItemFailures").begin_array();
    for (const std::string& id : failed) w.begin_object().key("itemIdentifier").value(id).end_object();
    w.end_array();
    answer.write(w);
    w.end_object();
    return handler_result{false, {}, std::move(body)};
}

}  // namespace tarius::lambda
