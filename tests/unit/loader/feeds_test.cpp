// Feeds documents: what they describe, and a clear error naming the field for every mistake.

#include "tarius/loader/feeds.hpp"
#include "tarius/loader/feed_router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using tarius::loader::feed_set;
using tarius::loader::object_filter;
using tarius::loader::object_ref;
using tarius::loader::parse_feeds;
using tarius::loader::sync_mode;

constexpr const char* TWO_FEEDS = R"yaml(
feeds:
  products:
    match: {prefix: raw-data/products/, suffixes: [.csv, .csv.gz]}
    table: products
    mapping: {partition_key: ID:S, columns: {"Price (USD)": {attribute: price_usd, type: number, currency: true}}}
    mode: snapshot
    snapshot: {max_delete_fraction: 0.05}
  prices:
    match: {bucket: landing, prefix: raw-data/prices/}
    table: prices
    mode: newer
    version: {column: updated_at, type: timestamp}
    max_wcu: 500
    concurrency: 16
    rejects_prefix: rejects/prices/
)yaml";

object_ref object(const std::string& bucket, const std::string& key) {
    object_ref obj;
    obj.bucket = bucket;
    obj.key = key;
    return obj;
}

TEST(feeds, a_document_describes_each_feed) {
    auto parsed = parse_feeds(TWO_FEEDS);
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_EQ(parsed->feeds.size(), 2u);
    const auto& products = parsed->feeds[0];
    EXPECT_EQ(products.name, "products");
    EXPECT_EQ(products.table, "products");
    EXPECT_EQ(products.mode, sync_mode::SNAPSHOT);
    EXPECT_DOUBLE_EQ(products.snapshot.max_delete_fraction, 0.05);
    ASSERT_TRUE(products.mapping.keys);
    EXPECT_EQ(products.mapping.keys->partition.name, "ID");
    ASSERT_EQ(products.mapping.columns.size(), 1u);
    EXPECT_EQ(products.mapping.columns[0].attribute, "price_usd");
    const auto& prices = parsed->feeds[1];
    EXPECT_EQ(prices.mode, sync_mode::NEWER);
    ASSERT_TRUE(prices.version);
    EXPECT_EQ(prices.version->column, "updated_at");
    EXPECT_EQ(prices.version->type, tarius::loader::version_column::kind::TIMESTAMP);
    EXPECT_EQ(prices.max_wcu.value_or(0), 500);
    EXPECT_EQ(prices.concurrency.value_or(0), 16u);
    EXPECT_EQ(prices.rejects_prefix.value_or(""), "rejects/prices/");
    EXPECT_EQ(prices.match.suffixes, (std::vector<std::string>{".csv", ".csv.gz", ".csv.zst"}));  // the default
}

TEST(feeds, objects_find_their_feed) {
    auto parsed = parse_feeds(TWO_FEEDS);
    ASSERT_TRUE(parsed);
    const struct {
        const char* bucket;
        const char* key;
        const char* feed;  // "" = none
    } cases[] = {
        {"landing", "raw-data/products/2026-12-06.csv", "products"},
        {"other", "raw-data/products/a.csv.gz", "products"},
        {"landing", "raw-data/products/a.csv.zst", ""},  // products takes .csv and .csv.gz only
        {"landing", "raw-data/prices/p.csv.zst", "prices"},
        {"other", "raw-data/prices/p.csv", ""},  // prices is bound to the landing bucket
        {"landing", "raw-data/stock/s.csv", ""},
    };
    for (const auto& c : cases) {
        const auto* found = parsed->find(object(c.bucket, c.key));
        EXPECT_EQ(found ? found->name : std::string(), c.feed) << c.bucket << "/" << c.key;
    }
    EXPECT_NE(parsed->named("prices"), nullptr);
    EXPECT_EQ(parsed->named("stock"), nullptr);
}

TEST(feeds, json_documents_too) {
    auto parsed = parse_feeds(R"({"feeds":{"p":{"match":{"prefix":"a/"},"table":"t","mode":"delete",)"
                              R"("op":{"column":"op","delete":["D","X"],"put":"U"}}}})");
    ASSERT_TRUE(parsed) << parsed.err().message;
    ASSERT_TRUE(parsed->feeds[0].op);
    EXPECT_EQ(parsed->feeds[0].op->delete_values, (std::vector<std::string>{"D", "X"}));
    EXPECT_EQ(parsed->feeds[0].op->put_values, (std::vector<std::string>{"U"}));
}

TEST(feeds, a_feed_names_the_delimiter_of_its_files) {
    auto parsed = parse_feeds(
        "feeds: {a: {match: {prefix: x/}, table: t, delimiter: semicolon}, "
        "b: {match: {prefix: y/}, table: u}}");
    ASSERT_TRUE(parsed) << parsed.err().message;
    tarius::loader::loader_config base;
    const auto a = tarius::loader::config_for_feed(base, *parsed.value().named("a"));
    EXPECT_EQ(a.dialect.delimiter, ';');
    EXPECT_TRUE(a.dialect.delimiter_given);  // an Excel sep= line naming another one is then an error
    const auto b = tarius::loader::config_for_feed(base, *parsed.value().named("b"));
    EXPECT_EQ(b.dialect.delimiter, ',');
    EXPECT_FALSE(b.dialect.delimiter_given);
}

TEST(feeds, the_row_marker_is_reserved_where_the_feed_writes_it) {
    auto parsed = parse_feeds(
        "feeds: {i: {match: {prefix: i/}, table: t, mode: insert}, "
        "n: {match: {prefix: n/}, table: u, mode: newer, version: {column: v}, row_marker: loaded_by}, "
        "o: {match: {prefix: o/}, table: w, mode: insert, row_marker: false}, "
        "m: {match: {prefix: m/}, table: x, mode: merge}}");
    ASSERT_TRUE(parsed) << parsed.err().message;
    tarius::loader::loader_config base;
    auto reserved = [&](const char* name) {
        return tarius::loader::config_for_feed(base, *parsed.value().named(name)).mapping.reserved_attributes;
    };
    EXPECT_EQ(reserved("i"), (std::vector<std::string>{"tarius_row"}));
    EXPECT_EQ(reserved("n"), (std::vector<std::string>{"loaded_by"}));
    EXPECT_TRUE(reserved("o").empty());
    EXPECT_TRUE(reserved("m").empty());
}

TEST(feeds, a_feed_never_reads_where_outputs_are_written) {
    tarius::loader::loader_config base;  // rejects under invalid-records/, reports under load-reports/
    auto check = [&base](const char* document) {
        auto parsed = parse_feeds(document);
        EXPECT_TRUE(parsed) << parsed.err().message;
        return tarius::loader::check_outputs_outside_feeds(parsed.value(), base);
    };
    EXPECT_TRUE(check("feeds: {a: {match: {prefix: raw/}, table: t}}"));
    // Rejects under the feed's own prefix: each load of them writes more there.
    auto nested = check("feeds: {a: {match: {prefix: raw/}, table: t, rejects_prefix: raw/rej/}}");
    ASSERT_FALSE(nested);
    EXPECT_EQ(nested.err().message.rfind("feeds: feeds.a.rejects_prefix: \"raw/rej/\" lies where feed a reads", 0), 0u)
        << nested.err().message;
    // A snapshot's digests above a feed's prefix: the router would take every object of the feed for an output.
    auto hiding =
        check("feeds: {a: {match: {prefix: raw/p/}, table: t, mode: snapshot, snapshot: {digests_prefix: raw/}}}");
    ASSERT_FALSE(hiding);
    EXPECT_EQ(hiding.err().message.rfind("feeds: feeds.a.snapshot.digests_prefix: \"raw/\" lies where feed a reads", 0),
              0u)
        << hiding.err().message;
    EXPECT_TRUE(check("feeds: {a: {match: {prefix: raw/p/}, table: t, mode: snapshot}}"));
    // A feed reading every key reads the default rejects prefix too; another feed's outputs count as well.
    EXPECT_FALSE(check("feeds: {a: {match: {prefix: \"\"}, table: t}}"));
    EXPECT_FALSE(
        check("feeds: {a: {match: {prefix: raw/}, table: t}, "
              "b: {match: {prefix: other/}, table: u, rejects_prefix: raw/rejects/}}"));
    // Reports (.json) under a prefix whose feed reads .csv files only: never read.
    EXPECT_TRUE(check("feeds: {a: {match: {prefix: raw/}, table: t, reports_prefix: raw/reports/}}"));
}

TEST(feeds, every_mistake_is_named) {
    const struct {
        const char* document;
        const char* message;
    } cases[] = {
        {"feeds: {}", "feeds: feeds: expected an object of feeds by name, with at least one feed"},
        {"nope: 1", "feeds: nope: unknown field (expected one of feeds)"},
        {"feeds: {a: {table: t}}", "feeds: feeds.a.match: missing: which objects the feed loads"},
        {"feeds: {a: {match: {prefix: x/}}}", "feeds: feeds.a.table: missing: the feed's table"},
        {"feeds: {a: {match: {prefix: x/}, table: t, tabel: u}}",
         "feeds: feeds.a.tabel: unknown field (expected one of match, table, mapping, mode, op, version, snapshot, "
         "row_marker, delimiter, rejects_prefix, reports_prefix, max_wcu, concurrency)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, delimiter: colon}}",
         "feeds: feeds.a.delimiter: unknown delimiter \"colon\": use , comma \\t tab | pipe ; semicolon or auto"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: upsert}}",
         "feeds: feeds.a.mode: unknown mode \"upsert\" (expected put, merge, insert, delete, newer or snapshot)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: newer}}",
         "feeds: feeds.a.version: missing: a newer feed names its version column, e.g. {column: updated_at, type: "
         "timestamp}"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: delete}}",
         "feeds: feeds.a.op: missing: a delete feed names its operation column, e.g. {column: op, delete: [D]}"},
        {"feeds: {a: {match: {prefix: x/}, table: t, op: {column: op, delete: [D]}}}",
         "feeds: feeds.a.op: only delete feeds take an operation column (mode is put)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: delete, op: {column: op}}}",
         "feeds: feeds.a.op.delete: missing: the values that make a row a delete, e.g. [D]"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: newer, version: {column: v, type: date}}}",
         "feeds: feeds.a.version.type: unknown version type \"date\" (expected number or timestamp)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, snapshot: {max_delete_fraction: 0.1}}}",
         "feeds: feeds.a.snapshot: only snapshot feeds take snapshot options (mode is put)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: snapshot, snapshot: {max_delete_fraction: 2}}}",
         "feeds: feeds.a.snapshot.max_delete_fraction: a share of the items: at most 1"},
        {"feeds: {a: {match: {prefix: x/}, table: t, row_marker: false}}",
         "feeds: feeds.a.row_marker: only insert and newer feeds mark their rows (mode is put)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: insert, mapping: {columns: {C: {empty: remove}}}}}",
         "feeds: feeds.a.mapping: column C: empty: remove is for merge feeds only (a put replaces the whole item)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: newer, version: {column: v, type: timestamp}, "
         "mapping: {columns: {v: {type: number}}}}}",
         "feeds: feeds.a.mapping: column v has type number, but it is the feed's version of type timestamp"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mode: snapshot}, b: {match: {prefix: y/}, table: t}}",
         "feeds: feeds.b.table: feed a writes table t too: a snapshot feed must own its table (it deletes what its "
         "file lacks)"},
        {"feeds: {a: {match: {prefix: x/}, table: t, max_wcu: 0}}",
         "feeds: feeds.a.max_wcu: expected a number above 0, not \"0\""},
        {"feeds: {a: {match: {prefix: x/}, table: t, concurrency: 2.5}}",
         "feeds: feeds.a.concurrency: expected a count"},
        {"feeds: {a: {match: {prefix: x/}, table: t, mapping: {partition_key: ID:Q}}}",
         "feeds: feeds.a.mapping.partition_key: key \"ID:Q\": unknown type \"Q\""},
        {"feeds: {a: {match: {prefix: raw/}, table: t}, b: {match: {prefix: raw/b/}, table: u}}",
         "feeds: feeds.b.match: overlaps feed a (an object key could match both: give them prefixes that do not "
         "nest, or disjoint suffixes)"},
        {"feeds: {a: {match: {prefix: x/}, table: t}, a: {match: {prefix: y/}, table: u}}",
         "feeds: feeds.a: duplicate feed"},
        {"feeds: [1, 2", "feeds: invalid YAML"},
    };
    for (const auto& c : cases) {
        auto parsed = parse_feeds(c.document);
        ASSERT_FALSE(parsed) << c.document;
        EXPECT_EQ(parsed.err().message.rfind(c.message, 0), 0u) << c.document << "\n  got: " << parsed.err().message;
    }
}

TEST(feeds, overlap_of_filters) {
    auto filter = [](std::string bucket, std::string prefix, std::vector<std::string> suffixes) {
        object_filter f;
        f.bucket = std::move(bucket);
        f.prefix = std::move(prefix);
        f.suffixes = std::move(suffixes);
        return f;
    };
    const struct {
        object_filter a, b;
        bool overlap;
    } cases[] = {
        {filter("", "raw/a/", {".csv"}), filter("", "raw/b/", {".csv"}), false},
        {filter("", "raw/", {".csv"}), filter("", "raw/b/", {".csv"}), true},
        {filter("", "raw/", {".csv"}), filter("", "raw/", {".csv.gz"}), false},
        {filter("", "raw/", {".gz"}), filter("", "raw/", {".csv.gz"}), true},
        {filter("", "raw/", {}), filter("", "raw/x", {".csv"}), true},
        {filter("one", "raw/", {".csv"}), filter("two", "raw/", {".csv"}), false},
        {filter("one", "raw/", {".csv"}), filter("", "raw/", {".csv"}), true},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(tarius::loader::filters_overlap(c.a, c.b), c.overlap) << c.a.prefix << " vs " << c.b.prefix;
        EXPECT_EQ(tarius::loader::filters_overlap(c.b, c.a), c.overlap) << "symmetric";
    }
}

}  // namespace
