#pragma once
// One load of a snapshot feed, around the ordinary pipeline: `prepare` digests the file (pass 1), compares it with
// the feed's last snapshot and decides which rows to send and which keys to delete, before anything is written;
// the pipeline then writes those rows (pass 2) and the deletes; `commit` makes this load's digest the feed's base
// once the load succeeded.
//
// The feed's state (state.json in its digest store) names the base digest — the last successful snapshot — and the
// digests of loads that started writing and did not finish ("pending"). A key that a pending load may have
// changed cannot be trusted to equal the base: while any is pending every row is written, and deletes cover the
// keys of the base and of every pending digest.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "loader/snapshot/digest.hpp"
#include "loader/snapshot/digest_diff.hpp"
#include "loader/snapshot/digest_store.hpp"
#include "tarius/loader/load_job.hpp"
#include "tarius/pipeline/summary.hpp"
#include "tarius/stream.hpp"

namespace tarius::loader::snapshot {

/// What a snapshot load knows of its file after pass 1.
struct plan {
    line_set to_write;           ///< lines of the rows to send (new or changed keys, the last row of each)
    std::string deletes_path;    ///< local file: the keys to delete (DynamoDB JSON), one per line
    diff_counts counts;          ///< what the comparison found
    bool first_load = false;     ///< no base digest: every row is written and nothing deleted
    std::string rewrite_reason;  ///< why every row is written although a base exists (empty: only changes)
    std::string base_load_id;    ///< the load whose digest was the base
    std::string digest_uri;      ///< where this load's digest was stored
};

/// The inputs of a snapshot load.
struct load_context {
    const loader_config& config;                   ///< the feed's settings (config.snapshot is set)
    mapping::key_schema keys;                      ///< the table's key schema
    std::string load_id;                           ///< this load (the same across its runs)
    std::string source;                            ///< for the digest's header and messages
    digest_store& store;                           ///< the feed's digests and state
    std::function<result<void>(byte_sink&)> pump;  ///< writes the file into a sink (called once per pass)
    std::function<bool()> stop;                    ///< the load's stop check (deadline, signal)
    bool resumed = false;  ///< an earlier run of this load began writing (its checkpoint is past 0)
    /// Renews the load's lease and the feed's lock (at most every heartbeat period); an error ends pass 1.
    std::function<result<void>()> heartbeat;
};

/// A snapshot load between prepare and commit. Removes its temporary files when destroyed.
class session {
public:
    /// Pass 1 and the comparison. Fails (nothing written or deleted) when the file would delete more than
    /// `max_delete_fraction` of the base's items, when the file cannot be read, or when the store fails.
    [[nodiscard]] static result<std::unique_ptr<session>> prepare(const load_context& context);
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    [[nodiscard]] const plan& decided() const noexcept { return plan_; }
    /// After a successful load: this load's digest becomes the feed's base, pending digests are cleared, and the
    /// digests the state named before are deleted.
    /// `dirty`: DynamoDB refused some rows, so the digest does not match the table: the next load writes every row.
    [[nodiscard]] result<void> commit(bool dirty);
    /// The report's `snapshot` object.
    [[nodiscard]] std::string report_json() const;

private:
    session(const load_context& context, std::string temp_dir);
    [[nodiscard]] result<void> run_prepare();
    [[nodiscard]] result<std::unique_ptr<digest_reader>> open_digest(const std::string& name, const std::string& local);
    void forget_replaced_digests();
    [[nodiscard]] result<void> refuse_unreadable_rows(const pipeline::summary& pass1) const;

    load_context context_;
    std::string temp_dir_;
    std::string digest_name_;
    std::string state_text_;  // the state read at prepare (commit rewrites it)
    plan plan_;
};

/// After a load ended (and the ledger recorded it): a load that succeeded becomes the feed's base. Should this
/// fail, the load's digest stays pending and the next load writes every row: costly, never wrong.
[[nodiscard]] result<void> commit_if_succeeded(session& s, const load_outcome& out);

/// The key attributes of an item as DynamoDB JSON, in the order of `keys` ({"ID":{"S":"x"}}); empty when the item
/// lacks one.
[[nodiscard]] std::string key_json_of(std::string_view item_json, const mapping::key_schema& keys);

}  // namespace tarius::loader::snapshot
