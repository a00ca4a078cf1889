#pragma once
/// Snapshot feeds: the file is the whole truth of its feed. Each successful load keeps a digest of what it wrote
/// (key → hash of the item) next to the files; the next load reads the file twice — once to digest and compare it
/// with the last digest, once to write only the rows that changed — then deletes the items whose keys the file no
/// longer holds. Memory stays bounded whatever the file's size (an external sort, and one bit per row).
/// docs/sync-modes.md §5 has the design and its trade-offs.

#include <cstddef>
#include <string>

namespace tarius::loader {

/// Settings of a `snapshot` feed.
struct snapshot_options {
    /// More items absent from the file than this share of the last snapshot's fails the load before anything is
    /// written or deleted (a truncated file must not empty the table).
    double max_delete_fraction = 0.1;
    /// Where the feed's digests and state are kept in the bucket of the files it loads: under this prefix, then the
    /// feed's name. (Local files keep them in loader_config::snapshot_directory.)
    std::string digests_prefix = "snapshots/";
    size_t sort_memory = 32u << 20;  ///< bytes of rows sorted in memory before they spill to disk
};

}  // namespace tarius::loader
