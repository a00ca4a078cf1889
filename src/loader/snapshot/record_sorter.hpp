#pragma once
/// External sort of a snapshot file's records (docs/sync-modes.md §5.2, pass 1): whatever the row count, at most a
/// fixed budget of records is held in memory; full buffers are sorted and spilled as runs to local files, which
/// finish() merges (k-way, at most MAX_FAN_IN runs at a time, in several passes when there are more).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loader/snapshot/digest.hpp"
#include "tarius/result.hpp"

namespace tarius::loader::snapshot {

/// Sorts records by (key_hash, key_json, line) in at most `memory_bytes` of buffered records (each costs its key's
/// length plus 52 bytes), spilling sorted runs to uncompressed files in `temp_dir` (created if missing; the runs
/// are removed as they are merged and by the destructor). The merge reads each run through a 64 KiB buffer: at
/// most MAX_FAN_IN × 64 KiB (4 MiB) beyond the budget. Disk: about 36 bytes plus the key per record. Not
/// thread-safe.
class record_sorter {
public:
    /// Runs merged at once; more runs are first merged into longer ones.
    static constexpr size_t MAX_FAN_IN = 64;

    /// A sorter spilling to `temp_dir` once `memory_bytes` of records are buffered (at least one record is).
    record_sorter(std::string temp_dir, size_t memory_bytes);
    ~record_sorter();
    record_sorter(const record_sorter&) = delete;
    record_sorter& operator=(const record_sorter&) = delete;
    record_sorter(record_sorter&&) noexcept = default;
    record_sorter& operator=(record_sorter&&) = delete;

    /// Adds a record. Precondition: finish() was not called. errc::IO when a run cannot be written.
    result<void> add(record r);

    /// Ends the input and calls `each` for every record in (key_hash, key_json, line) order; stops at the first
    /// error `each` returns and returns it. Called once. errc::IO when a run cannot be read or written.
    result<void> finish(const std::function<result<void>(const record&)>& each);

    /// Records added.
    [[nodiscard]] uint64_t records() const noexcept { return records_; }

    /// Runs spilled to disk so far (merge passes included); 0 when everything fitted in memory.
    [[nodiscard]] uint64_t runs_written() const noexcept { return runs_written_; }

private:
    struct slot {
        uint64_t key_hash;  ///< copied out of the arena: most comparisons end here
        size_t offset;      ///< where the serialized record starts in arena_
    };

    result<void> spill();
    void sort_buffer();
    result<std::string> new_run_path();
    void remove_runs() noexcept;

    std::string temp_dir_;
    size_t memory_bytes_ = 0;
    std::vector<char> arena_;  ///< serialized records, as in a run file
    std::vector<slot> index_;  ///< one per buffered record
    std::vector<std::string> runs_;
    uint64_t records_ = 0;
    uint64_t runs_written_ = 0;
    bool finished_ = false;
};

}  // namespace tarius::loader::snapshot
