#pragma once
/// Feeds: several feeds in one deployment, each with its objects (a bucket, a key prefix, suffixes), its table,
/// its mapping and its sync mode. A feeds document (YAML or JSON) describes them:
///
///     feeds:
///       products:
///         match: {prefix: raw-data/products/, suffixes: [.csv, .csv.gz, .csv.zst]}
///         table: products
///         mapping: {partition_key: ID:S, columns: {"Price (USD)": {attribute: price_usd, type: number}}}
///         mode: snapshot            # put (default) | merge | insert | delete | newer | snapshot
///
/// An object matches at most one feed: two feeds whose objects can overlap are an error when the document is read.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/loader/events.hpp"
#include "tarius/loader/snapshot.hpp"
#include "tarius/mapping.hpp"
#include "tarius/result.hpp"

namespace tarius::loader {

/// How a feed's rows reach its table.
enum class sync_mode : uint8_t {
    PUT,       ///< every row a full PutItem (the default): last row wins
    MERGE,     ///< UpdateItem SET of the row's attributes: attributes the file does not carry are kept
    INSERT,    ///< written only when the key is absent: existing items are counted skipped_existing
    DELETE,    ///< an operation column makes rows deletes (key columns only), in file order with the puts
    NEWER,     ///< written only when the stored version is absent or lower: others are counted skipped_stale
    SNAPSHOT,  ///< the file is the whole feed: unchanged rows are not written, absent items are deleted
};

/// Returns "put", "merge", "insert", "delete", "newer" or "snapshot".
[[nodiscard]] const char* sync_mode_name(sync_mode mode) noexcept;

/// The operation column of a `delete` feed.
struct op_column {
    std::string column;                      ///< its header name
    std::vector<std::string> delete_values;  ///< cells that make the row a delete, e.g. D
    std::vector<std::string> put_values;     ///< cells that make it a put (empty: any other value is a put)
};

/// The version column of a `newer` feed.
struct version_column {
    enum class kind : uint8_t { NUMBER, TIMESTAMP };
    std::string column;        ///< its header name (also the attribute the version is stored in)
    kind type = kind::NUMBER;  ///< a DynamoDB number, or an ISO-8601 timestamp (compared as UTC instants)
};

/// One feed.
struct feed {
    std::string name;                       ///< its name in the document (reports, metrics, messages)
    object_filter match;                    ///< which objects it loads
    std::string table;                      ///< its table
    mapping::mapping mapping;               ///< its mapping (keys come from the table when not given)
    sync_mode mode = sync_mode::PUT;        ///< how rows reach the table
    std::optional<op_column> op;            ///< `delete` feeds
    std::optional<version_column> version;  ///< `newer` feeds
    snapshot_options snapshot;              ///< `snapshot` feeds
    /// `insert` and `newer` feeds: the attribute of the row marker that keeps counts exact when a crashed load is
    /// resumed (`row_marker: NAME`); empty with `row_marker: false`.
    std::string row_marker = "tarius_row";
    /// The CSV delimiter of its files (, tab | ; or auto, as `--delimiter` takes it); default: a comma.
    std::optional<std::string> delimiter;
    std::optional<std::string> rejects_prefix;  ///< overrides TARIUS_REJECTS_PREFIX
    std::optional<std::string> reports_prefix;  ///< overrides TARIUS_REPORTS_PREFIX
    std::optional<double> max_wcu;              ///< overrides TARIUS_MAX_WCU
    std::optional<size_t> concurrency;          ///< overrides TARIUS_CONCURRENCY
};

/// The feeds of a deployment.
struct feed_set {
    std::vector<feed> feeds;  ///< in document order

    /// The feed whose match accepts `obj`, or null when none does.
    [[nodiscard]] const feed* find(const object_ref& obj) const;
    /// The feed called `name`, or null.
    [[nodiscard]] const feed* named(std::string_view name) const;
};

/// Parses a feeds document (JSON when it starts with `{`, YAML otherwise). Unknown fields, a mode without its
/// option (or an option its mode does not take), two feeds whose objects overlap, a feed without a table: an
/// errc::INVALID_ARGUMENT error naming the field ("feeds: feeds.products.mode: ...").
[[nodiscard]] result<feed_set> parse_feeds(std::string_view document);

/// True when some object key could match both filters (same or any bucket, one prefix a prefix of the other,
/// and suffix sets that share a key ending).
[[nodiscard]] bool filters_overlap(const object_filter& a, const object_filter& b);

}  // namespace tarius::loader
