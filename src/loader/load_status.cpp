#include "tarius/loader/load_job.hpp"

namespace tarius::loader {

const char* load_status_name(load_status status) noexcept {
    switch (status) {
        case load_status::SUCCEEDED: return "succeeded";
        case load_status::SUCCEEDED_WITH_REJECTS: return "succeeded_with_rejects";
        case load_status::FAILED: return "failed";
        case load_status::RETRY: return "retry";
        case load_status::STOPPED: return "stopped";
        case load_status::SKIPPED: return "skipped";
    }
    return "unknown";
}

status_decision decide_status(const std::optional<error>& failure, const load_counts& counts) {
    status_decision out;
    if (!failure) {
        if (!counts.reconciles()) {
            // Never expected: a count that does not add up is a bug, and claiming success would hide it.
            out.status = load_status::FAILED;
            out.message = "internal error: the counts do not reconcile (rows " + std::to_string(counts.rows) +
                          ", written " + std::to_string(counts.items_written) + ", deleted " +
                          std::to_string(counts.deleted) + ", rejected " + std::to_string(counts.rejected) +
                          ", collapsed " + std::to_string(counts.duplicates_collapsed) + ")";
            return out;
        }
        out.status = counts.rejected ? load_status::SUCCEEDED_WITH_REJECTS : load_status::SUCCEEDED;
        return out;
    }
    out.message = failure->message;
    if (failure->code == errc::CANCELLED) {
        out.status = load_status::STOPPED;
        out.failure = aws::error_class::TRANSIENT;
        return out;
    }
    if (failure->code == errc::CONFLICT && failure->service) {
        out.status = load_status::SKIPPED;
        if (failure->service->service == "s3") {
            // GetObject's If-Match failed: the object changed since the event, whose newer event loads it.
            out.message = "object changed since the event (ETag no longer matches); a newer event will load it";
        } else {
            out.message = "another owner took the load over (its lease lapsed here): " + failure->message;
        }
        return out;
    }
    out.failure = aws::classify(*failure);
    switch (out.failure) {
        case aws::error_class::THROTTLED:
        case aws::error_class::TRANSIENT: out.status = load_status::RETRY; break;
        case aws::error_class::ITEM:
        case aws::error_class::CONDITION:
        case aws::error_class::RECORD:
        case aws::error_class::FATAL: out.status = load_status::FAILED; break;
    }
    return out;
}

}  // namespace tarius::loader
