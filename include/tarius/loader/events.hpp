#pragma once
/// S3 object-created events in every shape Tarius receives them: S3 event notifications (direct, in an SQS
/// message body, or wrapped in an SNS notification), EventBridge "Object Created" events, and S3's test event.
/// Written once for the worker and the Lambda function.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::loader {

/// One object an event announces.
struct object_ref {
    std::string bucket;      ///< bucket name
    std::string key;         ///< object key, URL-decoded
    std::string version_id;  ///< empty when the bucket is not versioned
    std::string etag;        ///< without quotes
    std::string sequencer;   ///< S3's ordering token for events on the same key (hex)
    uint64_t size = 0;       ///< object size in bytes, as announced
    std::string event_name;  ///< e.g. "ObjectCreated:Put", "Object Created"
    std::string event_time;  ///< ISO-8601

    /// "s3://bucket/key".
    [[nodiscard]] std::string uri() const { return "s3://" + bucket + "/" + key; }
};

/// What one message held.
struct parsed_message {
    std::vector<object_ref> objects;  ///< object-created records (other event types are skipped)
    bool test_event = false;          ///< s3:TestEvent, sent when a notification is configured
    uint64_t skipped_records = 0;     ///< records that were not object-created events
};

/// Parses one S3 notification in any supported shape. Unknown shapes fail with INVALID_ARGUMENT naming what was
/// seen, never a crash.
[[nodiscard]] result<parsed_message> parse_s3_message(std::string_view json);

/// Decodes an S3 event key as the S3 docs say (application/x-www-form-urlencoded: '+' is a space, %XX a byte).
[[nodiscard]] result<std::string> decode_event_key(std::string_view encoded);

/// Compares two sequencers of events on the same key as the S3 docs say: the shorter is right-padded with zeros,
/// then the strings compare lexicographically. Returns <0, 0 or >0.
[[nodiscard]] int compare_sequencers(std::string_view a, std::string_view b) noexcept;

/// Which objects this deployment loads: a bucket (empty = any), a key prefix and key suffixes (any when empty).
struct object_filter {
    std::string bucket;                 ///< only this bucket when non-empty
    std::string prefix;                 ///< e.g. "raw-data/"
    std::vector<std::string> suffixes;  ///< e.g. ".csv", ".csv.gz", ".csv.zst"

    /// True when `obj` is one to load.
    [[nodiscard]] bool accepts(const object_ref& obj) const;
};

}  // namespace tarius::loader
