#pragma once
/// Continuation events: when a load cannot finish before the function's deadline, the rest is handed to a new
/// invocation as an S3 event notification holding the unfinished objects plus a `tariusContinuation` marker.
/// The checkpoint itself lives in the ledger; the marker carries where it stood so a continuation that makes no
/// progress is detected instead of looping.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/loader/events.hpp"

namespace tarius::lambda {

/// The marker of a continuation event.
struct continuation {
    uint32_t generation = 0;  ///< 1 for the first handover, 2 for the next, ...
    std::string load_id;      ///< the load that was stopped
    uint64_t offset = 0;      ///< its checkpoint (decoded-byte offset) at the handover
};

/// An S3 event notification (parse_s3_message reads it) holding `objects`, keys form-encoded as S3 does, and
/// the marker.
[[nodiscard]] std::string continuation_event(const std::vector<loader::object_ref>& objects,
                                             const continuation& marker);

/// The same, split into events of at most `max_bytes` each where the objects allow it (an asynchronous
/// invocation's payload and an SQS message are limited), each with the marker.
[[nodiscard]] std::vector<std::string> continuation_events(const std::vector<loader::object_ref>& objects,
                                                           const continuation& marker, size_t max_bytes);

/// The marker of an event, when it is a continuation event.
[[nodiscard]] std::optional<continuation> read_continuation(std::string_view json);

/// Encodes an object key the way S3 event notifications carry it (application/x-www-form-urlencoded);
/// loader::decode_event_key reverses it.
[[nodiscard]] std::string encode_event_key(std::string_view key);

}  // namespace tarius::lambda
