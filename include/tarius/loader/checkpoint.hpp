#pragma once
/// A load's checkpoint: the point of the input below which every row is written or rejected, and what a load
/// resumed from it must know to reproduce the counts and rejects of an uninterrupted load.

#include <cstdint>
#include <string>
#include <vector>

namespace tarius::loader {

/// A row DynamoDB refused in a part of the load that a checkpoint covers.
struct refusal {
    uint64_t line = 0;    ///< the row's 1-based line (unique per row)
    std::string message;  ///< DynamoDB's reason
};

/// What the runs of a load did so far (a run that crashed adds what it did up to its last checkpoint).
struct load_work {
    uint64_t requests = 0;            ///< BatchWriteItem requests sent
    uint64_t requests_throttled = 0;  ///< of them throttled
    double wcu_consumed = 0;          ///< write units consumed
    double wcu_estimated = 0;         ///< of them, estimated (writes whose condition was false)
    double seconds = 0;               ///< time spent loading
};

/// A point in the input below which every row is written or rejected.
struct checkpoint {
    uint64_t offset = 0;         ///< decoded-byte offset (csv row boundary)
    uint64_t line = 1;           ///< line number of the row at `offset`
    uint64_t batches_done = 0;   ///< batches completed below `offset`
    uint64_t items_written = 0;  ///< items DynamoDB acknowledged below `offset`
    /// Rows below `offset` whose write's condition was false (insert: the key existed; newer: a version not lower).
    /// A resumed load cannot tell them from written rows by replaying the input, so the checkpoint keeps them.
    uint64_t skipped_existing = 0;
    uint64_t skipped_stale = 0;  ///< see skipped_existing
    /// Rows below `offset` whose condition was false when a resumed run sent them again, where that run cannot
    /// tell whether the earlier run had written them (a later row of their key may have been written over them
    /// since) or skipped them: counted apart rather than guessed.
    uint64_t resent_uncertain = 0;
    /// Decoded-byte offset below which a resumed run does not trust a false condition on a row it sends again
    /// (from `offset` on): an earlier run may have written the row after this checkpoint was saved, and a later row
    /// of its key over it (newer), or its own write fails the condition (no row marker). 0: trusted everywhere.
    uint64_t uncertain_through = 0;
    /// Rows below `offset` that DynamoDB refused: a resumed load (which reads the input again from the start and
    /// sends nothing below `offset`) rejects these rows again, with these reasons, instead of counting them written.
    std::vector<refusal> refused;
    /// The work of every run of the load so far (not only below `offset`), so the report of a load that continued
    /// shows what the whole load cost.
    load_work work;
};

}  // namespace tarius::loader
