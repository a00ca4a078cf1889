#pragma once
/// The diff of a snapshot load (docs/sync-modes.md §5.2, step 3): one streaming merge of this file's sorted records
/// with the base digests decides which rows to send, which keys to delete, and writes the new digest.

#include <cstdint>
#include <string>
#include <vector>

#include "loader/snapshot/digest.hpp"
#include "loader/snapshot/record_sorter.hpp"
#include "tarius/result.hpp"

namespace tarius::loader::snapshot {

/// A set of line numbers, one bit per line up to the highest inserted (12.5 MB for 100 M lines).
class line_set {
public:
    /// Adds `line` (idempotent).
    void insert(uint64_t line);
    /// Allocates the bits for lines below `lines` at once (optional: insert() grows the set as needed).
    void reserve(uint64_t lines);
    /// True when `line` was inserted.
    [[nodiscard]] bool contains(uint64_t line) const noexcept {
        const uint64_t word = line >> 6;
        return word < bits_.size() && ((bits_[word] >> (line & 63)) & 1u) != 0;
    }
    /// Distinct lines inserted.
    [[nodiscard]] uint64_t size() const noexcept { return size_; }

private:
    std::vector<uint64_t> bits_;
    uint64_t size_ = 0;
};

/// What a diff decided; records == to_write + unchanged + collapsed + kept.
struct diff_counts {
    uint64_t records = 0;    ///< rows recorded
    uint64_t to_write = 0;   ///< rows to send (new or changed keys, last row of each key)
    uint64_t unchanged = 0;  ///< rows not sent: same hash as the base
    uint64_t collapsed = 0;  ///< earlier rows of a key that a later row of the file replaces (not sent)
    uint64_t kept = 0;       ///< KEEP rows (their key stays as it is)
    uint64_t to_delete = 0;  ///< keys of the bases absent from this file
    uint64_t base_rows = 0;  ///< keys in bases[0] (the last successful snapshot), 0 without one
    uint64_t keys = 0;       ///< distinct keys of the file (entries given to `next`)
};

/// How a diff trusts the base.
struct diff_options {
    bool trust_hashes = true;  ///< false: every row is written (first load after a failed one, forced rewrite)
};

/// One streaming merge of this file's sorted records with the base digests.
///
/// `bases[0]` is the last successful snapshot's digest, the others are digests of loads that failed after writing
/// started (pending); any may be null (absent); no base at all is a first load. The readers must be fresh (nothing
/// read yet); `sorted` must not be finished (diff calls its finish()).
///
/// Per key of the file, the last row (highest line) decides; earlier rows of the key are `collapsed`, never sent.
/// - A row with a hash: `next` gets the key with that hash. The row is `unchanged` (not sent) when trust_hashes,
///   bases[0] is present and every present base holds the key with that same hash; otherwise its line goes to
///   `to_write`. A pending base that lacks the key or holds another hash means its load may have deleted or
///   rewritten the item, so the row is sent.
/// - A KEEP row (`kept`, never sent): `next` gets the key with the hash the bases agree on (bases[0] holds the key
///   and every present base holds it with the same hash), else with KEEP, which marks its content unknown: the next
///   load rewrites the key's row, or deletes the key if its file lacks it. So a kept key is never forgotten while
///   the table may hold it, and never taken as unchanged when a failed load may have changed it.
/// Keys held by any base but absent from the file: their key JSON is written to `deletes_path` (created or
/// truncated), one per line, in digest order, each key once.
///
/// diff does not call next.finish(): the caller finishes the new digest (after adding nothing more).
/// Errors: those of the sorter, of the readers (a corrupt base), of the writer, and errc::IO for `deletes_path`.
result<diff_counts> diff(record_sorter& sorted, std::vector<digest_reader*> bases, digest_writer& next,
                         line_set& to_write, const std::string& deletes_path, diff_options options = {});

}  // namespace tarius::loader::snapshot
