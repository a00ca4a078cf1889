#include "tarius/loader/feed_router.hpp"

#include <algorithm>
#include <chrono>

#include "json/writer.hpp"
#include "tarius/csv.hpp"
#include "tarius/loader/log.hpp"

namespace tarius::loader {

loader_config config_for_feed(const loader_config& base, const feed& f) {
    loader_config config = base;
    config.feed = f.name;
    config.table = f.table;
    config.mapping = f.mapping;
    if (f.delimiter) {
        // Checked when the document was read.
        if (auto dialect = csv::parse_delimiter(*f.delimiter, config.dialect))
            config.dialect = std::move(dialect).value();
    }
    if (f.rejects_prefix) config.rejects_prefix = *f.rejects_prefix;
    if (f.reports_prefix) config.reports_prefix = *f.reports_prefix;
    if (f.max_wcu) config.writer.max_wcu_per_second = *f.max_wcu;
    if (f.concurrency) config.writer.max_in_flight = *f.concurrency;
    config.writes.marker_attribute = f.row_marker;
    switch (f.mode) {
        case sync_mode::INSERT: config.writes.method = write_method::INSERT; break;
        case sync_mode::NEWER: config.writes.method = write_method::NEWER; break;
        case sync_mode::MERGE: config.writes.method = write_method::MERGE; break;
        case sync_mode::PUT:
        case sync_mode::DELETE:
        case sync_mode::SNAPSHOT: config.writes.method = write_method::BATCH; break;
    }
    if (f.mode == sync_mode::SNAPSHOT) config.snapshot = f.snapshot;
    const bool marks_rows = config.writes.method == write_method::INSERT || config.writes.method == write_method::NEWER;
    if (marks_rows && !f.row_marker.empty()) config.mapping.reserved_attributes.push_back(f.row_marker);
    // One row per request: as many in flight as carry the rows of the batch writes' requests (64 × 25 → 256
    // requests of one row; request latency, not the table, is then the limit).
    if (config.writes.method != write_method::BATCH && !f.concurrency) config.writer.max_in_flight *= 4;
    if (f.version) {
        const bool timestamp = f.version->type == version_column::kind::TIMESTAMP;
        config.version = pipeline::row_version{f.version->column, timestamp};
        config.writes.version_attribute = f.version->column;
        // The version is stored with its type (checked against the feed's rules when the document was read).
        auto rule = std::find_if(config.mapping.columns.begin(), config.mapping.columns.end(),
                                 [&](const mapping::column_rule& r) { return r.column == f.version->column; });
        if (rule == config.mapping.columns.end()) {
            config.mapping.columns.push_back(mapping::column_rule{});
            rule = config.mapping.columns.end() - 1;
            rule->column = f.version->column;
        }
        rule->type = timestamp ? mapping::value_type::TIMESTAMP : mapping::value_type::NUMBER;
        if (!rule->attribute.empty()) config.writes.version_attribute = rule->attribute;
    }
    if (f.op) {
        config.operation = pipeline::row_operation{f.op->column, f.op->delete_values, f.op->put_values};
        // The operation column says what a row does; it is not an attribute of the item.
        const bool ruled = std::any_of(config.mapping.columns.begin(), config.mapping.columns.end(),
                                       [&](const mapping::column_rule& rule) { return rule.column == f.op->column; });
        if (!ruled) {
            mapping::column_rule skip;
            skip.column = f.op->column;
            skip.skip = true;
            config.mapping.columns.push_back(std::move(skip));
        }
    }
    return config;
}

result<void> check_outputs_outside_feeds(const feed_set& feeds, const loader_config& base) {
    for (const feed& f : feeds.feeds) {
        const loader_config config = config_for_feed(base, f);
        struct output {
            const char* field;
            object_filter written;
        };
        std::vector<output> outputs = {
            {"rejects_prefix", {"", config.rejects_prefix, {".csv", ".reasons.jsonl"}}},
            {"reports_prefix", {"", config.reports_prefix, {".json"}}},
        };
        if (config.snapshot) {
            outputs.push_back({"snapshot.digests_prefix", {"", config.snapshot->digests_prefix, {".digest", ".json"}}});
        }
        for (const auto& output : outputs) {
            for (const feed& reader : feeds.feeds) {
                // The router skips every object under an output prefix: one above a feed's prefix would hide all
                // of that feed's objects, whatever their suffixes.
                const bool hides_feed =
                    !output.written.prefix.empty() && reader.match.prefix.rfind(output.written.prefix, 0) == 0;
                if (!hides_feed && !filters_overlap(reader.match, output.written)) continue;
                return make_error(errc::INVALID_ARGUMENT,
                                  "feeds: feeds." + f.name + "." + output.field + ": \"" + output.written.prefix +
                                      "\" lies where feed " + reader.name + " reads (match prefix \"" +
                                      reader.match.prefix +
                                      "\"): it would load its own outputs; give them a prefix of "
                                      "their own");
            }
        }
    }
    return ok();
}

feed_set single_feed(const loader_config& base, const object_filter& filter) {
    feed f;
    f.name = base.feed.empty() ? "default" : base.feed;
    f.match = filter;
    f.table = base.table;
    f.mapping = base.mapping;
    feed_set out;
    out.feeds.push_back(std::move(f));
    return out;
}

result<std::unique_ptr<feed_router>> feed_router::create(const aws_clients& clients, const loader_config& base,
                                                         feed_set feeds) {
    std::unique_ptr<feed_router> router(new feed_router());
    for (const feed& f : feeds.feeds) {
        const loader_config config = config_for_feed(base, f);
        for (const std::string* prefix : {&config.rejects_prefix, &config.reports_prefix}) {
            if (!prefix->empty()) router->output_prefixes_.push_back(*prefix);
        }
        if (config.snapshot && !config.snapshot->digests_prefix.empty()) {
            router->output_prefixes_.push_back(config.snapshot->digests_prefix);
        }
        router->runners_.push_back(make_runner(clients, config));
    }
    router->feeds_ = std::move(feeds);
    return router;
}

const feed* feed_router::route(const object_ref& obj) const {
    for (const std::string& prefix : output_prefixes_) {
        if (obj.key.rfind(prefix, 0) == 0) return nullptr;
    }
    return feeds_.find(obj);
}

load_runner& feed_router::runner(const feed& f) {
    for (size_t idx = 0; idx < feeds_.feeds.size(); ++idx) {
        if (&feeds_.feeds[idx] == &f) return *runners_[idx];
    }
    TARIUS_ASSERT(false && "feed_router::runner: not one of this router's feeds");
    return *runners_.front();
}

void log_unmatched(const object_ref& obj) {
    log_entry("info", "object matches no feed: ignored").with("source", obj.uri());
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::string out;
    json::writer w(out);
    w.begin_object().key("_aws").begin_object().key("Timestamp").value(static_cast<int64_t>(now_ms));
    w.key("CloudWatchMetrics").begin_array().begin_object().key("Namespace").value("Tarius");
    w.key("Dimensions").begin_array().begin_array().end_array().end_array();
    w.key("Metrics").begin_array().begin_object().key("Name").value("ObjectsUnmatched").key("Unit").value("Count");
    w.end_object().end_array().end_object().end_array().end_object();
    w.key("source").value(obj.uri()).key("ObjectsUnmatched").value(uint64_t{1}).end_object();
    print_log_line(out);
}

}  // namespace tarius::loader
