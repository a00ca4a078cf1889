#include "tarius/loader/load_job.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "json/writer.hpp"
#include "tarius/pipeline/engine.hpp"
#include "tarius/pipeline/rejects.hpp"

namespace tarius::loader {
namespace {

using steady = std::chrono::steady_clock;

bool is_permanent(const error& e) {
    switch (e.code) {
        case errc::CSV_FILE:
        case errc::DECODE:
        case errc::LIMIT:
        case errc::INVALID_ARGUMENT: return true;
        default: return false;
    }
}

std::string random_id() {
    std::random_device device;
    std::mt19937_64 gen((static_cast<uint64_t>(device()) << 32) ^ device());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
    return buf;
}

// Forwards the object's bytes into the engine in slices (so a stop request and progress are seen often even when
// the producer hands over megabytes at once), refreshing the lease/checkpoint and reporting progress.
class progress_sink final : public byte_sink {
public:
    static constexpr size_t SLICE = 64 * 1024;

    progress_sink(byte_sink& next, std::function<result<void>()> heartbeat, std::chrono::seconds every,
                  const stop_predicate& stop, std::function<void(uint64_t)> report,
                  std::chrono::milliseconds report_every)
        : next_(next),
          heartbeat_(std::move(heartbeat)),
          every_(every),
          stop_(stop),
          report_(std::move(report)),
          report_every_(report_every),
          last_(steady::now()),
          last_report_(steady::now()) {}

    result<void> write(std::string_view chunk) override {
        while (!chunk.empty()) {
            if (stop_ && stop_()) return make_error(errc::CANCELLED, "stopped on request; checkpoint saved");
            const std::string_view slice = chunk.substr(0, SLICE);
            chunk.remove_prefix(slice.size());
            bytes_ += slice.size();
            TARIUS_TRY(next_.write(slice));
            const auto now = steady::now();
            if (heartbeat_ && now - last_ >= every_) {
                last_ = now;
                TARIUS_TRY(heartbeat_());
            }
            if (report_ && now - last_report_ >= report_every_) {
                last_report_ = now;
                report_(bytes_);
            }
        }
        return ok();
    }
    result<void> finish() override { return next_.finish(); }

    /// Bytes forwarded so far.
    [[nodiscard]] uint64_t bytes() const noexcept { return bytes_; }

private:
    byte_sink& next_;
    std::function<result<void>()> heartbeat_;
    std::chrono::seconds every_;
    const stop_predicate& stop_;
    std::function<void(uint64_t)> report_;
    std::chrono::milliseconds report_every_;
    steady::time_point last_;
    steady::time_point last_report_;
    uint64_t bytes_ = 0;
};

// Passes sealed batches to the writer and remembers how far they reach, for progress reports.
class counting_batch_sink final : public pipeline::batch_sink {
public:
    explicit counting_batch_sink(pipeline::batch_sink& next) : next_(next) {}

    result<void> on_batch(pipeline::batch&& b) override {
        items_ += b.items;
        end_offset_ = b.end_offset;
        end_line_ = b.end_line;
        return next_.on_batch(std::move(b));
    }

    uint64_t items() const noexcept { return items_; }
    uint64_t end_offset() const noexcept { return end_offset_; }
    uint64_t end_line() const noexcept { return end_line_; }

private:
    pipeline::batch_sink& next_;
    uint64_t items_ = 0;
    uint64_t end_offset_ = 0;
    uint64_t end_line_ = 1;
};

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

std::string with_thousands(uint64_t value) {
    std::string digits = std::to_string(value);
    for (int pos = static_cast<int>(digits.size()) - 3; pos > 0; pos -= 3) digits.insert(static_cast<size_t>(pos), ",");
    return digits;
}

}  // namespace

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
    }
}

result<mapping::key_schema> load_runner::key_schema() {
    std::lock_guard<std::mutex> lock(schema_mutex_);
    if (schema_) return *schema_;
    if (config_.mapping.keys) {
        schema_ = config_.mapping.keys;
        return *schema_;
    }
    TARIUS_ASSIGN_OR_RETURN(auto table, ddb_->describe_table(config_.table));
    schema_ = table.keys;
    return *schema_;
}

namespace {

// Runs the pipeline over bytes produced by `pump` into a DynamoDB writer; fills `out` and returns the error that
// stopped it, if any. Reports progress through `options` against `total_bytes` (0 = unknown).
std::optional<error> run_pipeline(const loader_config& config, aws::dynamodb_client& writer_client,
                                  const std::string& source, const mapping::key_schema& keys, const checkpoint& resume,
                                  pipeline::rejects_writer* rejects,
                                  const std::function<result<void>(byte_sink&)>& pump,
                                  const std::function<result<void>(const checkpoint&)>& heartbeat,
                                  const stop_predicate& stop, const load_options& load_opts, uint64_t total_bytes,
                                  load_outcome& out) {
    const auto started = steady::now();
    writer_options wopts = config.writer;
    wopts.already_written_through = resume.offset;
    ddb_writer writer(writer_client, wopts);
    counting_batch_sink batches(writer);
    pipeline::engine_options options;
    options.source = source;
    options.table = config.table;
    options.dialect = config.dialect;
    options.mapping = config.mapping;
    options.keys = keys;
    options.max_errors_listed = config.max_errors_listed;
    options.max_rejects = config.max_rejects;
    auto eng = pipeline::engine::create(std::move(options), batches, rejects);
    if (!eng) return eng.err();
    const uint64_t header_lines = config.dialect.has_header ? 1 : 0;
    auto running_report = [&](uint64_t bytes_read) {
        load_progress p;
        p.source = source;
        p.bytes_read = bytes_read;
        p.total_bytes = total_bytes;
        p.decoded_bytes = batches.end_offset();
        const uint64_t lines = batches.end_line() - 1;
        p.rows = lines > header_lines ? lines - header_lines : 0;
        p.items_batched = batches.items();
        p.items_written = writer.stats().items_written;
        p.throttles = writer.stats().throttles;
        p.elapsed_seconds = std::chrono::duration<double>(steady::now() - started).count();
        load_opts.progress(p);
    };
    std::function<void(uint64_t)> report;
    if (load_opts.progress) report = running_report;
    progress_sink progress((*eng)->input(),
                           [&]() -> result<void> { return heartbeat ? heartbeat(writer.current_checkpoint()) : ok(); },
                           config.heartbeat_every, stop, std::move(report), load_opts.progress_every);
    std::optional<error> failure;
    auto pumped = pump(progress);
    if (pumped) pumped = progress.finish();
    if (!pumped) {
        failure = pumped.err();
        writer.stop();
        (void)writer.drain();  // let what is in flight land so the checkpoint is as far as possible
    } else {
        auto drained = writer.drain();
        if (!drained) failure = drained.err();
    }
    out.summary = (*eng)->current_summary();
    out.writer = writer.stats();
    out.resume = writer.current_checkpoint();
    if (load_opts.progress) {
        // A load stopped before the engine saw the failure has no summary yet: keep the running estimates then.
        const uint64_t lines = batches.end_line() - 1;
        load_progress p;
        p.source = source;
        p.bytes_read = progress.bytes();
        p.total_bytes = total_bytes;
        p.decoded_bytes = std::max(out.summary.bytes_in, batches.end_offset());
        p.rows = std::max(out.summary.rows_read, lines > header_lines ? lines - header_lines : 0);
        p.items_batched = std::max(out.summary.items, batches.items());
        p.items_written = out.writer.items_written;
        p.rows_rejected = out.summary.rows_rejected;
        p.throttles = out.writer.throttles;
        p.elapsed_seconds = std::chrono::duration<double>(steady::now() - started).count();
        p.done = true;
        load_opts.progress(p);
    }
    return failure;
}

}  // namespace

load_outcome load_runner::load_object(const object_ref& obj, const std::string& request_id, const stop_predicate& stop,
                                      const load_options& options) {
    load_outcome out;
    out.source = obj.uri();
    const auto started = steady::now();
    const std::string version = obj.version_id.empty() ? obj.etag : obj.version_id;

    std::optional<load_record> record;
    if (ledger_) {
        auto claimed = ledger_->claim(obj, request_id);
        if (claimed && claimed->kind == claim_kind::IN_PROGRESS) {
            // A live owner renews its lease every heartbeat; a crashed one lets it lapse. Skipping now would lose
            // a crashed owner's load for good (this event may be its last delivery), so ask again every second
            // until the load ends (done), the lease is renewed (a live owner: skip) or it lapses (take over).
            const int64_t seen_lease = claimed->record.lease_expires_at;
            const auto give_up = steady::now() + config_.lease + std::chrono::seconds(2);
            while (claimed && claimed->kind == claim_kind::IN_PROGRESS &&
                   claimed->record.lease_expires_at == seen_lease && steady::now() < give_up) {
                if (stop && stop()) {
                    out.status = load_status::STOPPED;
                    out.message = "stopped while waiting on the lease of owner " + claimed->record.owner;
                    return out;
                }
                std::this_thread::sleep_for(std::chrono::seconds(1));
                claimed = ledger_->claim(obj, request_id);
            }
        }
        if (!claimed) {
            out.status = load_status::RETRY;
            out.message = "ledger: " + claimed.err().message;
            return out;
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
            return out;
        }
        record = claimed->record;
    } else {
        out.load_id = random_id();
    }

    auto finish_record = [&](const std::string& report, const std::string& err) {
        if (!ledger_ || !record) return;
        if (out.status == load_status::RETRY || out.status == load_status::STOPPED) {
            (void)ledger_->release(*record, out.resume, err);
        } else {
            (void)ledger_->finish(*record, load_status_name(out.status), report, err);
        }
    };

    std::string error_message;
    std::string rejects_csv_uri, rejects_reasons_uri;
    auto keys = key_schema();
    if (!keys) {
        out.status = is_permanent(keys.err()) ? load_status::FAILED : load_status::RETRY;
        error_message = "table " + config_.table + ": " + keys.err().message;
    } else if (config_.max_object_bytes && obj.size > config_.max_object_bytes) {
        out.status = load_status::FAILED;
        error_message = "object is " + std::to_string(obj.size) + " bytes, over the limit of " +
                        std::to_string(config_.max_object_bytes) + " (TARIUS_MAX_OBJECT_BYTES)";
    } else {
        const std::string csv_path = temp_path(out.load_id, ".rejects.csv");
        const std::string reasons_path = temp_path(out.load_id, ".reasons.jsonl");
        pipeline::file_sink csv_file(csv_path), reasons_file(reasons_path);
        pipeline::rejects_writer rejects(csv_file, reasons_file);
        auto writer_client = writer_client_factory_ ? writer_client_factory_() : ddb_;
        const checkpoint resume = record ? record->resume : checkpoint{};
        auto failure = run_pipeline(
            config_, *writer_client, out.source, *keys, resume, &rejects,
            [&](byte_sink& sink) -> result<void> {
                aws::s3_get_options get;
                get.version_id = obj.version_id;
                if (obj.version_id.empty()) get.if_match = obj.etag;
                auto got = s3_->get_object(obj.bucket, obj.key, get, sink);
                if (!got) return std::move(got).err();
                return ok();
            },
            [&](const checkpoint& at) -> result<void> {
                return ledger_ && record ? ledger_->heartbeat(*record, at) : ok();
            },
            stop, options, obj.size, out);
        if (failure) {
            error_message = failure->message;
            if (failure->code == errc::CANCELLED)
                out.status = load_status::STOPPED;
            else if (failure->code == errc::CONFLICT && !obj.etag.empty()) {
                out.status = load_status::SKIPPED;  // the object changed since the event: a newer event follows
                error_message = "object changed since the event (ETag no longer matches); a newer event will load it";
            } else
                out.status = is_permanent(*failure) ? load_status::FAILED : load_status::RETRY;
        } else {
            out.status = out.summary.rows_rejected ? load_status::SUCCEEDED_WITH_REJECTS : load_status::SUCCEEDED;
        }
        if (out.status == load_status::FAILED || out.status == load_status::SUCCEEDED ||
            out.status == load_status::SUCCEEDED_WITH_REJECTS) {
            // Rejects go next to the landing data, keyed by source key and load id, with the bucket's KMS key.
            if (out.summary.rows_rejected) {
                aws::s3_put_options put;
                put.sse_kms_key_id = config_.kms_key_id;
                const std::string base = config_.rejects_prefix + obj.key + "/" + out.load_id;
                // Streamed from the temporary files in parts: the rejects of a huge file never sit in memory.
                put.content_type = "text/csv";
                auto put_csv = aws::upload_file(*s3_, obj.bucket, base + ".csv", csv_path, put);
                put.content_type = "application/x-ndjson";
                auto put_reasons = put_csv
                                       ? aws::upload_file(*s3_, obj.bucket, base + ".reasons.jsonl", reasons_path, put)
                                       : result<aws::s3_put_result>(put_csv.err());
                if (put_csv && put_reasons) {
                    rejects_csv_uri = "s3://" + obj.bucket + "/" + base + ".csv";
                    rejects_reasons_uri = "s3://" + obj.bucket + "/" + base + ".reasons.jsonl";
                } else {
                    const error& failed = put_csv ? put_reasons.err() : put_csv.err();
                    if (failed.code == errc::IO) {
                        // The local files are gone or unreadable: a retry would not bring them back.
                        std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"rejects not uploaded\",\"error\":\"%s\"}\n",
                                     failed.message.c_str());
                    } else {
                        out.status = load_status::RETRY;
                        error_message = "writing rejects: " + failed.message;
                    }
                }
            }
        }
        std::error_code ignored;
        std::filesystem::remove(csv_path, ignored);
        std::filesystem::remove(reasons_path, ignored);
    }

    out.summary.elapsed_seconds = std::chrono::duration<double>(steady::now() - started).count();
    out.message = error_message;
    out.report_json = report_json(out, config_.table, version, rejects_csv_uri, rejects_reasons_uri, error_message);
    const bool terminal = out.status == load_status::SUCCEEDED || out.status == load_status::SUCCEEDED_WITH_REJECTS ||
                          out.status == load_status::FAILED;
    if (terminal) {
        aws::s3_put_options put;
        put.sse_kms_key_id = config_.kms_key_id;
        put.content_type = "application/json";
        (void)s3_->put_object(obj.bucket, config_.reports_prefix + obj.key + "/" + out.load_id + ".json",
                              out.report_json, put);
        if (sns_ && !config_.topic_arn.empty()) {
            aws::sns_message msg;
            msg.topic_arn = config_.topic_arn;
            const std::string file_name = obj.key.substr(obj.key.rfind('/') + 1);
            msg.subject = std::string("Tarius: ") + load_status_name(out.status) + " " + file_name.substr(0, 60);
            const std::string text = notification_text(out, config_.table, rejects_csv_uri, error_message);
            std::string structured;
            json::writer w(structured);
            w.begin_object()
                .key("default")
                .value(text)
                .key("email")
                .value(text)
                .key("email-json")
                .value(out.report_json);
            for (const char* protocol : {"sqs", "lambda", "http", "https", "firehose"})
                w.key(protocol).value(out.report_json);
            w.end_object();
            msg.message = structured;
            msg.json_structure = true;
            msg.string_attributes = {
                {"status", load_status_name(out.status)}, {"table", config_.table}, {"bucket", obj.bucket}};
            auto published = sns_->publish(msg);
            if (!published)
                std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"SNS publish failed\",\"error\":\"%s\"}\n",
                             published.err().message.c_str());
        }
    }
    finish_record(out.report_json, error_message);
    return out;
}

load_outcome load_runner::load_file(const std::string& path, const std::string& rejects_path,
                                    const stop_predicate& stop, const load_options& options) {
    load_outcome out;
    out.source = path;
    out.load_id = random_id();
    const auto started = steady::now();
    std::string error_message;
    auto keys = key_schema();
    if (!keys) {
        out.status = is_permanent(keys.err()) ? load_status::FAILED : load_status::RETRY;
        error_message = "table " + config_.table + ": " + keys.err().message;
    } else {
        std::unique_ptr<byte_sink> csv_file, reasons_file;
        std::unique_ptr<pipeline::rejects_writer> rejects;
        if (!rejects_path.empty()) {
            csv_file = std::make_unique<pipeline::file_sink>(rejects_path);
            reasons_file = std::make_unique<pipeline::file_sink>(rejects_path + ".reasons.jsonl");
            rejects = std::make_unique<pipeline::rejects_writer>(*csv_file, *reasons_file);
        }
        auto writer_client = writer_client_factory_ ? writer_client_factory_() : ddb_;
        auto failure = run_pipeline(
            config_, *writer_client, path, *keys, checkpoint{}, rejects.get(),
            [&](byte_sink& sink) -> result<void> {
                // pump_file finishes the sink itself; the pipeline finishes it after the pump, so wrap it.
                struct no_finish final : byte_sink {
                    byte_sink& next;
                    explicit no_finish(byte_sink& n) : next(n) {}
                    result<void> write(std::string_view chunk) override { return next.write(chunk); }
                    result<void> finish() override { return ok(); }
                } once(sink);
                return pump_file(path, once);
            },
            {}, stop, options, file_size(path), out);
        if (failure) {
            // Without a ledger nothing keeps the checkpoint: do not claim it was saved.
            error_message = failure->code == errc::CANCELLED ? "stopped on request" : failure->message;
            out.status = failure->code == errc::CANCELLED ? load_status::STOPPED
                         : is_permanent(*failure)         ? load_status::FAILED
                                                          : load_status::RETRY;
        } else {
            out.status = out.summary.rows_rejected ? load_status::SUCCEEDED_WITH_REJECTS : load_status::SUCCEEDED;
        }
    }
    out.summary.elapsed_seconds = std::chrono::duration<double>(steady::now() - started).count();
    out.message = error_message;
    out.report_json = report_json(out, config_.table, "", rejects_path,
                                  rejects_path.empty() ? "" : rejects_path + ".reasons.jsonl", error_message);
    return out;
}

std::string report_json(const load_outcome& outcome, const std::string& table, const std::string& version,
                        const std::string& rejects_csv_uri, const std::string& rejects_reasons_uri,
                        const std::string& error_message) {
    const pipeline::summary& s = outcome.summary;
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("source").value(outcome.source);
    if (!version.empty()) w.key("version").value(version);
    w.key("table").value(table);
    w.key("load_id").value(outcome.load_id);
    w.key("status").value(load_status_name(outcome.status));
    w.key("counts").begin_object();
    w.key("rows").value(s.rows_read);
    w.key("items_written").value(s.items);
    w.key("rejected").value(s.rows_rejected);
    w.key("rejected_by_reason").begin_object();
    for (size_t reason_idx = 0; reason_idx < s.rejected_by_reason.size(); ++reason_idx) {
        if (s.rejected_by_reason[reason_idx]) {
            w.key(reject_reason_name(static_cast<reject_reason>(reason_idx))).value(s.rejected_by_reason[reason_idx]);
        }
    }
    w.end_object();
    w.key("duplicates_collapsed").value(s.duplicates_collapsed);
    w.key("blank_lines").value(s.blank_lines);
    w.key("reconciles").value(s.reconciles());
    w.end_object();
    w.key("bytes").value(s.bytes_in);
    w.key("compressed_bytes").value(s.compressed_bytes_in);
    w.key("compression").value(s.compression);
    w.key("batches").value(s.batches);
    w.key("wcu_consumed").value(outcome.writer.wcu_consumed);
    w.key("throttles").value(outcome.writer.throttles);
    w.key("duration_seconds").value(s.elapsed_seconds);
    if (!rejects_csv_uri.empty()) {
        w.key("rejects")
            .begin_object()
            .key("csv")
            .value(rejects_csv_uri)
            .key("reasons")
            .value(rejects_reasons_uri)
            .end_object();
    }
    w.key("first_errors").begin_array();
    for (const auto& p : s.first_errors) {
        w.begin_object().key("line").value(p.line).key("byte_offset").value(p.byte_offset);
        if (p.column_index >= 0) w.key("column").value(p.column);
        w.key("reason").value(reject_reason_name(p.reason)).key("message").value(p.message).end_object();
    }
    w.end_array();
    if (!error_message.empty()) w.key("error").value(error_message);
    w.end_object();
    return out;
}

std::string notification_text(const load_outcome& outcome, const std::string& table, const std::string& rejects_uri,
                              const std::string& error_message) {
    const pipeline::summary& s = outcome.summary;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", s.elapsed_seconds);
    if (outcome.status == load_status::FAILED) {
        return "Failed to load " + outcome.source + " into " + table + ": " + error_message +
               ". Nothing more will be retried for this file; fix it and upload it again.";
    }
    std::string text = "Loaded " + with_thousands(s.items) + " of " + with_thousands(s.rows_read) + " rows of " +
                       outcome.source + " into " + table + " in " + seconds + " s";
    if (s.duplicates_collapsed) text += " (" + with_thousands(s.duplicates_collapsed) + " repeated keys, last row won)";
    if (s.rows_rejected) {
        text += "; " + with_thousands(s.rows_rejected) + (s.rows_rejected == 1 ? " row" : " rows") + " rejected";
        if (!rejects_uri.empty()) text += ", see " + rejects_uri;
    }
    return text + ".";
}

std::string emf_metrics_line(const load_outcome& outcome, const std::string& table) {
    const pipeline::summary& s = outcome.summary;
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::string out;
    json::writer w(out);
    w.begin_object();
    w.key("_aws").begin_object().key("Timestamp").value(static_cast<int64_t>(now_ms));
    w.key("CloudWatchMetrics").begin_array().begin_object().key("Namespace").value("Tarius");
    w.key("Dimensions").begin_array().begin_array().value("table").value("status").end_array().end_array();
    w.key("Metrics").begin_array();
    const std::pair<const char*, const char*> metrics[] = {
        {"RowsRead", "Count"},    {"ItemsWritten", "Count"}, {"RowsRejected", "Count"},   {"BytesRead", "Bytes"},
        {"WCUConsumed", "Count"}, {"Throttles", "Count"},    {"LoadDuration", "Seconds"}, {"LoadsFailed", "Count"}};
    for (const auto& [name, unit] : metrics)
        w.begin_object().key("Name").value(name).key("Unit").value(unit).end_object();
    w.end_array().end_object().end_array().end_object();
    w.key("table").value(table);
    w.key("status").value(load_status_name(outcome.status));
    w.key("load_id").value(outcome.load_id);
    w.key("source").value(outcome.source);
    w.key("RowsRead").value(s.rows_read);
    w.key("ItemsWritten").value(s.items);
    w.key("RowsRejected").value(s.rows_rejected);
    w.key("BytesRead").value(s.bytes_in);
    w.key("WCUConsumed").value(outcome.writer.wcu_consumed);
    w.key("Throttles").value(outcome.writer.throttles);
    w.key("LoadDuration").value(s.elapsed_seconds);
    w.key("LoadsFailed").value(uint64_t{outcome.status == load_status::FAILED ? 1u : 0u});
    w.end_object();
    return out;
}

}  // namespace tarius::loader
