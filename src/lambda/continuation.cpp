#include "tarius/lambda/continuation.hpp"

#include <simdjson.h>

#include "json/writer.hpp"

namespace tarius::lambda {

std::string encode_event_key(std::string_view key) {
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(key.size());
    for (unsigned char c : key) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
        if (unreserved) {
            out += static_cast<char>(c);
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += HEX[c >> 4];
            out += HEX[c & 15];
        }
    }
    return out;
}

std::string continuation_event(const std::vector<loader::object_ref>& objects, const continuation& marker) {
    std::string out;
    json::writer w(out);
    w.begin_object().key("Records").begin_array();
    for (const loader::object_ref& obj : objects) {
        w.begin_object();
        w.key("eventVersion").value("2.1").key("eventSource").value("aws:s3");
        // EventBridge names its events "Object Created"; the record keeps an S3-style name so it parses as one.
        const bool s3_name = obj.event_name.rfind("ObjectCreated:", 0) == 0;
        w.key("eventName").value(s3_name ? obj.event_name : std::string("ObjectCreated:Put"));
        w.key("eventTime").value(obj.event_time);
        w.key("s3").begin_object();
        w.key("bucket").begin_object().key("name").value(obj.bucket).end_object();
        w.key("object").begin_object();
        w.key("key").value(encode_event_key(obj.key)).key("size").value(obj.size).key("eTag").value(obj.etag);
        if (!obj.version_id.empty()) w.key("versionId").value(obj.version_id);
        if (!obj.sequencer.empty()) w.key("sequencer").value(obj.sequencer);
        w.end_object().end_object().end_object();
    }
    w.end_array();
    w.key("tariusContinuation").begin_object();
    w.key("generation").value(static_cast<uint64_t>(marker.generation));
    w.key("loadId").value(marker.load_id);
    w.key("offset").value(marker.offset);
    w.end_object().end_object();
    return out;
}

std::vector<std::string> continuation_events(const std::vector<loader::object_ref>& objects,
                                             const continuation& marker, size_t max_bytes) {
    // An event's size is its frame plus each record's own size (and a comma): measured once per record.
    const size_t frame = continuation_event({}, marker).size();
    std::vector<std::string> out;
    std::vector<loader::object_ref> part;
    size_t part_bytes = frame;
    for (const loader::object_ref& obj : objects) {
        const size_t record = continuation_event({obj}, marker).size() - frame + 1;
        if (!part.empty() && part_bytes + record > max_bytes) {
            out.push_back(continuation_event(part, marker));
            part.clear();
            part_bytes = frame;
        }
        part.push_back(obj);
        part_bytes += record;
    }
    if (!part.empty()) out.push_back(continuation_event(part, marker));
    return out;
}

std::optional<continuation> read_continuation(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::object marker;
    if (doc["tariusContinuation"].get(marker) != simdjson::SUCCESS) return std::nullopt;
    continuation out;
    uint64_t generation = 0;
    std::string_view load_id;
    if (marker["generation"].get(generation) != simdjson::SUCCESS) return std::nullopt;
    if (marker["loadId"].get(load_id) != simdjson::SUCCESS) return std::nullopt;
    if (marker["offset"].get(out.offset) != simdjson::SUCCESS) return std::nullopt;
    out.generation = static_cast<uint32_t>(generation);
    out.load_id = std::string(load_id);
    return out;
}

}  // namespace tarius::lambda
