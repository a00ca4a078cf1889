#include "tarius/loader/load_job.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "json/writer.hpp"
#include "loader/load_pipeline.hpp"
#include "tarius/loader/log.hpp"
#include "tarius/loader/output_keys.hpp"
#include "tarius/pipeline/rejects.hpp"
#include "tarius/text.hpp"

namespace tarius::loader {
namespace {

using steady = std::chrono::steady_clock;

// The longest metadata value kept (S3 allows 2 KB of user metadata per object).
constexpr size_t MAX_METADATA_VALUE = 1500;

std::string random_id() {
    std::random_device device;
    std::mt19937_64 gen((static_cast<uint64_t>(device()) << 32) ^ device());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
    return buf;
}

std::string temp_path(const std::string& load_id, const char* suffix) {
    return (std::filesystem::temp_directory_path() / ("tarius-" + load_id + suffix)).string();
}

// The size of a regular file; 0 for stdin, pipes and anything unreadable (progress then shows no percentage).
uint64_t file_size(const std::string& path) {
    if (path == "-") return 0;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return 0;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? 0 : static_cast<uint64_t>(size);
}

bool is_terminal(load_status status) {
    return status == load_status::SUCCEEDED || status == load_status::SUCCEEDED_WITH_REJECTS ||
           status == load_status::FAILED;
}

void apply(const status_decision& decision, load_outcome& out) {
    out.status = decision.status;
    out.failure = decision.failure;
    out.message = decision.message;
}

}  // namespace

// The state of one object load across its four steps.
struct load_runner::object_load {
    const object_ref& obj;
    const std::string& request_id;
    load_outcome out;
    std::optional<load_record> record;  // the ledger's record, once claimed
    bool lease_lost = false;            // another owner took the load over: its record is not ours to touch
    std::string csv_path;               // the rejects, while the load runs
    std::string reasons_path;
    std::unique_ptr<snapshot::digest_store> digests;  // a snapshot feed's digests and state
    std::unique_ptr<snapshot::session> snapshot;      // a snapshot feed's load, from pass 1 to its commit
    bool feed_locked = false;                         // this load holds its snapshot feed's lock
    bool recorded = false;                            // the ledger recorded the end (or there is no ledger)
};

load_runner::load_runner(std::shared_ptr<aws::s3_client> s3, std::shared_ptr<aws::dynamodb_client> ddb,
                         std::function<std::shared_ptr<aws::dynamodb_client>()> writer_client_factory,
                         std::shared_ptr<aws::sns_client> sns, loader_config config)
    : s3_(std::move(s3)),
      ddb_(std::move(ddb)),
      writer_client_factory_(std::move(writer_client_factory)),
      sns_(std::move(sns)),
      config_(std::move(config)) {
    if (config_.worker_id.empty()) {
        char host[256] = "host";
        ::gethostname(host, sizeof host - 1);
        config_.worker_id = std::string(host) + ":" + std::to_string(::getpid());
    }
    if (!config_.ledger_table.empty() && ddb_) {
        ledger_ = std::make_unique<ledger>(*ddb_, config_.ledger_table, config_.worker_id, config_.lease);
        ledger_->set_feed(config_.feed);
    }
}

load_runner::~load_runner() = default;

result<mapping::key_schema> load_runner::key_schema() {
    std::lock_guard<std::mutex> lock(schema_mutex_);
    if (schema_) return *schema_;
    if (config_.mapping.keys) {
        schema_ = config_.mapping.keys;
        return *schema_;
    }
    auto table = ddb_->describe_table(config_.table);
    if (!table) {
        error failure = std::move(table).err();
        failure.message = "table " + config_.table + ": " + failure.message;
        return failure;
    }
    schema_ = table->keys;
    return *schema_;
}

load_outcome load_runner::load_object(const object_ref& obj, const std::string& request_id, const stop_predicate& stop,
                                      const load_options& options) {
    object_load load{obj, request_id, {}, {}, false, {}, {}, {}, {}, false, false};
    load.out.feed = config_.feed;
    load.out.table = config_.table;
    load.out.source = obj.uri();
    load.out.version = obj.version_id.empty() ? obj.etag : obj.version_id;
    if (!claim(load, stop)) return load.out;
    run(load, stop, options);
    publish(load, stop);
    finish(load);
    if (load.feed_locked || load.snapshot) end_snapshot(load);
    std::error_code ignored;
    if (!load.csv_path.empty()) std::filesystem::remove(load.csv_path, ignored);
    if (!load.reasons_path.empty()) std::filesystem::remove(load.reasons_path, ignored);
    return load.out;
}

// Step 1: the ledger decides whether this event loads the object, and from which checkpoint. False when the
// load ends here (skipped, stopped while waiting, or the ledger failed).
bool load_runner::claim(object_load& load, const stop_predicate& stop) {
    load_outcome& out = load.out;
    if (!ledger_) {
        out.load_id = random_id();
        return true;
    }
    auto claimed = ledger_->claim(load.obj, load.request_id);
    if (claimed && claimed->kind == claim_kind::IN_PROGRESS) {
        // A live owner renews its lease every heartbeat; a crashed one lets it lapse. Skipping now would lose a
        // crashed owner's load for good (this event may be its last delivery), so ask again every second until
        // the load ends (done), the lease is renewed (a live owner: skip) or it lapses (take over).
        const int64_t seen_lease = claimed->record.lease_expires_at;
        const auto give_up = steady::now() + config_.lease + std::chrono::seconds(2);
        while (claimed && claimed->kind == claim_kind::IN_PROGRESS && claimed->record.lease_expires_at == seen_lease &&
               steady::now() < give_up) {
            if (stop && stop()) {
                out.status = load_status::STOPPED;
                out.failure = aws::error_class::TRANSIENT;
                out.message = "stopped while waiting on the lease of owner " + claimed->record.owner;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
            claimed = ledger_->claim(load.obj, load.request_id);
        }
    }
    if (!claimed) {
        // The ledger is the deployment's, not the object's: a ledger that refuses us is a configuration error.
        const aws::error_class what = aws::classify(claimed.err());
        out.status = what == aws::error_class::THROTTLED || what == aws::error_class::TRANSIENT ? load_status::RETRY
                                                                                                : load_status::FAILED;
        out.failure = out.status == load_status::RETRY ? what : aws::error_class::FATAL;
        out.message = "ledger " + config_.ledger_table + ": " + claimed.err().message;
        return false;
    }
    out.claim = claimed->kind;
    out.load_id = claimed->record.load_id;
    if (claimed->kind != claim_kind::CLAIMED && claimed->kind != claim_kind::RESUMED) {
        out.status = load_status::SKIPPED;
        out.message = std::string("skipped: ") + claim_kind_name(claimed->kind) + " (" +
                      (claimed->kind == claim_kind::ALREADY_DONE  ? "status " + claimed->record.status
                       : claimed->kind == claim_kind::IN_PROGRESS ? "owner " + claimed->record.owner
                                                                  : "a newer version was already seen") +
                      ")";
        return false;
    }
    load.record = claimed->record;
    return true;
}

// Step 2: the pipeline reads the object and writes its items; the status follows from how it ended.
void load_runner::run(object_load& load, const stop_predicate& stop, const load_options& options) {
    load_outcome& out = load.out;
    const auto started = steady::now();
    // A run that ends before writing keeps the earlier runs' checkpoint (the ledger saves it on release).
    if (load.record) out.resume = load.record->resume;
    auto keys = key_schema();
    if (!keys) {
        apply(decide_status(keys.err(), out.counts), out);
        return;
    }
    if (config_.max_object_bytes && load.obj.size > config_.max_object_bytes) {
        out.status = load_status::FAILED;
        out.message = "object is " + std::to_string(load.obj.size) + " bytes, over the limit of " +
                      std::to_string(config_.max_object_bytes) + " (TARIUS_MAX_OBJECT_BYTES)";
        return;
    }
    load.csv_path = temp_path(out.load_id, ".rejects.csv");
    load.reasons_path = temp_path(out.load_id, ".reasons.jsonl");
    pipeline::file_sink csv_file(load.csv_path), reasons_file(load.reasons_path);
    pipeline::rejects_writer rejects(csv_file, reasons_file);

    detail::pipeline_request request;
    request.source = out.source;
    request.load_id = out.load_id;
    request.keys = *keys;
    request.resume = load.record ? load.record->resume : checkpoint{};
    request.rejects = &rejects;
    request.pump = [&](byte_sink& sink) -> result<void> {
        aws::s3_get_options get;
        get.version_id = load.obj.version_id;
        if (load.obj.version_id.empty()) get.if_match = load.obj.etag;
        auto got = s3_->get_object(load.obj.bucket, load.obj.key, get, sink);
        if (!got) return std::move(got).err();
        return ok();
    };
    if (ledger_ && load.record) {
        request.heartbeat = [&](const checkpoint& at) { return ledger_->heartbeat(*load.record, at); };
        request.max_refusals = config_.max_refusals_checkpointed;
    }
    request.stop = stop;
    request.options = options;
    request.total_bytes = load.obj.size;
    if (config_.snapshot && !start_snapshot(load, *keys, request, stop)) return;
    auto writer_client = writer_client_factory_ ? writer_client_factory_() : ddb_;
    detail::pipeline_result ran = detail::run_pipeline(config_, *writer_client, request);
    out.counts = ran.counts;
    out.first_errors = std::move(ran.first_errors);
    out.resume = std::move(ran.resume);
    out.counts.seconds = std::chrono::duration<double>(steady::now() - started).count();
    load.lease_lost = ran.failure && ran.failure->code == errc::CONFLICT && ran.failure->service &&
                      ran.failure->service->service == "dynamodb";
    apply(decide_status(ran.failure, out.counts), out);
    if (load.snapshot) out.snapshot_json = load.snapshot->report_json();
    // A load that ended just as the deadline came: publishing could outlive the invocation, so the next one
    // does it (its run finds every batch below the checkpoint and writes nothing).
    if (is_terminal(out.status) && out.failure != aws::error_class::FATAL && stop && stop() && ledger_) {
        out.status = load_status::STOPPED;
        out.message = "stopped before publishing; the continuation publishes the result";
    }
}

// Step 2a, snapshot feeds: the feed's lock (with a ledger), then pass 1 — the file digested and compared with the
// feed's last snapshot — before anything is written. False when the load ends here.
bool load_runner::start_snapshot(object_load& load, const mapping::key_schema& keys, detail::pipeline_request& request,
                                 const stop_predicate& stop) {
    load_outcome& out = load.out;
    if (ledger_) {
        auto locked = lock_feed(out.load_id);
        if (!locked) {
            apply(decide_status(locked.err(), out.counts), out);
            return false;
        }
        load.feed_locked = true;
        // The lock lives as long as the load's lease: the heartbeat renews both.
        request.heartbeat = [this, &out, beat = request.heartbeat](const checkpoint& at) -> result<void> {
            TARIUS_TRY(lock_feed(out.load_id));
            return beat ? beat(at) : ok();
        };
    }
    load.digests = snapshot::s3_digest_store(*s3_, load.obj.bucket,
                                             config_.snapshot->digests_prefix + config_.feed + "/", config_.kms_key_id);
    snapshot::load_context context{
        config_, keys, out.load_id, out.source, *load.digests, request.pump, stop, request.resume.offset > 0, {}};
    // Pass 1 of a large file outlasts a lease: it renews the lease and the lock as the writes would.
    context.heartbeat = [this, &request, last = steady::now()]() mutable -> result<void> {
        if (!request.heartbeat || steady::now() - last < config_.heartbeat_every) return ok();
        last = steady::now();
        return request.heartbeat(request.resume);
    };
    auto prepared = snapshot::session::prepare(context);
    if (!prepared) {
        apply(decide_status(prepared.err(), out.counts), out);
        return false;
    }
    load.snapshot = std::move(prepared).value();
    request.snapshot = &load.snapshot->decided();
    return true;
}

// The feed's lock for `load_id`. Held by another load, or lost, it is a passing condition: the event is retried.
result<void> load_runner::lock_feed(const std::string& load_id) {
    auto locked = ledger_->lock_feed(config_.feed, load_id);
    if (locked || locked.err().code != errc::CONFLICT) return locked;
    return make_error(errc::SERVICE, locked.err().message, true);
}

// Step 5, snapshot feeds: once the ledger recorded the end, a load that succeeded becomes the feed's base; the
// feed's lock is released when the load will not continue. (The ledger first: a crash between the two leaves this
// load's digest pending, and the next load writes every row — costly, never wrong.)
void load_runner::end_snapshot(object_load& load) {
    load_outcome& out = load.out;
    // Only once the ledger says the load ended: a takeover must not find a committed load still running.
    if (load.snapshot && load.recorded) {
        if (auto committed = snapshot::commit_if_succeeded(*load.snapshot, out); !committed) {
            log_entry("error", "snapshot digest not recorded; the next load of the feed writes every row")
                .with("source", out.source)
                .with("error", committed.err().message);
        }
    }
    const bool continues = out.status == load_status::RETRY || out.status == load_status::STOPPED;
    if (load.feed_locked && !continues && !load.lease_lost) {
        if (auto unlocked = ledger_->unlock_feed(config_.feed, out.load_id); !unlocked) {
            log_entry("warn", "snapshot lock not released (it lapses with its lease)")
                .with("error", unlocked.err().message);
        }
    }
}

// Step 3: the rejects, the report and the notification of a load that ended for good.
void load_runner::publish(object_load& load, const stop_predicate& stop) {
    load_outcome& out = load.out;
    if (!is_terminal(out.status) || out.failure == aws::error_class::FATAL) return;
    const output_keys keys =
        make_output_keys(config_.rejects_prefix, config_.reports_prefix, load.obj.key, out.load_id);
    aws::s3_put_options put;
    put.sse_kms_key_id = config_.kms_key_id;
    std::string source_meta = metadata_value(out.source);
    if (source_meta.size() > MAX_METADATA_VALUE) source_meta.resize(MAX_METADATA_VALUE);  // the report has it all
    put.metadata = {{"tarius-source", source_meta}, {"tarius-load-id", out.load_id}};

    if (out.counts.rejected && !load.csv_path.empty()) {
        // Streamed from the temporary files in parts: the rejects of a huge file never sit in memory.
        put.content_type = "text/csv";
        const std::function<bool()> stopping = [&stop] { return stop && stop(); };
        auto put_csv = aws::upload_file(*s3_, load.obj.bucket, keys.rejects_csv, load.csv_path, put,
                                        aws::S3_MIN_PART_SIZE, stopping);
        put.content_type = "application/x-ndjson";
        auto put_reasons = put_csv ? aws::upload_file(*s3_, load.obj.bucket, keys.rejects_reasons, load.reasons_path,
                                                      put, aws::S3_MIN_PART_SIZE, stopping)
                                   : result<aws::s3_put_result>(put_csv.err());
        if (put_csv && put_reasons) {
            out.rejects_csv_uri = "s3://" + load.obj.bucket + "/" + keys.rejects_csv;
            out.rejects_reasons_uri = "s3://" + load.obj.bucket + "/" + keys.rejects_reasons;
        } else {
            const error& failed = put_csv ? put_reasons.err() : put_csv.err();
            if (failed.code == errc::CANCELLED && ledger_) {
                // The deadline came while a large rejects file went up: the continuation replays the file (it
                // writes nothing below the checkpoint), finds the same rejects and publishes them.
                out.status = load_status::STOPPED;
                out.message = "stopped while writing the rejects; the continuation publishes the result";
                return;
            }
            const aws::error_class what = aws::classify(failed);
            if (what == aws::error_class::THROTTLED || what == aws::error_class::TRANSIENT) {
                // The rows are in the table; a retry replays the file, writes nothing and uploads the rejects.
                out.status = load_status::RETRY;
                out.failure = what;
                out.message = "writing the rejects: " + failed.message;
                return;
            }
            out.rejects_error = failed.message;
            log_entry("error", "rejects not written").with("source", out.source).with("error", failed.message);
        }
    }

    out.report_json = report_json(out, config_.table);
    put.content_type = "application/json";
    auto reported = s3_->put_object(load.obj.bucket, keys.report, out.report_json, put);
    if (reported) {
        out.report_uri = "s3://" + load.obj.bucket + "/" + keys.report;
    } else {
        ++out.counts.reports_not_written;
        log_entry("error", "report not written").with("source", out.source).with("error", reported.err().message);
        out.report_json = report_json(out, config_.table);
    }

    if (!sns_ || config_.topic_arn.empty()) return;
    aws::sns_message msg;
    msg.topic_arn = config_.topic_arn;
    const std::string file_name = load.obj.key.substr(load.obj.key.rfind('/') + 1);
    msg.subject =
        std::string("Tarius: ") + load_status_name(out.status) + " " + std::string(utf8_prefix(file_name, 60));
    const std::string text = notification_text(out, config_.table);
    std::string structured;
    json::writer w(structured);
    w.begin_object().key("default").value(text).key("email").value(text).key("email-json").value(out.report_json);
    for (const char* protocol : {"sqs", "lambda", "http", "https", "firehose"}) w.key(protocol).value(out.report_json);
    w.end_object();
    msg.message = structured;
    msg.json_structure = true;
    msg.string_attributes = {{"status", load_status_name(out.status)},
                             {"table", config_.table},
                             {"bucket", load.obj.bucket},
                             {"feed", config_.feed}};
    auto published = sns_->publish(msg);
    if (!published) {
        ++out.counts.notifications_not_sent;
        log_entry("error", "notification not sent").with("source", out.source).with("error", published.err().message);
        out.report_json = report_json(out, config_.table);
    }
}

// Step 4: the ledger records the end of the load, or keeps its checkpoint for the next attempt.
void load_runner::finish(object_load& load) {
    load_outcome& out = load.out;
    if (out.report_json.empty()) out.report_json = report_json(out, config_.table);
    load.recorded = !ledger_;
    if (!ledger_ || !load.record || load.lease_lost) return;
    // A deployment error is not the object's: the record stays open so the event, retried after the fix, loads it.
    const bool keep_open = out.status == load_status::RETRY || out.status == load_status::STOPPED ||
                           out.failure == aws::error_class::FATAL;
    if (keep_open) {
        auto released = ledger_->release(*load.record, out.resume, out.message);
        if (!released) log_entry("warn", "ledger release failed").with("error", released.err().message);
        return;
    }
    auto finished = ledger_->finish(*load.record, load_status_name(out.status), out.report_json, out.message);
    load.recorded = static_cast<bool>(finished);
    if (!finished) {
        // The lease lapses and a later delivery takes over from the checkpoint, which covers the whole file:
        // it writes nothing and records the end again.
        log_entry("error", "ledger finish failed").with("source", out.source).with("error", finished.err().message);
    }
}

load_outcome load_runner::load_file(const std::string& path, const std::string& rejects_path,
                                    const stop_predicate& stop, const load_options& options) {
    load_outcome out;
    out.feed = config_.feed;
    out.table = config_.table;
    out.source = path;
    out.load_id = random_id();
    const auto started = steady::now();
    auto keys = key_schema();
    if (!keys) {
        apply(decide_status(keys.err(), out.counts), out);
        out.report_json = report_json(out, config_.table);
        return out;
    }
    std::unique_ptr<byte_sink> csv_file, reasons_file;
    std::unique_ptr<pipeline::rejects_writer> rejects;
    if (!rejects_path.empty()) {
        csv_file = std::make_unique<pipeline::file_sink>(rejects_path);
        reasons_file = std::make_unique<pipeline::file_sink>(rejects_path + ".reasons.jsonl");
        rejects = std::make_unique<pipeline::rejects_writer>(*csv_file, *reasons_file);
    }
    detail::pipeline_request request;
    request.source = path;
    request.load_id = out.load_id;
    request.keys = *keys;
    request.rejects = rejects.get();
    request.pump = [&path](byte_sink& sink) -> result<void> {
        // pump_file finishes the sink itself; the pipeline finishes it after the pump, so wrap it.
        struct no_finish final : byte_sink {
            byte_sink& next;
            explicit no_finish(byte_sink& n) : next(n) {}
            result<void> write(std::string_view chunk) override { return next.write(chunk); }
            result<void> finish() override { return ok(); }
        } once(sink);
        return pump_file(path, once);
    };
    request.stop = stop;
    request.options = options;
    request.total_bytes = file_size(path);
    std::unique_ptr<snapshot::digest_store> digests;
    std::unique_ptr<snapshot::session> snapshot_load;
    if (config_.snapshot) {
        digests = snapshot::local_digest_store(config_.snapshot_directory + "/" + config_.feed);
        auto prepared = snapshot::session::prepare(
            {config_, *keys, out.load_id, out.source, *digests, request.pump, stop, false, {}});
        if (!prepared) {
            apply(decide_status(prepared.err(), out.counts), out);
            out.report_json = report_json(out, config_.table);
            return out;
        }
        snapshot_load = std::move(prepared).value();
        request.snapshot = &snapshot_load->decided();
    }
    auto writer_client = writer_client_factory_ ? writer_client_factory_() : ddb_;
    detail::pipeline_result ran = detail::run_pipeline(config_, *writer_client, request);
    out.counts = ran.counts;
    out.first_errors = std::move(ran.first_errors);
    out.resume = std::move(ran.resume);
    out.counts.seconds = std::chrono::duration<double>(steady::now() - started).count();
    apply(decide_status(ran.failure, out.counts), out);
    if (snapshot_load) {
        out.snapshot_json = snapshot_load->report_json();
        if (auto committed = snapshot::commit_if_succeeded(*snapshot_load, out); !committed) {
            out.status = load_status::FAILED;
            out.message =
                "snapshot: the rows are written; recording the feed's digest failed (the next load of the "
                "feed writes every row): " +
                committed.err().message;
        }
    }
    // Without a ledger nothing keeps the checkpoint: do not claim it was saved.
    if (out.status == load_status::STOPPED) out.message = "stopped on request";
    if (!rejects_path.empty() && out.counts.rejected) {
        out.rejects_csv_uri = rejects_path;
        out.rejects_reasons_uri = rejects_path + ".reasons.jsonl";
    }
    out.report_json = report_json(out, config_.table);
    return out;
}

}  // namespace tarius::loader
