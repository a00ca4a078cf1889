// The pure core of snapshot loads (docs/sync-modes.md §5): the digest file (round trip; truncated, corrupt,
// unfinished and foreign files are errors), the external record sorter (equals std::sort with a budget that forces
// hundreds of runs and multi-pass merges), and the diff (literal cases, then a property test against a std::map
// model over random files and bases).

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "loader/snapshot/digest.hpp"
#include "loader/snapshot/digest_diff.hpp"
#include "loader/snapshot/record_sorter.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tarius::loader::snapshot;
using tarius::errc;

/// A fresh directory per test, removed with everything in it.
class snapshot_dir : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "tarius-snapshot-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
    [[nodiscard]] size_t files_in(const std::string& sub) const {
        size_t n = 0;
        std::error_code ec;
        for (auto it = fs::directory_iterator(dir_ / sub, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
        return n;
    }

    fs::path dir_;
};

std::string key_of(const std::string& id) {
    return R"({"ID":{"S":")" + id + R"("}})";
}

row_hash h(const std::string& item) {
    return hash_item(item);
}

digest_header header_of(const std::string& load_id) {
    return digest_header{"products", "Products", load_id, "s3://landing/products.csv", "ID:S", 0};
}

/// Writes a digest of `entries` (sorted here) to `path`.
void write_digest(const std::string& path, std::vector<digest_entry> entries, const std::string& load_id = "L0") {
    std::sort(entries.begin(), entries.end(), [](const digest_entry& a, const digest_entry& b) {
        return compare_keys(a.key_hash, a.key_json, b.key_hash, b.key_json) < 0;
    });
    auto w = digest_writer::create(path, header_of(load_id));
    ASSERT_TRUE(w) << w.err().message;
    for (const auto& e : entries) {
        auto added = w->add(e);
        ASSERT_TRUE(added) << added.err().message;
    }
    auto done = w->finish();
    ASSERT_TRUE(done) << done.err().message;
}

/// Reads a whole digest; the error if any.
tarius::result<std::vector<digest_entry>> read_digest(const std::string& path) {
    auto r = digest_reader::open(path);
    if (!r) return r.err();
    std::vector<digest_entry> out;
    for (;;) {
        digest_entry e;
        auto more = r->next(e);
        if (!more) return more.err();
        if (!*more) break;
        out.push_back(std::move(e));
    }
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

bool same_entry(const digest_entry& a, const digest_entry& b) {
    return a.key_hash == b.key_hash && a.hash == b.hash && a.key_json == b.key_json;
}

// ---- hash_item ----

TEST(snapshot_hash, distinct_inputs_distinct_halves_never_keep) {
    EXPECT_EQ(hash_item(R"({"ID":{"S":"a"}})"), hash_item(R"({"ID":{"S":"a"}})"));
    std::set<uint64_t> his;
    std::set<uint64_t> los;
    std::string s;
    for (int len = 0; len < 300; ++len) {  // every tail length, and "ab" vs "ab\0"
        const row_hash v = hash_item(s);
        EXPECT_FALSE(v == KEEP);
        EXPECT_NE(v.hi, v.lo);
        his.insert(v.hi);
        los.insert(v.lo);
        s.push_back('\0');
    }
    EXPECT_EQ(his.size(), 300u);
    EXPECT_EQ(los.size(), 300u);
    // One bit flipped anywhere in a 1 KB item changes both halves.
    std::string item(1024, 'x');
    const row_hash base = hash_item(item);
    for (size_t byte_idx = 0; byte_idx < item.size(); byte_idx += 37) {
        item[byte_idx] ^= 1;
        const row_hash v = hash_item(item);
        EXPECT_NE(v.hi, base.hi) << byte_idx;
        EXPECT_NE(v.lo, base.lo) << byte_idx;
        item[byte_idx] ^= 1;
    }
}

// ---- digest ----

TEST_F(snapshot_dir, digest_round_trip) {
    std::vector<digest_entry> entries;
    for (int i = 0; i < 5000; ++i) {
        // key_hash collisions (i % 97) so the key JSON orders ties; one KEEP (dirty) hash.
        entries.push_back({static_cast<uint64_t>(i % 97), i == 7 ? KEEP : h("item" + std::to_string(i)),
                           key_of("k" + std::to_string(i))});
    }
    entries.push_back({5, h("empty key"), ""});
    const std::string p = path("a.digest");
    write_digest(p, entries, "load-1");
    std::sort(entries.begin(), entries.end(), [](const digest_entry& a, const digest_entry& b) {
        return compare_keys(a.key_hash, a.key_json, b.key_hash, b.key_json) < 0;
    });

    auto r = digest_reader::open(p);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->header().feed, "products");
    EXPECT_EQ(r->header().table, "Products");
    EXPECT_EQ(r->header().load_id, "load-1");
    EXPECT_EQ(r->header().source, "s3://landing/products.csv");
    EXPECT_EQ(r->header().key_schema, "ID:S");
    EXPECT_EQ(r->header().rows, entries.size());
    auto all = read_digest(p);
    ASSERT_TRUE(all) << all.err().message;
    ASSERT_EQ(all->size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) EXPECT_TRUE(same_entry((*all)[i], entries[i])) << i;

    // The first line is the JSON header, escaped.
    const std::string bytes = slurp(p);
    const std::string first = bytes.substr(0, bytes.find('\n'));
    EXPECT_EQ(first.rfind(R"({"format":"tarius-digest/1","feed":"products","table":"Products","load_id":"load-1",)", 0),
              0u)
        << first;
}

TEST_F(snapshot_dir, digest_header_strings_are_escaped) {
    const std::string p = path("esc.digest");
    auto w = digest_writer::create(p, digest_header{"f\"1", "T\n", "L\\", "s3://b/k é", "ID:S,Sku:N", 0});
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->finish());
    auto r = digest_reader::open(p);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->header().feed, "f\"1");
    EXPECT_EQ(r->header().table, "T\n");
    EXPECT_EQ(r->header().load_id, "L\\");
    EXPECT_EQ(r->header().source, "s3://b/k é");
    EXPECT_EQ(r->header().key_schema, "ID:S,Sku:N");
}

TEST_F(snapshot_dir, digest_empty) {
    const std::string p = path("empty.digest");
    write_digest(p, {});
    auto r = digest_reader::open(p);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_EQ(r->header().rows, 0u);
    digest_entry e;
    auto more = r->next(e);
    ASSERT_TRUE(more) << more.err().message;
    EXPECT_FALSE(*more);
    more = r->next(e);  // stays at the end
    ASSERT_TRUE(more);
    EXPECT_FALSE(*more);
}

TEST_F(snapshot_dir, digest_writer_refuses_disorder_and_duplicates) {
    auto w = digest_writer::create(path("x.digest"), header_of("L"));
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->add({2, h("a"), key_of("b")}));
    EXPECT_FALSE(w->add({1, h("a"), key_of("z")}));  // smaller key_hash
    EXPECT_FALSE(w->add({2, h("a"), key_of("a")}));  // same key_hash, smaller key
    EXPECT_FALSE(w->add({2, h("c"), key_of("b")}));  // the same key twice
    EXPECT_TRUE(w->add({2, h("a"), key_of("c")}));
    EXPECT_FALSE(w->add({3, h("a"), std::string(70000, 'k')}));  // over u16
    EXPECT_EQ(w->header().rows, 2u);
    ASSERT_TRUE(w->finish());
    EXPECT_FALSE(w->finish());
    EXPECT_FALSE(w->add({9, h("a"), key_of("z")}));
}

/// Expects reading `p` to fail (at open or at some entry) with INVALID_ARGUMENT, the path and one of `needles` in
/// the message.
void expect_refused(const std::string& p, std::initializer_list<std::string> needles) {
    auto all = read_digest(p);
    ASSERT_FALSE(all) << p << ": read " << all->size() << " entries without an error";
    EXPECT_EQ(all.err().code, errc::INVALID_ARGUMENT) << all.err().message;
    EXPECT_TRUE(std::any_of(needles.begin(), needles.end(), [&all](const std::string& n) {
        return all.err().message.find(n) != std::string::npos;
    })) << all.err().message;
    EXPECT_NE(all.err().message.find(p), std::string::npos) << all.err().message;
}

void expect_refused(const std::string& p, const std::string& needle) {
    expect_refused(p, {needle});
}

TEST_F(snapshot_dir, digest_truncated_is_an_error) {
    std::vector<digest_entry> entries;
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) entries.push_back({rng(), {rng(), rng()}, key_of(std::to_string(rng()))});
    const std::string p = path("full.digest");
    write_digest(p, entries);
    const std::string bytes = slurp(p);
    const size_t header_end = bytes.find('\n') + 1;
    ASSERT_GT(bytes.size(), header_end + 100'000) << "random hashes do not compress: several zstd blocks";

    spit(path("cut1"), bytes.substr(0, 10));
    expect_refused(path("cut1"), "no JSON header line");
    for (const size_t cut : {header_end, header_end + 3, header_end + 40, bytes.size() / 2, bytes.size() - 1}) {
        const std::string cp = path("cut-" + std::to_string(cut));
        spit(cp, bytes.substr(0, cut));
        SCOPED_TRACE(cut);
        expect_refused(cp, "truncated");
    }
}

TEST_F(snapshot_dir, digest_corrupt_or_foreign_or_unfinished_is_an_error) {
    std::vector<digest_entry> entries;
    for (int i = 0; i < 3000; ++i) entries.push_back({static_cast<uint64_t>(i), h(std::to_string(i)), key_of("k")});
    const std::string p = path("ok.digest");
    write_digest(p, entries);
    std::string bytes = slurp(p);

    // A flipped byte anywhere in the compressed stream: zstd's decoder or checksum, or the entry checks, catch it.
    const size_t stream = bytes.find('\n') + 1;
    for (size_t at = stream; at < bytes.size(); at += (bytes.size() - stream) / 40 + 1) {
        std::string flipped = bytes;
        flipped[at] = static_cast<char>(flipped[at] ^ 0x5A);
        spit(path("flip"), flipped);
        SCOPED_TRACE(at);
        expect_refused(path("flip"), {"corrupt", "truncated", "more entries"});
    }

    // More rows in the header than in the stream, and fewer.
    for (const auto& [rows, needle] : {std::pair{"3001", "truncated"}, std::pair{"2999", "more entries"}}) {
        std::string edited = bytes;
        const size_t at = edited.find("\"rows\":3000");
        ASSERT_NE(at, std::string::npos);
        edited.replace(at + 7, 4, rows);
        spit(path("rows"), edited);
        expect_refused(path("rows"), needle);
    }

    spit(path("data.csv"), "ID,Name\n1,a\n");
    expect_refused(path("data.csv"), "not a tarius-digest/1 file");
    spit(path("other.json"), "{\"format\":\"tarius-digest/9\",\"rows\":0}\n");
    expect_refused(path("other.json"), "format \"tarius-digest/9\"");
    spit(path("binary"), std::string("\x28\xB5\x2F\xFD\n\x01\x02", 7));
    expect_refused(path("binary"), "not a tarius-digest/1 file");

    {
        auto w = digest_writer::create(path("unfinished"), header_of("L"));
        ASSERT_TRUE(w);
        ASSERT_TRUE(w->add({1, h("a"), key_of("a")}));
    }  // never finished
    expect_refused(path("unfinished"), "unfinished");

    auto missing = digest_reader::open(path("absent.digest"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.err().code, errc::IO);
}

// ---- record_sorter ----

bool record_less(const record& a, const record& b) {
    return std::tie(a.key_hash, a.key_json, a.line) < std::tie(b.key_hash, b.key_json, b.line);
}

std::vector<record> random_records(size_t n, uint64_t seed, uint64_t hash_range) {
    std::mt19937_64 rng(seed);
    std::vector<record> out;
    for (size_t i = 0; i < n; ++i) {
        record r;
        r.key_hash = rng() % hash_range;
        r.hash = {rng(), rng()};
        r.line = i + 2;
        r.key_json = key_of(std::string(rng() % 40, static_cast<char>('a' + rng() % 3)));
        out.push_back(std::move(r));
    }
    std::shuffle(out.begin(), out.end(), rng);  // lines are unique but not in input order
    return out;
}

std::vector<record> sort_externally(record_sorter& sorter, const std::vector<record>& input) {
    for (const record& r : input) EXPECT_TRUE(sorter.add(r));
    EXPECT_EQ(sorter.records(), input.size());
    std::vector<record> out;
    auto done = sorter.finish([&out](const record& r) -> tarius::result<void> {
        out.push_back(r);
        return tarius::ok();
    });
    EXPECT_TRUE(done) << done.err().message;
    return out;
}

void expect_same_records(const std::vector<record>& got, std::vector<record> want) {
    std::sort(want.begin(), want.end(), record_less);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_TRUE(got[i].key_hash == want[i].key_hash && got[i].hash == want[i].hash && got[i].line == want[i].line &&
                    got[i].key_json == want[i].key_json)
            << "record " << i;
    }
}

TEST_F(snapshot_dir, sorter_tiny_budget_equals_std_sort) {
    const auto input = random_records(10'000, 1, 50);  // many key_hash ties, duplicate keys (same key, other line)
    {
        record_sorter sorter(path("runs"), 4096);
        expect_same_records(sort_externally(sorter, input), input);
        EXPECT_GT(sorter.runs_written(), record_sorter::MAX_FAN_IN + 100) << "multi-pass merge exercised";
        EXPECT_EQ(files_in("runs"), 0u) << "runs removed once merged";
    }
    {
        record_sorter sorter(path("runs2"), 1);  // one record a run
        const auto small = random_records(300, 2, 1000);
        expect_same_records(sort_externally(sorter, small), small);
        EXPECT_GE(sorter.runs_written(), 299u);
    }
}

TEST_F(snapshot_dir, sorter_in_memory_and_empty) {
    const auto input = random_records(2000, 3, 1u << 20);
    record_sorter big(path("runs"), 32u << 20);
    expect_same_records(sort_externally(big, input), input);
    EXPECT_EQ(big.runs_written(), 0u);

    record_sorter none(path("runs"), 4096);
    EXPECT_TRUE(sort_externally(none, {}).empty());
    EXPECT_EQ(none.records(), 0u);
}

TEST_F(snapshot_dir, sorter_stops_at_the_callbacks_error_and_cleans_up) {
    const auto input = random_records(3000, 4, 100);
    {
        record_sorter sorter(path("runs"), 8192);
        for (const record& r : input) ASSERT_TRUE(sorter.add(r));
        EXPECT_GT(files_in("runs"), 0u);
        size_t seen = 0;
        auto done = sorter.finish([&seen](const record&) -> tarius::result<void> {
            if (++seen == 10) return tarius::make_error(errc::CANCELLED, "stop");
            return tarius::ok();
        });
        ASSERT_FALSE(done);
        EXPECT_EQ(done.err().code, errc::CANCELLED);
        EXPECT_EQ(seen, 10u);
        EXPECT_FALSE(sorter.add(input[0])) << "finished";
    }
    EXPECT_EQ(files_in("runs"), 0u) << "the destructor removes the runs";
}

// ---- diff ----

/// A file row for the literal cases: key id, key hash (chosen, so digest order is literal), item hash.
struct row {
    std::string id;
    uint64_t key_hash;
    row_hash hash;
};

struct diff_out {
    diff_counts counts;
    std::vector<uint64_t> written;  // lines, ascending
    std::vector<digest_entry> next;
    std::string deletes;
};

class snapshot_diff : public snapshot_dir {
protected:
    /// A base digest at `name` of (id, key_hash, hash).
    digest_reader* base(const std::string& name, const std::vector<row>& rows) {
        std::vector<digest_entry> entries;
        for (const row& r : rows) entries.push_back({r.key_hash, r.hash, key_of(r.id)});
        write_digest(path(name), entries, name);
        auto reader = digest_reader::open(path(name));
        EXPECT_TRUE(reader) << reader.err().message;
        readers_.push_back(std::make_unique<digest_reader>(std::move(reader).value()));
        return readers_.back().get();
    }

    /// Diffs `file` (rows in file order; lines 2, 3, ...) against `bases`.
    diff_out run(const std::vector<row>& file, std::vector<digest_reader*> bases, diff_options options = {}) {
        record_sorter sorter(path("runs"), 4096);
        uint64_t line = 2;
        for (const row& r : file) EXPECT_TRUE(sorter.add(record{r.key_hash, r.hash, line++, key_of(r.id)}));
        const std::string next_path = path("next-" + std::to_string(++runs_));
        auto next = digest_writer::create(next_path, header_of("next"));
        EXPECT_TRUE(next);
        line_set to_write;
        diff_out out;
        auto counts = diff(sorter, std::move(bases), *next, to_write, path("deletes"), options);
        EXPECT_TRUE(counts) << counts.err().message;
        if (!counts) return out;
        out.counts = *counts;
        EXPECT_TRUE(next->finish());
        auto entries = read_digest(next_path);
        EXPECT_TRUE(entries) << entries.err().message;
        out.next = std::move(entries).value();
        for (uint64_t l = 0; l < line + 5; ++l) {
            if (to_write.contains(l)) out.written.push_back(l);
        }
        EXPECT_EQ(to_write.size(), out.written.size());
        out.deletes = slurp(path("deletes"));
        const diff_counts& c = out.counts;
        EXPECT_EQ(c.records, file.size());
        EXPECT_EQ(c.records, c.to_write + c.unchanged + c.collapsed + c.kept);
        EXPECT_EQ(c.to_write, out.written.size());
        EXPECT_EQ(c.keys, out.next.size());
        EXPECT_EQ(c.to_delete, static_cast<uint64_t>(std::count(out.deletes.begin(), out.deletes.end(), '\n')));
        return out;
    }

    std::vector<std::unique_ptr<digest_reader>> readers_;
    int runs_ = 0;
};

const row_hash item_a = hash_item("item a");
const row_hash item_a2 = hash_item("item a, changed");
const row_hash item_b = hash_item("item b");
const row_hash item_c = hash_item("item c");
const row_hash item_d = hash_item("item d");

std::vector<digest_entry> entries(const std::vector<row>& rows) {
    std::vector<digest_entry> out;
    for (const row& r : rows) out.push_back({r.key_hash, r.hash, key_of(r.id)});
    return out;
}

void expect_entries(const std::vector<digest_entry>& got, const std::vector<row>& want) {
    const auto w = entries(want);
    ASSERT_EQ(got.size(), w.size());
    for (size_t i = 0; i < w.size(); ++i) {
        EXPECT_TRUE(same_entry(got[i], w[i])) << i << ": " << got[i].key_json << " vs " << w[i].key_json;
    }
}

TEST_F(snapshot_diff, first_load_writes_every_row) {
    const std::vector<row> file{{"c", 3, item_c}, {"a", 1, item_a}, {"b", 2, item_b}};
    for (const auto& bases : {std::vector<digest_reader*>{}, std::vector<digest_reader*>{nullptr}}) {
        const diff_out out = run(file, bases);
        EXPECT_EQ(out.written, (std::vector<uint64_t>{2, 3, 4}));
        EXPECT_EQ(out.counts.to_write, 3u);
        EXPECT_EQ(out.counts.base_rows, 0u);
        EXPECT_EQ(out.deletes, "");
        expect_entries(out.next, {{"a", 1, item_a}, {"b", 2, item_b}, {"c", 3, item_c}});
    }
}

TEST_F(snapshot_diff, unchanged_changed_added_removed) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}, {"c", 3, item_c}, {"e", 5, item_d}});
    // a changed, b unchanged, c removed, d added, e removed.
    const diff_out out = run({{"d", 4, item_d}, {"b", 2, item_b}, {"a", 1, item_a2}}, {b});
    EXPECT_EQ(out.written, (std::vector<uint64_t>{2, 4}));
    EXPECT_EQ(out.counts.unchanged, 1u);
    EXPECT_EQ(out.counts.to_delete, 2u);
    EXPECT_EQ(out.counts.base_rows, 4u);
    EXPECT_EQ(out.deletes, key_of("c") + "\n" + key_of("e") + "\n");
    expect_entries(out.next, {{"a", 1, item_a2}, {"b", 2, item_b}, {"d", 4, item_d}});
}

TEST_F(snapshot_diff, all_unchanged_writes_nothing) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}});
    const diff_out out = run({{"b", 2, item_b}, {"a", 1, item_a}}, {b});
    EXPECT_TRUE(out.written.empty());
    EXPECT_EQ(out.counts.unchanged, 2u);
    EXPECT_EQ(out.deletes, "");
}

TEST_F(snapshot_diff, key_hash_ties_are_told_apart_by_the_key) {
    digest_reader* b = base("base", {{"a", 7, item_a}, {"b", 7, item_b}, {"c", 7, item_c}});
    const diff_out out = run({{"c", 7, item_c}, {"a", 7, item_a2}}, {b});
    EXPECT_EQ(out.written, (std::vector<uint64_t>{3}));
    EXPECT_EQ(out.deletes, key_of("b") + "\n");
}

TEST_F(snapshot_diff, duplicates_last_row_wins) {
    {
        digest_reader* b = base("base1", {{"a", 1, item_a}});
        // a, b, a: the second a (line 4) is the one that counts; it differs from the base.
        const diff_out out = run({{"a", 1, item_a}, {"b", 2, item_b}, {"a", 1, item_a2}}, {b});
        EXPECT_EQ(out.written, (std::vector<uint64_t>{3, 4}));
        EXPECT_EQ(out.counts.collapsed, 1u);
        expect_entries(out.next, {{"a", 1, item_a2}, {"b", 2, item_b}});
    }
    {
        digest_reader* b = base("base2", {{"a", 1, item_a}});
        // a changed then changed back: the last equals the base, nothing is sent for a.
        const diff_out out = run({{"a", 1, item_a2}, {"a", 1, item_a2}, {"a", 1, item_a}}, {b});
        EXPECT_TRUE(out.written.empty());
        EXPECT_EQ(out.counts.collapsed, 2u);
        EXPECT_EQ(out.counts.unchanged, 1u);
    }
}

TEST_F(snapshot_diff, keep_with_and_without_a_base_entry) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}});
    // a rejected (KEEP): carries the base's hash, neither written nor deleted. c rejected with no base entry: kept
    // as KEEP (content unknown). b absent: deleted.
    const diff_out out = run({{"a", 1, KEEP}, {"c", 3, KEEP}}, {b});
    EXPECT_TRUE(out.written.empty());
    EXPECT_EQ(out.counts.kept, 2u);
    EXPECT_EQ(out.deletes, key_of("b") + "\n");
    expect_entries(out.next, {{"a", 1, item_a}, {"c", 3, KEEP}});
}

TEST_F(snapshot_diff, keep_after_a_valid_row_of_the_same_key_keeps) {
    digest_reader* b = base("base", {{"a", 1, item_a}});
    const diff_out out = run({{"a", 1, item_a2}, {"a", 1, KEEP}}, {b});
    EXPECT_TRUE(out.written.empty());
    EXPECT_EQ(out.counts.kept, 1u);
    EXPECT_EQ(out.counts.collapsed, 1u);
    expect_entries(out.next, {{"a", 1, item_a}});
}

TEST_F(snapshot_diff, keep_with_disagreeing_bases_becomes_dirty) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}});
    digest_reader* pending = base("pending", {{"a", 1, item_a2}});  // b absent: that load may have deleted it
    const diff_out out = run({{"a", 1, KEEP}, {"b", 2, KEEP}}, {b, pending});
    expect_entries(out.next, {{"a", 1, KEEP}, {"b", 2, KEEP}});
    EXPECT_EQ(out.counts.kept, 2u);
}

TEST_F(snapshot_diff, a_dirty_base_entry_is_rewritten) {
    digest_reader* b = base("base", {{"a", 1, KEEP}});
    const diff_out out = run({{"a", 1, item_a}}, {b});
    EXPECT_EQ(out.written, (std::vector<uint64_t>{2}));
}

TEST_F(snapshot_diff, pending_base_disagreement_writes_the_row) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}, {"c", 3, item_c}});
    // The failed load wrote a changed a, and (its file lacking b) may have deleted b; c it left as the base has it.
    digest_reader* pending = base("pending", {{"a", 1, item_a2}, {"c", 3, item_c}});
    const diff_out out = run({{"a", 1, item_a}, {"b", 2, item_b}, {"c", 3, item_c}}, {b, pending});
    EXPECT_EQ(out.written, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(out.counts.unchanged, 1u);
    EXPECT_EQ(out.deletes, "");
}

TEST_F(snapshot_diff, untrusted_with_a_pending_base_writes_all_and_deletes_the_union_once) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}, {"c", 3, item_c}});
    digest_reader* pending = base("pending", {{"b", 2, item_b}, {"c", 3, item_c}, {"d", 4, item_d}});
    const diff_out out = run({{"a", 1, item_a}, {"b", 2, item_b}}, {b, nullptr, pending}, diff_options{false});
    EXPECT_EQ(out.written, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(out.counts.unchanged, 0u);
    EXPECT_EQ(out.counts.to_delete, 2u);
    EXPECT_EQ(out.counts.base_rows, 3u);
    EXPECT_EQ(out.deletes, key_of("c") + "\n" + key_of("d") + "\n");
    expect_entries(out.next, {{"a", 1, item_a}, {"b", 2, item_b}});
}

TEST_F(snapshot_diff, empty_file_deletes_every_base_key) {
    digest_reader* b = base("base", {{"a", 1, item_a}, {"b", 2, item_b}});
    const diff_out out = run({}, {b});
    EXPECT_EQ(out.deletes, key_of("a") + "\n" + key_of("b") + "\n");
    EXPECT_TRUE(out.next.empty());
}

TEST_F(snapshot_diff, a_corrupt_base_fails_the_diff) {
    std::vector<digest_entry> es;
    for (int i = 0; i < 5000; ++i) es.push_back({static_cast<uint64_t>(i), h(std::to_string(i)), key_of("k")});
    write_digest(path("base"), es);
    const std::string bytes = slurp(path("base"));
    spit(path("base"), bytes.substr(0, bytes.size() - 3));
    auto reader = digest_reader::open(path("base"));
    ASSERT_TRUE(reader);
    record_sorter sorter(path("runs"), 4096);
    ASSERT_TRUE(sorter.add(record{1, item_a, 2, key_of("k")}));
    auto next = digest_writer::create(path("next"), header_of("n"));
    ASSERT_TRUE(next);
    line_set lines;
    auto counts = diff(sorter, {&*reader}, *next, lines, path("deletes"));
    ASSERT_FALSE(counts);
    EXPECT_NE(counts.err().message.find("truncated"), std::string::npos) << counts.err().message;
}

TEST(snapshot_line_set, bits) {
    line_set s;
    EXPECT_FALSE(s.contains(0));
    EXPECT_FALSE(s.contains(1'000'000));
    s.insert(0);
    s.insert(63);
    s.insert(64);
    s.insert(64);
    s.insert(100'000'001);
    EXPECT_EQ(s.size(), 4u);
    EXPECT_TRUE(s.contains(0));
    EXPECT_TRUE(s.contains(63));
    EXPECT_TRUE(s.contains(64));
    EXPECT_FALSE(s.contains(65));
    EXPECT_TRUE(s.contains(100'000'001));
    EXPECT_FALSE(s.contains(100'000'000));
}

// ---- diff against a model ----

/// The rules of digest_diff.hpp over std::map, one key at a time.
struct model {
    using key = std::pair<uint64_t, std::string>;
    std::map<key, row_hash> next;
    std::set<uint64_t> written;
    std::string deletes;
    diff_counts counts;

    model(const std::vector<record>& file, const std::vector<std::optional<std::map<key, row_hash>>>& bases,
          bool trust) {
        std::map<key, std::pair<uint64_t, row_hash>> last;  // key → (line, hash) of its last row
        std::map<key, uint64_t> rows;
        for (const record& r : file) {
            const key k{r.key_hash, r.key_json};
            auto& l = last[k];
            if (rows[k]++ == 0 || r.line > l.first) l = {r.line, r.hash};
        }
        counts.records = file.size();
        counts.keys = last.size();
        if (!bases.empty() && bases[0]) counts.base_rows = bases[0]->size();
        for (const auto& [k, n] : rows) counts.collapsed += n - 1;
        for (const auto& [k, lh] : last) {
            const auto [line, hash] = lh;
            std::optional<row_hash> agreed;
            if (!bases.empty() && bases[0] && bases[0]->count(k) != 0) {
                agreed = bases[0]->at(k);
                for (const auto& b : bases) {
                    if (b && (b->count(k) == 0 || !(b->at(k) == *agreed))) agreed.reset();
                }
            }
            if (hash == KEEP) {
                ++counts.kept;
                next[k] = agreed ? *agreed : KEEP;
            } else {
                next[k] = hash;
                if (trust && agreed && *agreed == hash) {
                    ++counts.unchanged;
                } else {
                    ++counts.to_write;
                    written.insert(line);
                }
            }
        }
        std::set<key> gone;
        for (const auto& b : bases) {
            if (!b) continue;
            for (const auto& [k, hash] : *b) {
                if (last.count(k) == 0) gone.insert(k);
            }
        }
        for (const key& k : gone) deletes += k.second + "\n";
        counts.to_delete = gone.size();
    }
};

TEST_F(snapshot_diff, matches_the_model_on_random_cases) {
    std::mt19937_64 rng(20261206);
    const row_hash hashes[] = {item_a, item_a2, item_b, KEEP};
    for (int case_idx = 0; case_idx < 300; ++case_idx) {
        SCOPED_TRACE("case " + std::to_string(case_idx));
        const int universe = 1 + static_cast<int>(rng() % 30);
        // key_hash = id % 4: many ties for the key JSON to order.
        const auto key_hash_of = [](int id) { return static_cast<uint64_t>(id % 4); };
        const auto pick_hash = [&](bool allow_keep) {
            const size_t n = allow_keep ? 4 : 3;
            return hashes[rng() % n];
        };

        std::vector<std::optional<std::map<model::key, row_hash>>> base_maps(rng() % 4);
        std::vector<digest_reader*> bases;
        for (size_t base_idx = 0; base_idx < base_maps.size(); ++base_idx) {
            if (rng() % 5 == 0) {
                bases.push_back(nullptr);
                continue;
            }
            base_maps[base_idx].emplace();
            std::vector<row> rows;
            for (int id = 0; id < universe; ++id) {
                if (rng() % 3 == 0) continue;
                const row r{"k" + std::to_string(id), key_hash_of(id), pick_hash(rng() % 8 == 0)};
                rows.push_back(r);
                (*base_maps[base_idx])[{r.key_hash, key_of(r.id)}] = r.hash;
            }
            bases.push_back(base("base-" + std::to_string(case_idx) + "-" + std::to_string(base_idx), rows));
        }
        std::vector<row> file;
        const size_t n_rows = rng() % 50;
        for (size_t row_idx = 0; row_idx < n_rows; ++row_idx) {
            const int id = static_cast<int>(rng() % static_cast<uint64_t>(universe));
            file.push_back({"k" + std::to_string(id), key_hash_of(id), pick_hash(rng() % 5 == 0)});
        }
        const bool trust = rng() % 4 != 0;

        std::vector<record> records;
        uint64_t line = 2;
        for (const row& r : file) records.push_back({r.key_hash, r.hash, line++, key_of(r.id)});
        const model want(records, base_maps, trust);
        const diff_out got = run(file, bases, diff_options{trust});

        EXPECT_EQ(got.counts.to_write, want.counts.to_write);
        EXPECT_EQ(got.counts.unchanged, want.counts.unchanged);
        EXPECT_EQ(got.counts.collapsed, want.counts.collapsed);
        EXPECT_EQ(got.counts.kept, want.counts.kept);
        EXPECT_EQ(got.counts.to_delete, want.counts.to_delete);
        EXPECT_EQ(got.counts.base_rows, want.counts.base_rows);
        EXPECT_EQ(got.counts.keys, want.counts.keys);
        EXPECT_EQ(std::set<uint64_t>(got.written.begin(), got.written.end()), want.written);
        EXPECT_EQ(got.deletes, want.deletes);
        ASSERT_EQ(got.next.size(), want.next.size());
        size_t entry_idx = 0;
        for (const auto& [k, hash] : want.next) {
            const digest_entry& e = got.next[entry_idx++];
            EXPECT_TRUE(e.key_hash == k.first && e.key_json == k.second && e.hash == hash) << e.key_json;
        }
        if (HasFailure()) break;
    }
}

// ---- throughput (run by hand: --gtest_also_run_disabled_tests --gtest_filter='*throughput*') ----

TEST_F(snapshot_dir, DISABLED_throughput_1m) {
    constexpr size_t N = 1'000'000;
    std::mt19937_64 rng(1);
    std::vector<record> file;
    file.reserve(N);
    for (size_t i = 0; i < N; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "SKU-%08zu", i);
        record r;
        r.key_json = key_of(id);
        r.key_hash = hash_item(r.key_json).hi;
        r.hash = {rng(), rng()};
        r.line = i + 2;
        file.push_back(std::move(r));
    }
    // The base: 1 % of the keys with another hash, and 0.5 % more keys (absent from the file: deleted).
    std::vector<digest_entry> base_entries;
    for (const record& r : file)
        base_entries.push_back({r.key_hash, rng() % 100 == 0 ? row_hash{1, 2} : r.hash, r.key_json});
    for (size_t i = 0; i < N / 200; ++i) {
        const std::string k = key_of("GONE-" + std::to_string(i));
        base_entries.push_back({hash_item(k).hi, {3, 4}, k});
    }
    write_digest(path("base.digest"), base_entries);
    auto base = digest_reader::open(path("base.digest"));
    ASSERT_TRUE(base);

    using clock = std::chrono::steady_clock;
    const auto seconds = [](clock::time_point a, clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    };
    // The parts alone: the sort (add + finish), and writing a digest of N entries.
    {
        std::vector<record> copy = file;
        const auto s0 = clock::now();
        record_sorter sorter(path("runs-sort"), 32u << 20);
        for (record& r : copy) ASSERT_TRUE(sorter.add(std::move(r)));
        ASSERT_TRUE(sorter.finish([](const record&) { return tarius::ok(); }));
        const auto s1 = clock::now();
        auto w = digest_writer::create(path("alone.digest"), header_of("alone"));
        ASSERT_TRUE(w);
        std::sort(base_entries.begin(), base_entries.end(), [](const digest_entry& a, const digest_entry& b) {
            return compare_keys(a.key_hash, a.key_json, b.key_hash, b.key_json) < 0;
        });
        const auto s2 = clock::now();
        for (const digest_entry& e : base_entries) ASSERT_TRUE(w->add(e));
        ASSERT_TRUE(w->finish());
        const auto s3 = clock::now();
        auto r = digest_reader::open(path("alone.digest"));
        ASSERT_TRUE(r);
        digest_entry e;
        uint64_t n = 0;
        for (;;) {
            auto more = r->next(e);
            ASSERT_TRUE(more);
            if (!*more) break;
            ++n;
        }
        const auto s4 = clock::now();
        std::printf("parts: sort %.3f s (%llu runs), digest write %.3f s, digest read %.3f s (%llu entries)\n",
                    seconds(s0, s1), static_cast<unsigned long long>(sorter.runs_written()), seconds(s2, s3),
                    seconds(s3, s4), static_cast<unsigned long long>(n));
    }

    const auto t0 = clock::now();
    record_sorter sorter(path("runs"), 32u << 20);
    for (record& r : file) ASSERT_TRUE(sorter.add(std::move(r)));
    const auto t1 = clock::now();
    auto next = digest_writer::create(path("next.digest"), header_of("next"));
    ASSERT_TRUE(next);
    line_set lines;
    auto counts = diff(sorter, {&*base}, *next, lines, path("deletes"));
    ASSERT_TRUE(counts) << counts.err().message;
    ASSERT_TRUE(next->finish());
    const auto t2 = clock::now();
    const double add_s = seconds(t0, t1);
    const double diff_s = seconds(t1, t2);
    std::printf(
        "snapshot throughput: %zu records, 32 MB budget, %llu runs: add %.3f s, finish+diff+digest %.3f s, "
        "total %.3f s = %.0f records/s; to_write %llu, unchanged %llu, to_delete %llu; digest %llu bytes\n",
        N, static_cast<unsigned long long>(sorter.runs_written()), add_s, diff_s, add_s + diff_s,
        static_cast<double>(N) / (add_s + diff_s), static_cast<unsigned long long>(counts->to_write),
        static_cast<unsigned long long>(counts->unchanged), static_cast<unsigned long long>(counts->to_delete),
        static_cast<unsigned long long>(fs::file_size(path("next.digest"))));

    std::string item(1024, 'x');
    for (size_t i = 0; i < item.size(); ++i) item[i] = static_cast<char>('a' + i % 26);
    const auto t3 = clock::now();
    uint64_t sink = 0;
    constexpr size_t HASHES = 1'000'000;
    for (size_t i = 0; i < HASHES; ++i) {
        item[i % 1024] ^= 1;
        sink ^= hash_item(item).lo;
    }
    const double hash_s = std::chrono::duration<double>(clock::now() - t3).count();
    std::printf("hash_item: 1 KiB items, %.0f items/s, %.0f MB/s (%llu)\n", HASHES / hash_s,
                HASHES * 1024.0 / hash_s / 1e6, static_cast<unsigned long long>(sink & 1));
}

}  // namespace
