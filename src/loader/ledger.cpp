#include "tarius/loader/ledger.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <random>

#include "json/writer.hpp"
#include "tarius/text.hpp"

namespace tarius::loader {
namespace {

constexpr size_t SEQUENCER_WIDTH = 64;

// Right-padded, upper-cased: DynamoDB's string comparison then orders sequencers as the S3 docs say.
std::string padded_sequencer(std::string_view sequencer) {
    std::string out(sequencer.substr(0, SEQUENCER_WIDTH));
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.resize(SEQUENCER_WIDTH, '0');
    return out;
}

std::string new_load_id() {
    std::random_device device;
    std::mt19937_64 gen((static_cast<uint64_t>(device()) << 32) ^ device() ^
                        static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
    static constexpr char HEX[] = "0123456789abcdef";
    std::string id;
    for (int part = 0; part < 2; ++part) {
        uint64_t bits = gen();
        for (int digit = 0; digit < 16; ++digit, bits >>= 4) id.push_back(HEX[bits & 15]);
    }
    return id;
}

// Small builder of DynamoDB JSON request bodies.
class request {
public:
    explicit request(const std::string& table) {
        w_.begin_object();
        w_.key("TableName").value(table);
    }
    request& key(const std::string& pk) {
        w_.key("Key").begin_object().key("pk").begin_object().key("S").value(pk).end_object().end_object();
        return *this;
    }
    json::writer& w() { return w_; }
    std::string done() {
        w_.end_object();
        return std::move(out_);
    }

private:
    std::string out_;
    json::writer w_{out_};
};

void s_value(json::writer& w, std::string_view name, std::string_view value) {
    w.key(name).begin_object().key("S").value(value).end_object();
}
void n_value(json::writer& w, std::string_view name, int64_t value) {
    w.key(name).begin_object().key("N").value(std::to_string(value)).end_object();
}
void n_value(json::writer& w, std::string_view name, uint64_t value) {
    w.key(name).begin_object().key("N").value(std::to_string(value)).end_object();
}

std::string s_attr(simdjson::dom::element item, std::string_view name) {
    std::string_view value;
    if (item[name]["S"].get(value) != simdjson::SUCCESS) return {};
    return std::string(value);
}
double d_attr(simdjson::dom::element item, std::string_view name) {
    std::string_view value;
    if (item[name]["N"].get(value) != simdjson::SUCCESS) return 0;
    return std::strtod(std::string(value).c_str(), nullptr);
}
int64_t n_attr(simdjson::dom::element item, std::string_view name) {
    std::string_view value;
    if (item[name]["N"].get(value) != simdjson::SUCCESS) return 0;
    return std::strtoll(std::string(value).c_str(), nullptr, 10);
}

// The longest reason kept per refused row: a checkpoint with the most refusals a load allows (1,000 by default)
// stays well under DynamoDB's 400 KB item limit.
constexpr size_t MAX_REFUSAL_MESSAGE = 200;

// Rows DynamoDB refused below the checkpoint, as a JSON array of [line, reason] pairs.
std::string refused_json(const checkpoint& at) {
    std::string out;
    json::writer w(out);
    w.begin_array();
    for (const refusal& r : at.refused) {
        w.begin_array().value(r.line).value(utf8_prefix(r.message, MAX_REFUSAL_MESSAGE)).end_array();
    }
    w.end_array();
    return out;
}

std::vector<refusal> parse_refused(const std::string& text) {
    std::vector<refusal> out;
    if (text.empty()) return out;
    simdjson::dom::parser parser;
    simdjson::dom::array pairs;
    if (parser.parse(text).get_array().get(pairs) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element pair : pairs) {
        uint64_t line = 0;
        std::string_view message;
        if (pair.at(0).get_uint64().get(line) != simdjson::SUCCESS ||
            pair.at(1).get_string().get(message) != simdjson::SUCCESS) {
            continue;
        }
        out.push_back(refusal{line, std::string(message)});
    }
    return out;
}

load_record record_from(simdjson::dom::element item) {
    load_record r;
    r.pk = s_attr(item, "pk");
    r.source = s_attr(item, "source");
    r.feed = s_attr(item, "feed");
    r.version = s_attr(item, "object_version");
    r.status = s_attr(item, "load_status");
    r.owner = s_attr(item, "lease_owner");
    r.lease_expires_at = n_attr(item, "lease_expires_at");
    r.load_id = s_attr(item, "load_id");
    r.request_id = s_attr(item, "request_id");
    r.resume.offset = static_cast<uint64_t>(n_attr(item, "checkpoint_offset"));
    r.resume.line = static_cast<uint64_t>(std::max<int64_t>(1, n_attr(item, "checkpoint_line")));
    r.resume.batches_done = static_cast<uint64_t>(n_attr(item, "checkpoint_batches"));
    r.resume.items_written = static_cast<uint64_t>(n_attr(item, "checkpoint_items"));
    r.resume.skipped_existing = static_cast<uint64_t>(n_attr(item, "checkpoint_skipped_existing"));
    r.resume.skipped_stale = static_cast<uint64_t>(n_attr(item, "checkpoint_skipped_stale"));
    r.resume.resent_uncertain = static_cast<uint64_t>(n_attr(item, "checkpoint_resent_uncertain"));
    r.resume.uncertain_through = static_cast<uint64_t>(n_attr(item, "checkpoint_uncertain_through"));
    r.resume.refused = parse_refused(s_attr(item, "checkpoint_refused"));
    r.resume.work.requests = static_cast<uint64_t>(n_attr(item, "work_requests"));
    r.resume.work.requests_throttled = static_cast<uint64_t>(n_attr(item, "work_throttled"));
    r.resume.work.wcu_consumed = d_attr(item, "work_wcu");
    r.resume.work.wcu_estimated = d_attr(item, "work_wcu_estimated");
    r.resume.work.seconds = d_attr(item, "work_seconds");
    r.started_at = n_attr(item, "started_at");
    r.updated_at = n_attr(item, "updated_at");
    r.report_json = s_attr(item, "report");
    r.error = s_attr(item, "error");
    r.attempts = static_cast<uint64_t>(n_attr(item, "attempts"));
    return r;
}

void checkpoint_values(json::writer& w, const checkpoint& at) {
    n_value(w, ":cpo", at.offset);
    n_value(w, ":cpl", at.line);
    n_value(w, ":cpb", at.batches_done);
    n_value(w, ":cpi", at.items_written);
    n_value(w, ":cpe", at.skipped_existing);
    n_value(w, ":cps", at.skipped_stale);
    n_value(w, ":cpu", at.resent_uncertain);
    n_value(w, ":cpt", at.uncertain_through);
    s_value(w, ":cpr", refused_json(at));
    n_value(w, ":cwr", at.work.requests);
    n_value(w, ":cwt", at.work.requests_throttled);
    w.key(":cwu").begin_object().key("N").value(std::to_string(at.work.wcu_consumed)).end_object();
    w.key(":cwe").begin_object().key("N").value(std::to_string(at.work.wcu_estimated)).end_object();
    w.key(":cws").begin_object().key("N").value(std::to_string(at.work.seconds)).end_object();
}

constexpr const char* CHECKPOINT_SET =
    "checkpoint_offset = :cpo, checkpoint_line = :cpl, checkpoint_batches = :cpb, checkpoint_items = :cpi, "
    "checkpoint_skipped_existing = :cpe, checkpoint_skipped_stale = :cps, checkpoint_resent_uncertain = :cpu, "
    "checkpoint_uncertain_through = :cpt, checkpoint_refused = :cpr, work_requests = :cwr, work_throttled = :cwt, "
    "work_wcu = :cwu, work_wcu_estimated = :cwe, work_seconds = :cws";

}  // namespace

const char* claim_kind_name(claim_kind kind) noexcept {
    switch (kind) {
        case claim_kind::CLAIMED: return "claimed";
        case claim_kind::RESUMED: return "resumed";
        case claim_kind::ALREADY_DONE: return "already_done";
        case claim_kind::IN_PROGRESS: return "in_progress";
        case claim_kind::STALE: return "stale";
    }
    return "unknown";
}

ledger::ledger(aws::dynamodb_client& client, std::string table, std::string owner, std::chrono::seconds lease,
               std::chrono::seconds ttl)
    : client_(client), table_(std::move(table)), owner_(std::move(owner)), lease_(lease), ttl_(ttl) {}

int64_t ledger::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string ledger::load_key(const object_ref& obj) {
    return obj.uri() + "#" + (obj.version_id.empty() ? obj.etag : obj.version_id);
}

result<std::optional<load_record>> ledger::get(const std::string& pk) {
    request req(table_);
    req.key(pk).w().key("ConsistentRead").value(true);
    TARIUS_ASSIGN_OR_RETURN(std::string body, client_.call("GetItem", req.done()));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
        return make_error(errc::SERVICE, "ledger GetItem: response is not JSON", true);
    }
    simdjson::dom::element item;
    if (doc["Item"].get(item) != simdjson::SUCCESS) return std::optional<load_record>{};
    return std::optional<load_record>{record_from(item)};
}

result<claim_result> ledger::claim(const object_ref& obj, const std::string& request_id) {
    const int64_t now_s = now();
    // 1. Stale events: a newer sequencer already seen for this key wins (S3's ordering rule).
    if (!obj.sequencer.empty()) {
        const std::string seq = padded_sequencer(obj.sequencer);
        request req(table_);
        req.key(obj.uri());
        auto& w = req.w();
        w.key("UpdateExpression").value("SET #seq = :seq, updated_at = :now");
        w.key("ConditionExpression").value("attribute_not_exists(#seq) OR #seq <= :seq");
        w.key("ExpressionAttributeNames").begin_object().key("#seq").value("sequencer").end_object();
        w.key("ExpressionAttributeValues").begin_object();
        s_value(w, ":seq", seq);
        n_value(w, ":now", now_s);
        w.end_object();
        auto updated = client_.call("UpdateItem", req.done());
        if (!updated) {
            if (updated.err().code != errc::CONFLICT) return std::move(updated).err();
            claim_result stale;
            stale.kind = claim_kind::STALE;
            stale.record.source = obj.uri();
            stale.record.version = obj.version_id.empty() ? obj.etag : obj.version_id;
            return stale;
        }
    }

    // 2. The load record: new, finished, alive, or abandoned (lease expired) and taken over.
    const std::string pk = load_key(obj);
    for (int round = 0; round < 2; ++round) {
        TARIUS_ASSIGN_OR_RETURN(auto existing, get(pk));
        claim_result out;
        if (!existing) {
            load_record r;
            r.pk = pk;
            r.source = obj.uri();
            r.version = obj.version_id.empty() ? obj.etag : obj.version_id;
            r.status = "in_progress";
            r.owner = owner_;
            r.lease_expires_at = now_s + lease_.count();
            r.load_id = new_load_id();
            r.request_id = request_id;
            r.started_at = now_s;
            r.updated_at = now_s;
            r.attempts = 1;
            request req(table_);
            auto& w = req.w();
            w.key("Item").begin_object();
            s_value(w, "pk", r.pk);
            s_value(w, "source", r.source);
            s_value(w, "feed", feed_);
            s_value(w, "object_version", r.version);
            s_value(w, "load_status", r.status);
            s_value(w, "lease_owner", r.owner);
            n_value(w, "lease_expires_at", r.lease_expires_at);
            s_value(w, "load_id", r.load_id);
            if (!request_id.empty()) s_value(w, "request_id", request_id);
            n_value(w, "started_at", r.started_at);
            n_value(w, "updated_at", r.updated_at);
            n_value(w, "attempts", r.attempts);
            n_value(w, "checkpoint_offset", uint64_t{0});
            n_value(w, "checkpoint_line", uint64_t{1});
            n_value(w, "expires_at", now_s + ttl_.count());
            w.end_object();
            w.key("ConditionExpression").value("attribute_not_exists(pk)");
            auto put = client_.call("PutItem", req.done());
            if (!put) {
                if (put.err().code == errc::CONFLICT) continue;  // another worker claimed it just now
                return std::move(put).err();
            }
            out.kind = claim_kind::CLAIMED;
            out.record = std::move(r);
            return out;
        }
        load_record r = std::move(*existing);
        if (r.status != "in_progress") {
            out.kind = claim_kind::ALREADY_DONE;
            out.record = std::move(r);
            return out;
        }
        if (r.lease_expires_at > now_s) {
            out.kind = claim_kind::IN_PROGRESS;
            out.record = std::move(r);
            return out;
        }
        // Take over an abandoned load, conditional on nobody else having done so since we read it.
        request req(table_);
        req.key(pk);
        auto& w = req.w();
        w.key("UpdateExpression")
            .value(
                "SET lease_owner = :me, lease_expires_at = :lease, request_id = :rid, updated_at = :now "
                "ADD attempts :one");
        w.key("ConditionExpression").value("lease_owner = :old AND lease_expires_at = :oldlease");
        w.key("ExpressionAttributeValues").begin_object();
        s_value(w, ":me", owner_);
        n_value(w, ":lease", now_s + lease_.count());
        s_value(w, ":rid", request_id.empty() ? std::string("-") : request_id);
        n_value(w, ":now", now_s);
        n_value(w, ":one", int64_t{1});
        s_value(w, ":old", r.owner);
        n_value(w, ":oldlease", r.lease_expires_at);
        w.end_object();
        auto taken = client_.call("UpdateItem", req.done());
        if (!taken) {
            if (taken.err().code == errc::CONFLICT) continue;
            return std::move(taken).err();
        }
        r.owner = owner_;
        r.lease_expires_at = now_s + lease_.count();
        r.request_id = request_id;
        ++r.attempts;
        out.kind = claim_kind::RESUMED;
        out.record = std::move(r);
        return out;
    }
    TARIUS_ASSIGN_OR_RETURN(auto latest, get(pk));
    claim_result busy;
    busy.kind = claim_kind::IN_PROGRESS;
    if (latest) busy.record = std::move(*latest);
    return busy;
}

result<void> ledger::heartbeat(load_record& record, const checkpoint& at) {
    const int64_t now_s = now();
    request req(table_);
    req.key(record.pk);
    auto& w = req.w();
    w.key("UpdateExpression").value(std::string("SET lease_expires_at = :lease, updated_at = :now, ") + CHECKPOINT_SET);
    w.key("ConditionExpression").value("lease_owner = :me");
    w.key("ExpressionAttributeValues").begin_object();
    n_value(w, ":lease", now_s + lease_.count());
    n_value(w, ":now", now_s);
    s_value(w, ":me", owner_);
    checkpoint_values(w, at);
    w.end_object();
    auto updated = client_.call("UpdateItem", req.done());
    if (!updated) {
        if (updated.err().code == errc::CONFLICT) {
            return make_error(errc::CONFLICT, record.pk + ": another worker took over this load (lease lost)");
        }
        return std::move(updated).err();
    }
    record.lease_expires_at = now_s + lease_.count();
    record.resume = at;
    return ok();
}

result<void> ledger::lock_feed(const std::string& feed, const std::string& load_id) {
    const int64_t now_s = now();
    request req(table_);
    req.key("snapshot#" + feed);
    auto& w = req.w();
    w.key("UpdateExpression")
        .value("SET lock_load = :load, lock_owner = :me, lock_expires_at = :lease, updated_at = :now");
    w.key("ConditionExpression")
        .value("attribute_not_exists(lock_load) OR lock_load = :load OR lock_expires_at < :now");
    w.key("ExpressionAttributeValues").begin_object();
    s_value(w, ":load", load_id);
    s_value(w, ":me", owner_);
    n_value(w, ":lease", now_s + lease_.count());
    n_value(w, ":now", now_s);
    w.end_object();
    auto updated = client_.call("UpdateItem", req.done());
    if (updated) return ok();
    if (updated.err().code != errc::CONFLICT) return std::move(updated).err();
    return make_error(errc::CONFLICT, "snapshot feed " + feed +
                                          ": another load of this feed is running (one snapshot of a feed loads at a "
                                          "time); this one waits for a retry");
}

result<void> ledger::unlock_feed(const std::string& feed, const std::string& load_id) {
    request req(table_);
    req.key("snapshot#" + feed);
    auto& w = req.w();
    w.key("UpdateExpression").value("REMOVE lock_load, lock_owner, lock_expires_at");
    w.key("ConditionExpression").value("lock_load = :load");
    w.key("ExpressionAttributeValues").begin_object();
    s_value(w, ":load", load_id);
    w.end_object();
    auto updated = client_.call("UpdateItem", req.done());
    if (!updated && updated.err().code == errc::CONFLICT) return ok();  // not this load's any more
    if (!updated) return std::move(updated).err();
    return ok();
}

result<void> ledger::finish(load_record& record, const std::string& status, const std::string& report_json,
                            const std::string& error_message) {
    const int64_t now_s = now();
    request req(table_);
    req.key(record.pk);
    auto& w = req.w();
    w.key("UpdateExpression")
        .value(
            "SET load_status = :st, report = :rep, #err = :err, lease_expires_at = :zero, updated_at = :now, "
            "finished_at = :now, expires_at = :ttl");
    w.key("ConditionExpression").value("lease_owner = :me");
    w.key("ExpressionAttributeNames").begin_object().key("#err").value("error").end_object();
    w.key("ExpressionAttributeValues").begin_object();
    s_value(w, ":st", status);
    s_value(w, ":rep", report_json.empty() ? std::string("{}") : report_json);
    s_value(w, ":err", error_message.empty() ? std::string("-") : error_message);
    n_value(w, ":zero", int64_t{0});
    n_value(w, ":now", now_s);
    n_value(w, ":ttl", now_s + ttl_.count());
    s_value(w, ":me", owner_);
    w.end_object();
    auto updated = client_.call("UpdateItem", req.done());
    if (!updated) {
        if (updated.err().code == errc::CONFLICT) {
            return make_error(errc::CONFLICT, record.pk + ": another worker took over this load before it finished");
        }
        return std::move(updated).err();
    }
    record.status = status;
    record.report_json = report_json;
    return ok();
}

result<void> ledger::release(load_record& record, const checkpoint& at, const std::string& error_message) {
    const int64_t now_s = now();
    request req(table_);
    req.key(record.pk);
    auto& w = req.w();
    w.key("UpdateExpression")
        .value(std::string("SET lease_expires_at = :zero, updated_at = :now, #err = :err, ") + CHECKPOINT_SET);
    w.key("ConditionExpression").value("lease_owner = :me");
    w.key("ExpressionAttributeNames").begin_object().key("#err").value("error").end_object();
    w.key("ExpressionAttributeValues").begin_object();
    n_value(w, ":zero", int64_t{0});
    n_value(w, ":now", now_s);
    s_value(w, ":err", error_message.empty() ? std::string("-") : error_message);
    s_value(w, ":me", owner_);
    checkpoint_values(w, at);
    w.end_object();
    auto updated = client_.call("UpdateItem", req.done());
    if (!updated && updated.err().code != errc::CONFLICT) return std::move(updated).err();
    record.lease_expires_at = 0;
    record.resume = at;
    return ok();
}

result<std::vector<load_record>> ledger::recent(size_t limit) {
    std::vector<load_record> records;
    std::string start_key;
    simdjson::dom::parser parser;
    for (int page = 0; page < 100; ++page) {
        std::string body = "{\"TableName\":";
        json::append_string(body, table_);
        body += ",\"FilterExpression\":\"attribute_exists(load_id)\"";
        if (!start_key.empty()) body += ",\"ExclusiveStartKey\":" + start_key;
        body += "}";
        TARIUS_ASSIGN_OR_RETURN(std::string response, client_.call("Scan", std::move(body)));
        simdjson::dom::element doc;
        if (parser.parse(response).get(doc) != simdjson::SUCCESS) {
            return make_error(errc::SERVICE, "ledger Scan: response is not JSON", true);
        }
        simdjson::dom::array items;
        if (doc["Items"].get(items) == simdjson::SUCCESS) {
            for (simdjson::dom::element item : items) records.push_back(record_from(item));
        }
        simdjson::dom::element last;
        if (doc["LastEvaluatedKey"].get(last) != simdjson::SUCCESS) break;
        start_key = simdjson::minify(last);
    }
    std::sort(records.begin(), records.end(),
              [](const load_record& a, const load_record& b) { return a.started_at > b.started_at; });
    if (records.size() > limit) records.resize(limit);
    return records;
}

std::string load_record_json(const load_record& record) {
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("feed").value(record.feed.empty() ? std::string("default") : record.feed);
    w.key("source").value(record.source).key("version").value(record.version);
    w.key("status").value(record.status).key("load_id").value(record.load_id);
    w.key("started_at").value(record.started_at).key("attempts").value(record.attempts);
    w.key("report");
    if (record.report_json.empty()) {
        w.raw("null");
    } else {
        w.raw(record.report_json);
    }
    w.end_object();
    return out;
}

}  // namespace tarius::loader
