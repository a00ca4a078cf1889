#include "loader/snapshot/snapshot_load.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "json/writer.hpp"
#include "loader/snapshot/digest.hpp"
#include "loader/snapshot/record_sorter.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/pipeline/engine.hpp"

namespace tarius::loader::snapshot {
namespace {

constexpr const char* STATE = "state.json";
constexpr const char* STATE_FORMAT = "tarius-snapshot-state/1";

std::string key_schema_text(const mapping::key_schema& keys) {
    auto one = [](const mapping::key_attribute& k) {
        return k.name + ":" + (k.type == mapping::key_type::S ? "S" : k.type == mapping::key_type::N ? "N" : "B");
    };
    return keys.sort ? one(keys.partition) + "," + one(*keys.sort) : one(keys.partition);
}

// The feed's state: its base digest and the digests of loads that began writing and never finished.
struct feed_state {
    struct digest_ref {
        std::string digest;
        std::string load_id;
    };
    std::optional<digest_ref> base;
    uint64_t base_rows = 0;
    std::string base_table;
    std::string base_keys;
    bool rewrite_next = false;  // the base does not match the table (DynamoDB refused rows of that load)
    std::vector<digest_ref> pending;
};

result<feed_state> parse_state(const std::string& text, const std::string& where) {
    feed_state out;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    auto bad = [&](const std::string& what) {
        return make_error(errc::CSV_FILE, "snapshot: the state " + where + STATE + " is unreadable (" + what +
                                              "); remove it to start the feed again from a first load");
    };
    if (parser.parse(text).get(doc) != simdjson::SUCCESS) return bad("not JSON");
    std::string_view format;
    if (doc["format"].get_string().get(format) != simdjson::SUCCESS || format != STATE_FORMAT) return bad("format");
    simdjson::dom::object base;
    if (doc["base"].get_object().get(base) == simdjson::SUCCESS) {
        std::string_view digest, load_id, table, keys;
        uint64_t rows = 0;
        bool rewrite = false;
        if (base["digest"].get_string().get(digest) != simdjson::SUCCESS ||
            base["load_id"].get_string().get(load_id) != simdjson::SUCCESS ||
            base["table"].get_string().get(table) != simdjson::SUCCESS ||
            base["key_schema"].get_string().get(keys) != simdjson::SUCCESS ||
            base["rows"].get_uint64().get(rows) != simdjson::SUCCESS) {
            return bad("base");
        }
        if (base["rewrite_next"].get_bool().get(rewrite) != simdjson::SUCCESS) rewrite = false;
        out.base = feed_state::digest_ref{std::string(digest), std::string(load_id)};
        out.base_rows = rows;
        out.base_table = table;
        out.base_keys = keys;
        out.rewrite_next = rewrite;
    }
    simdjson::dom::array pending;
    if (doc["pending"].get_array().get(pending) == simdjson::SUCCESS) {
        for (simdjson::dom::element p : pending) {
            std::string_view digest, load_id;
            if (p["digest"].get_string().get(digest) != simdjson::SUCCESS ||
                p["load_id"].get_string().get(load_id) != simdjson::SUCCESS) {
                return bad("pending");
            }
            out.pending.push_back({std::string(digest), std::string(load_id)});
        }
    }
    return out;
}

std::string state_text(const feed_state& s) {
    std::string out;
    json::writer w(out);
    w.begin_object().key("format").value(STATE_FORMAT);
    if (s.base) {
        w.key("base").begin_object();
        w.key("digest").value(s.base->digest).key("load_id").value(s.base->load_id);
        w.key("rows").value(s.base_rows).key("table").value(s.base_table).key("key_schema").value(s.base_keys);
        w.key("rewrite_next").value(s.rewrite_next).end_object();
    }
    w.key("pending").begin_array();
    for (const auto& p : s.pending) {
        w.begin_object().key("digest").value(p.digest).key("load_id").value(p.load_id).end_object();
    }
    w.end_array().end_object();
    return out;
}

// Pass 1: every row of the file as a record (its key, the hash of its item, its line), into the sorter.
class recorder final : public pipeline::batch_sink {
public:
    recorder(record_sorter& sorter, const mapping::key_schema& keys) : sorter_(sorter), keys_(keys) {}

    result<void> on_batch(pipeline::batch&& b) override {
        for (size_t idx = 0; idx < b.items_info.size(); ++idx) {
            const std::string_view json = b.item_json(idx);
            record r;
            r.key_hash = b.items_info[idx].key_hash;
            r.hash = hash_item(json);
            r.line = b.items_info[idx].origin.line;
            r.key_json = key_json_of(json, keys_);
            TARIUS_TRY(sorter_.add(std::move(r)));
        }
        return ok();
    }

    // A row the mapping rejected whose key is known: its item stays as it is.
    void on_rejected_key(const mapping::encoded_item& key, std::string_view key_json, uint64_t line) {
        record r;
        r.key_hash = key.key_hash;
        r.hash = KEEP;
        r.line = line;
        // encode_key writes the key attributes in the header's order; the digest's order is the schema's.
        r.key_json = key_json_of(key_json, keys_);
        if (auto added = sorter_.add(std::move(r)); !added && !failure_) failure_ = added.err();
    }

    [[nodiscard]] const std::optional<error>& failure() const noexcept { return failure_; }

private:
    record_sorter& sorter_;
    const mapping::key_schema& keys_;
    std::optional<error> failure_;
};

// Passes the input on while the load may go on, and keeps its lease and the feed's lock alive (pass 1 of a large
// file outlasts a lease).
class stoppable_sink final : public byte_sink {
public:
    stoppable_sink(byte_sink& next, const std::function<bool()>& stop, const std::function<result<void>()>& heartbeat)
        : next_(next), stop_(stop), heartbeat_(heartbeat) {}
    result<void> write(std::string_view chunk) override {
        if (stop_ && stop_()) return stop_reading(make_error(errc::CANCELLED, "snapshot: stopped while digesting"));
        if (heartbeat_) {
            if (auto beat = heartbeat_(); !beat) return stop_reading(std::move(beat).err());
        }
        return next_.write(chunk);
    }
    result<void> finish() override { return next_.finish(); }
    bool stop_requested() override { return stop_ && stop_(); }
    [[nodiscard]] const std::optional<error>& failure() const noexcept { return failure_; }

private:
    // The producer (an S3 download) gets a plain stop; the cause is kept.
    result<void> stop_reading(error cause) {
        failure_ = std::move(cause);
        return make_error(errc::CANCELLED, "snapshot: pass 1 stopped: " + failure_->message);
    }

    byte_sink& next_;
    const std::function<bool()>& stop_;
    const std::function<result<void>()>& heartbeat_;
    std::optional<error> failure_;
};

std::string make_temp_dir(const std::string& load_id) {
    std::random_device device;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("tarius-snapshot-" + load_id + "-" + std::to_string(device() & 0xffffff));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return dir.string();
}

}  // namespace

std::string key_json_of(std::string_view item_json, const mapping::key_schema& keys) {
    // Called for every row of pass 1: one parser per thread, its buffers allocated once.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object item;
    if (parser.parse(item_json.data(), item_json.size(), true).get_object().get(item) != simdjson::SUCCESS) return {};
    std::string out = "{";
    for (const mapping::key_attribute* k : {&keys.partition, keys.sort ? &*keys.sort : nullptr}) {
        if (k == nullptr) continue;
        simdjson::dom::element value;
        if (item[k->name].get(value) != simdjson::SUCCESS) return {};
        if (out.size() > 1) out += ',';
        json::append_string(out, k->name);
        out += ':';
        out += simdjson::minify(value);
    }
    out += '}';
    return out;
}

session::session(const load_context& context, std::string temp_dir)
    : context_(context), temp_dir_(std::move(temp_dir)), digest_name_(context.load_id + ".digest") {}

session::~session() {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
}

result<std::unique_ptr<session>> session::prepare(const load_context& context) {
    std::unique_ptr<session> out(new session(context, make_temp_dir(context.load_id)));
    TARIUS_TRY(out->run_prepare());
    return out;
}

result<void> session::run_prepare() {
    const snapshot_options& options = *context_.config.snapshot;
    digest_store& store = context_.store;
    TARIUS_ASSIGN_OR_RETURN(std::optional<std::string> text, store.read(STATE));
    feed_state state;
    if (text) {
        state_text_ = *text;
        TARIUS_ASSIGN_OR_RETURN(state, parse_state(*text, store.where()));
    }

    // The bases: the last successful snapshot (when it is of this table and key schema), then the digests of other
    // loads that began writing and never finished. This load's own digest, left by an earlier run of it, is not
    // one: a resumed load decides exactly as its first run did.
    std::vector<std::unique_ptr<digest_reader>> readers;
    const std::string keys_text = key_schema_text(context_.keys);
    bool base_usable = state.base && state.base_table == context_.config.table && state.base_keys == keys_text;
    if (base_usable) {
        TARIUS_ASSIGN_OR_RETURN(auto reader, open_digest(state.base->digest, "base"));
        if (reader) {
            readers.push_back(std::move(reader));
            plan_.base_load_id = state.base->load_id;
        } else {
            base_usable = false;
        }
    }
    plan_.first_load = !base_usable;
    if (state.rewrite_next) plan_.rewrite_reason = "the last snapshot's load had rows DynamoDB refused";
    size_t pending_index = 0;
    for (const auto& p : state.pending) {
        if (p.load_id == context_.load_id) continue;
        TARIUS_ASSIGN_OR_RETURN(auto reader, open_digest(p.digest, "pending-" + std::to_string(pending_index++)));
        if (!reader) {
            // Its keys cannot be known: the items it wrote and this file lacks stay. Said in the log and report.
            plan_.rewrite_reason = "the digest of an unfinished load (" + p.load_id + ") is missing or unreadable";
            continue;
        }
        readers.push_back(std::move(reader));
        plan_.rewrite_reason = "load " + p.load_id + " began writing and did not finish";
    }

    // Pass 1: digest the file.
    record_sorter sorter(temp_dir_, options.sort_memory);
    recorder records(sorter, context_.keys);
    pipeline::engine_options engine;
    engine.source = context_.source;
    engine.table = context_.config.table;
    engine.dialect = context_.config.dialect;
    engine.mapping = context_.config.mapping;
    engine.keys = context_.keys;
    engine.duplicates = pipeline::duplicate_policy::SEAL;  // every row a record: the sort finds the last of a key
    engine.on_rejected_key = [&records](const mapping::encoded_item& key, std::string_view json, uint64_t line) {
        records.on_rejected_key(key, json, line);
    };
    TARIUS_ASSIGN_OR_RETURN(auto eng, pipeline::engine::create(std::move(engine), records, nullptr));
    stoppable_sink input(eng->input(), context_.stop, context_.heartbeat);
    auto pumped = context_.pump(input);
    if (pumped) pumped = input.finish();
    if (!pumped) return input.failure() ? *input.failure() : std::move(pumped).err();
    if (records.failure()) return *records.failure();
    TARIUS_TRY(refuse_unreadable_rows(eng->current_summary()));

    // Compare.
    digest_header header;
    header.feed = context_.config.feed;
    header.table = context_.config.table;
    header.load_id = context_.load_id;
    header.source = context_.source;
    header.key_schema = keys_text;
    const std::string digest_path = temp_dir_ + "/" + digest_name_;
    TARIUS_ASSIGN_OR_RETURN(digest_writer next, digest_writer::create(digest_path, header));
    std::vector<digest_reader*> bases;
    for (auto& r : readers) bases.push_back(r.get());
    plan_.deletes_path = temp_dir_ + "/deletes.jsonl";
    diff_options how;
    how.trust_hashes = !plan_.first_load && plan_.rewrite_reason.empty();
    TARIUS_ASSIGN_OR_RETURN(plan_.counts, diff(sorter, bases, next, plan_.to_write, plan_.deletes_path, how));
    TARIUS_TRY(next.finish());

    // The guard: a file that would delete too much of the feed is refused before anything is written or deleted.
    // Against the largest digest it compares with (the base, or a pending one when no base exists).
    uint64_t largest = plan_.counts.base_rows;
    for (const auto& r : readers) largest = std::max<uint64_t>(largest, r->header().rows);
    const double base_rows = static_cast<double>(std::max<uint64_t>(largest, 1));
    const double fraction = static_cast<double>(plan_.counts.to_delete) / base_rows;
    if (plan_.counts.to_delete > 0 && fraction > options.max_delete_fraction) {
        char share[64];
        std::snprintf(share, sizeof share, "%.1f %% (limit %.1f %%)", 100 * fraction,
                      100 * options.max_delete_fraction);
        return make_error(errc::LIMIT, "snapshot: " + std::to_string(plan_.counts.to_delete) + " of the feed's " +
                                           std::to_string(largest) + " items are absent from this file, " + share +
                                           ": a truncated file? Nothing was written or deleted. Raise feeds." +
                                           context_.config.feed + ".snapshot.max_delete_fraction to accept it.");
    }

    // The digest goes up and is recorded as pending before the first write: should this load not finish, the next
    // one knows which keys it may have touched. The lock must still be this load's when the state is written.
    TARIUS_TRY(store.upload(digest_name_, digest_path));
    if (context_.heartbeat) TARIUS_TRY(context_.heartbeat());
    plan_.digest_uri = store.where() + digest_name_;
    const bool listed = std::any_of(state.pending.begin(), state.pending.end(),
                                    [&](const auto& p) { return p.load_id == context_.load_id; });
    if (context_.resumed && !listed) {
        // This load began writing, then another snapshot of the feed ran to its end after the lock lapsed: going on
        // would mix this older file into the table the newer one left.
        return make_error(errc::CSV_FILE, "snapshot: load " + context_.load_id +
                                              " was superseded by a later snapshot of feed " + context_.config.feed +
                                              " while it was interrupted; load this file again to make it current");
    }
    if (!listed) {
        state.pending.push_back({digest_name_, context_.load_id});
        TARIUS_TRY(store.write(STATE, state_text(state)));
        state_text_ = state_text(state);
    }
    return ok();
}

// A base or pending digest: none when it does not exist or is not a readable digest (said in the log); any other
// failure (throttling, a network error, access refused) fails the load, to be retried: taken for "no base", it
// would forget the keys to delete.
result<std::unique_ptr<digest_reader>> session::open_digest(const std::string& name, const std::string& local) {
    const std::string path = temp_dir_ + "/" + local + ".digest";
    auto got = context_.store.download(name, path);
    if (!got) {
        if (got.err().code != errc::NOT_FOUND) return std::move(got).err();
        log_entry("warn", "snapshot digest missing").with("digest", context_.store.where() + name);
        return std::unique_ptr<digest_reader>{};
    }
    auto reader = digest_reader::open(path);
    if (!reader) {
        if (reader.err().code == errc::IO) return std::move(reader).err();
        log_entry("warn", "snapshot digest unreadable").with("error", reader.err().message);
        return std::unique_ptr<digest_reader>{};
    }
    return std::make_unique<digest_reader>(std::move(reader).value());
}

// Rows the CSV reader could not read (bad UTF-8, a wrong field count, an open quote) name no key: an item of the
// feed may be theirs, and deleting what the file lacks could delete it. The file is refused before anything is
// written, like a truncated one.
result<void> session::refuse_unreadable_rows(const pipeline::summary& pass1) const {
    uint64_t unreadable = 0;
    for (const reject_reason reason :
         {reject_reason::FIELD_COUNT, reject_reason::FIELD_TOO_LARGE, reject_reason::ROW_TOO_LARGE,
          reject_reason::UNTERMINATED_QUOTE, reject_reason::INVALID_UTF8}) {
        unreadable += pass1.rejected_by_reason[static_cast<size_t>(reason)];
    }
    if (unreadable == 0) return ok();
    std::string first;
    for (const row_problem& p : pass1.first_errors) {
        if (p.reason == reject_reason::REFUSED_BY_DYNAMODB) continue;
        first = " (line " + std::to_string(p.line) + ", byte " + std::to_string(p.byte_offset) + ": " +
                reject_reason_name(p.reason) + ": " + p.message + ")";
        break;
    }
    return make_error(errc::CSV_FILE, "snapshot: " + std::to_string(unreadable) + " rows of this file cannot be read" +
                                          first +
                                          "; their keys are unknown, so the items the file lacks cannot be told "
                                          "from theirs. Nothing was written or deleted: fix the rows and load the "
                                          "file again.");
}

result<void> session::commit(bool dirty) {
    feed_state state;
    state.base = feed_state::digest_ref{digest_name_, context_.load_id};
    state.base_rows = plan_.counts.keys;
    state.base_table = context_.config.table;
    state.base_keys = key_schema_text(context_.keys);
    state.rewrite_next = dirty;
    TARIUS_TRY(context_.store.write(STATE, state_text(state)));
    forget_replaced_digests();
    return ok();
}

// The digests the new state no longer names (the earlier base, and those of loads that never finished, which the
// lock keeps from ever finishing now) are deleted: only a state's digests are read again. Best effort: one left
// behind costs storage, not correctness.
void session::forget_replaced_digests() {
    if (state_text_.empty()) return;
    auto earlier = parse_state(state_text_, context_.store.where());
    if (!earlier) return;
    std::vector<std::string> names;
    if (earlier->base) names.push_back(earlier->base->digest);
    for (const auto& p : earlier->pending) names.push_back(p.digest);
    for (const std::string& name : names) {
        // Only a digest's own name: a state naming anything else is not followed out of the feed's place.
        const bool plain = !name.empty() && name.front() != '.' && name.find('/') == std::string::npos;
        if (name == digest_name_ || !plain) continue;
        auto removed = context_.store.remove(name);
        if (!removed) {
            log_entry("warn", "snapshot digest not deleted")
                .with("digest", context_.store.where() + name)
                .with("error", removed.err().message);
        }
    }
}

result<void> commit_if_succeeded(session& s, const load_outcome& out) {
    if (out.status != load_status::SUCCEEDED && out.status != load_status::SUCCEEDED_WITH_REJECTS) return ok();
    // Rows DynamoDB refused are in the digest as if written: the next load must not trust it.
    const bool dirty = out.counts.rejected_by_reason[static_cast<size_t>(reject_reason::REFUSED_BY_DYNAMODB)] > 0;
    return s.commit(dirty);
}

std::string session::report_json() const {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("first_load").value(plan_.first_load);
    w.key("base_load_id").value(plan_.base_load_id);
    w.key("base_items").value(plan_.counts.base_rows);
    w.key("rows_to_write").value(plan_.counts.to_write);
    w.key("items_to_delete").value(plan_.counts.to_delete);
    w.key("rows_kept").value(plan_.counts.kept);
    if (!plan_.rewrite_reason.empty()) w.key("every_row_written_because").value(plan_.rewrite_reason);
    w.key("digest").value(plan_.digest_uri);
    w.end_object();
    return out;
}

}  // namespace tarius::loader::snapshot
