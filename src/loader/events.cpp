#include "tarius/loader/events.hpp"
#include "tarius/text.hpp"

#include <simdjson.h>

#include <algorithm>

namespace tarius::loader {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string_view string_or_empty(element parent, std::string_view field) {
    std::string_view out;
    if (parent[field].get(out) != simdjson::SUCCESS) return {};
    return out;
}

uint64_t size_field(element parent, std::string_view field) {
    element value;
    if (parent[field].get(value) != simdjson::SUCCESS) return 0;
    uint64_t as_number = 0;
    if (value.get(as_number) == simdjson::SUCCESS) return as_number;
    std::string_view as_text;  // some producers send "size":"123"
    if (value.get(as_text) == simdjson::SUCCESS) {
        uint64_t parsed = 0;
        for (char c : as_text) {
            if (c < '0' || c > '9') return 0;
            parsed = parsed * 10 + static_cast<uint64_t>(c - '0');
        }
        return parsed;
    }
    return 0;
}

std::string strip_quotes(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return std::string(etag);
}

/// Names where a record that is not an S3 one comes from, for messages. S3, SQS, SES, DynamoDB and Kinesis
/// records spell the field eventSource; SNS records (the Lambda event of a topic subscription) EventSource.
std::string record_origin(element record) {
    for (const std::string_view field : {"eventSource", "EventSource"}) {
        const std::string_view source = string_or_empty(record, field);
        if (!source.empty()) return "a record from '" + std::string(source) + "'";
    }
    return "a record with no eventSource";
}

result<void> parse_records(element records, parsed_message& out) {
    simdjson::dom::array list;
    if (records.get(list) != simdjson::SUCCESS) {
        return make_error(errc::INVALID_ARGUMENT, "S3 notification: \"Records\" is not an array");
    }
    for (element record : list) {
        const std::string_view source = string_or_empty(record, "eventSource");
        const std::string_view name = string_or_empty(record, "eventName");
        element s3;
        if (source != "aws:s3" || record["s3"].get(s3) != simdjson::SUCCESS) {
            return make_error(errc::INVALID_ARGUMENT,
                              "S3 notification: " + record_origin(record) + " is not an S3 event record");
        }
        if (name.substr(0, 14) != "ObjectCreated:") {
            ++out.skipped_records;
            continue;
        }
        // Fields are fetched with get(): the implicit conversions of simdjson throw on a missing field.
        element bucket;
        element obj;
        if (s3["bucket"].get(bucket) != simdjson::SUCCESS || s3["object"].get(obj) != simdjson::SUCCESS) {
            return make_error(errc::INVALID_ARGUMENT, "S3 notification: record without s3.bucket or s3.object");
        }
        object_ref ref;
        ref.bucket = std::string(string_or_empty(bucket, "name"));
        TARIUS_ASSIGN_OR_RETURN(ref.key, decode_event_key(string_or_empty(obj, "key")));
        ref.version_id = std::string(string_or_empty(obj, "versionId"));
        ref.etag = strip_quotes(string_or_empty(obj, "eTag"));
        ref.sequencer = std::string(string_or_empty(obj, "sequencer"));
        ref.size = size_field(obj, "size");
        ref.event_name = std::string(name);
        ref.event_time = std::string(string_or_empty(record, "eventTime"));
        if (ref.bucket.empty() || ref.key.empty()) {
            return make_error(errc::INVALID_ARGUMENT, "S3 notification: record without bucket name or object key");
        }
        out.objects.push_back(std::move(ref));
    }
    return ok();
}

result<void> parse_eventbridge(element event, parsed_message& out) {
    const std::string_view detail_type = string_or_empty(event, "detail-type");
    if (detail_type != "Object Created") {
        ++out.skipped_records;
        return ok();
    }
    element bucket;
    element obj;
    if (event["detail"]["bucket"].get(bucket) != simdjson::SUCCESS ||
        event["detail"]["object"].get(obj) != simdjson::SUCCESS) {
        return make_error(errc::INVALID_ARGUMENT, "EventBridge event: no detail.bucket or detail.object");
    }
    object_ref ref;
    ref.bucket = std::string(string_or_empty(bucket, "name"));
    // EventBridge delivers keys URL-encoded like S3 notifications do.
    TARIUS_ASSIGN_OR_RETURN(ref.key, decode_event_key(string_or_empty(obj, "key")));
    ref.version_id = std::string(string_or_empty(obj, "version-id"));
    ref.etag = strip_quotes(string_or_empty(obj, "etag"));
    ref.sequencer = std::string(string_or_empty(obj, "sequencer"));
    ref.size = size_field(obj, "size");
    ref.event_name = std::string(detail_type);
    ref.event_time = std::string(string_or_empty(event, "time"));
    if (ref.bucket.empty() || ref.key.empty()) {
        return make_error(errc::INVALID_ARGUMENT, "EventBridge event: no bucket name or object key in detail");
    }
    out.objects.push_back(std::move(ref));
    return ok();
}

result<parsed_message> parse_document(std::string_view json, int depth) {
    simdjson::dom::parser parser;
    element doc;
    if (auto parse_error = parser.parse(json.data(), json.size()).get(doc)) {
        return make_error(errc::INVALID_ARGUMENT,
                          std::string("event is not JSON: ") + simdjson::error_message(parse_error));
    }
    parsed_message out;
    object top;
    if (doc.get(top) != simdjson::SUCCESS) return make_error(errc::INVALID_ARGUMENT, "event is not a JSON object");

    element records;
    if (top["Records"].get(records) == simdjson::SUCCESS) {
        TARIUS_TRY(parse_records(records, out));
        return out;
    }
    if (string_or_empty(doc, "Event") == "s3:TestEvent") {
        out.test_event = true;
        return out;
    }
    if (string_or_empty(doc, "source") == "aws.s3" && top["detail"].error() == simdjson::SUCCESS) {
        TARIUS_TRY(parse_eventbridge(doc, out));
        return out;
    }
    // SNS notification (delivered to SQS without raw message delivery): the S3 event is the "Message" string.
    if (string_or_empty(doc, "Type") == "Notification" && depth == 0) {
        std::string message(string_or_empty(doc, "Message"));
        return parse_document(message, depth + 1);
    }
    // An EventBridge event of another kind: name its source and type, as an operator reads them in the rule.
    const std::string_view source = string_or_empty(doc, "source");
    const std::string_view detail_type = string_or_empty(doc, "detail-type");
    if (!source.empty() && !detail_type.empty()) {
        return make_error(errc::INVALID_ARGUMENT,
                          "unsupported event: an EventBridge event from '" + std::string(source.substr(0, 100)) +
                              "' of type '" + std::string(detail_type.substr(0, 100)) +
                              "' (expected an S3 notification, an SNS-wrapped one, an EventBridge Object Created "
                              "event from aws.s3 or s3:TestEvent)");
    }
    std::string keys;
    for (auto field : top) {
        if (!keys.empty()) keys += ", ";
        keys += std::string(field.key);
        if (keys.size() > 120) break;
    }
    return make_error(errc::INVALID_ARGUMENT, "unsupported event: a JSON object with fields " + keys +
                                                  " (expected an S3 notification, an SNS-wrapped one, an "
                                                  "EventBridge Object Created event or s3:TestEvent)");
}

}  // namespace

result<parsed_message> parse_s3_message(std::string_view json) {
    return parse_document(json, 0);
}

result<std::string> decode_event_key(std::string_view encoded) {
    std::string out;
    out.reserve(encoded.size());
    for (size_t idx = 0; idx < encoded.size(); ++idx) {
        const char c = encoded[idx];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            const int high = idx + 1 < encoded.size() ? hex_digit_value(encoded[idx + 1]) : -1;
            const int low = idx + 2 < encoded.size() ? hex_digit_value(encoded[idx + 2]) : -1;
            if (high < 0 || low < 0) {
                return make_error(errc::INVALID_ARGUMENT,
                                  "object key in event has a bad %-escape at position " + std::to_string(idx));
            }
            out.push_back(static_cast<char>(high * 16 + low));
            idx += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

int compare_sequencers(std::string_view a, std::string_view b) noexcept {
    const size_t width = std::max(a.size(), b.size());
    for (size_t idx = 0; idx < width; ++idx) {
        const char ca = idx < a.size() ? a[idx] : '0';
        const char cb = idx < b.size() ? b[idx] : '0';
        if (ca != cb) return ca < cb ? -1 : 1;
    }
    return 0;
}

bool object_filter::accepts(const object_ref& obj) const {
    if (!bucket.empty() && obj.bucket != bucket) return false;
    if (obj.key.compare(0, prefix.size(), prefix) != 0) return false;
    if (suffixes.empty()) return true;
    return std::any_of(suffixes.begin(), suffixes.end(), [&](const std::string& suffix) {
        return obj.key.size() >= suffix.size() &&
               obj.key.compare(obj.key.size() - suffix.size(), suffix.size(), suffix) == 0;
    });
}

}  // namespace tarius::loader
