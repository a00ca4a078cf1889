#pragma once
/// The loaders of a deployment: one load_runner per feed (its table, mapping, prefixes, budget), and the route from
/// an object to its feed. The worker, the Lambda function and `tarius load s3://…` load through it.

#include <memory>
#include <string_view>
#include <vector>

#include "tarius/loader/feeds.hpp"
#include "tarius/loader/load_job.hpp"
#include "tarius/loader/services.hpp"

namespace tarius::loader {

/// The configuration of one feed's loads: `base` (the ledger, topic, KMS key, dialect, writer settings) with the
/// feed's name, table, mapping, prefixes, budget and concurrency.
[[nodiscard]] loader_config config_for_feed(const loader_config& base, const feed& f);

/// Fails (INVALID_ARGUMENT, naming the feed, the prefix and the feed that would read it) when a feed's rejects or
/// reports could match a feed: each load of them would write new ones there, without end.
[[nodiscard]] result<void> check_outputs_outside_feeds(const feed_set& feeds, const loader_config& base);

/// The one-feed shorthand of the single-feed variables: a feed named "default" loading `filter`'s objects into
/// `base.table` with `base.mapping`.
[[nodiscard]] feed_set single_feed(const loader_config& base, const object_filter& filter);

/// Routes objects to their feed's runner. Thread-safe (the runners are).
class feed_router {
public:
    /// One runner per feed. Fails (INVALID_ARGUMENT) for a feed whose mode this version cannot load.
    [[nodiscard]] static result<std::unique_ptr<feed_router>> create(const aws_clients& clients,
                                                                     const loader_config& base, feed_set feeds);

    /// The feed of `obj`, or null when none matches or `obj` lies under a feed's rejects or reports prefix (an
    /// output of Tarius is never loaded, even where a one-feed shorthand reads every key).
    [[nodiscard]] const feed* route(const object_ref& obj) const;
    /// The runner of a feed. Precondition: `f` is one of feeds().
    [[nodiscard]] load_runner& runner(const feed& f);
    /// The feeds.
    [[nodiscard]] const feed_set& feeds() const noexcept { return feeds_; }

private:
    feed_router() = default;
    feed_set feeds_;
    std::vector<std::unique_ptr<load_runner>> runners_;  // runners_[i] loads feeds_.feeds[i]
    std::vector<std::string> output_prefixes_;           // non-empty rejects and reports prefixes of the feeds
};

/// An EMF line counting an object that matched no feed (metric ObjectsUnmatched), and a log line saying why.
void log_unmatched(const object_ref& obj);

}  // namespace tarius::loader
