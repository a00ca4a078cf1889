#pragma once
/// Packing items into BatchWriteItem request bodies with the semantics of writing rows one by one in file order.
///
/// BatchWriteItem rejects a request holding one key twice, and concurrent requests finish in any order. The
/// batcher therefore never puts a key twice in one request: a later row with a key already in the open batch
/// replaces the earlier item (last row wins; counted as a collapsed duplicate). Each sealed batch exposes the
/// hashes of its keys so a writer can hold back a batch whose key is still in flight in an earlier one.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"
#include "tarius/result.hpp"

namespace tarius::pipeline {

/// BatchWriteItem's limits.
inline constexpr size_t MAX_BATCH_ITEMS = 25;
inline constexpr size_t MAX_BATCH_BYTES = 16 * 1024 * 1024;

/// One sealed BatchWriteItem request and the span of the input it covers.
struct batch {
    uint64_t sequence = 0;             ///< 0-based position among the batches of this load
    std::string body;                  ///< {"RequestItems":{"<table>":[{"PutRequest":{"Item":{...}}},...]}}
    std::vector<uint64_t> key_hashes;  ///< one per item, `encoded_item::key_hash`
    size_t items = 0;                  ///< items in the request (≤ 25)
    size_t item_bytes = 0;             ///< sum of the items' DynamoDB sizes
    uint64_t start_offset = 0;         ///< input offset of the first row this batch accounts for
    uint64_t end_offset = 0;           ///< input offset past the last row it accounts for (a resume point)
    uint64_t end_line = 0;             ///< the line number of the row starting at `end_offset`
};

/// Receives sealed batches in order.
class batch_sink {
public:
    virtual ~batch_sink() = default;
    /// Takes ownership of a sealed batch. An error stops the load.
    [[nodiscard]] virtual result<void> on_batch(batch&& b) = 0;
};

/// Builds batches for one table. Not thread-safe; one per load.
class batcher {
public:
    /// Precondition: `sink` outlives the batcher; 1 ≤ max_items ≤ 25.
    batcher(std::string_view table, batch_sink& sink, size_t max_items = MAX_BATCH_ITEMS,
            size_t max_bytes = MAX_BATCH_BYTES);

    /// Adds an item from the row ending at `end_offset` (whose next row starts on `next_line`).
    [[nodiscard]] result<void> add(const mapping::encoded_item& item, uint64_t end_offset, uint64_t next_line);
    /// Same, with the item's JSON given apart (`item.json` is not read): see `item_encoder::encode`'s overload
    /// that returns a view.
    [[nodiscard]] result<void> add(const mapping::encoded_item& item, std::string_view json, uint64_t end_offset,
                                   uint64_t next_line);
    /// Records that the input up to `end_offset` was consumed without an item (a rejected row, a blank line).
    void advance(uint64_t end_offset, uint64_t next_line) noexcept;
    /// Seals and emits the open batch, if it holds any item.
    [[nodiscard]] result<void> flush();

    /// Rows folded into a later row with the same key while in the same batch.
    [[nodiscard]] uint64_t collapsed_duplicates() const noexcept { return collapsed_; }
    /// Items in emitted batches.
    [[nodiscard]] uint64_t items_emitted() const noexcept { return items_emitted_; }
    /// Batches emitted.
    [[nodiscard]] uint64_t batches_emitted() const noexcept { return sequence_; }

private:
    struct slot {
        size_t offset;  // of the item JSON in body_ (or in arena_ when replaced)
        size_t length;
        bool replaced;      // the item was replaced by a later row with the same key: it lives in arena_
        size_t key_offset;  // of the key bytes in keys_
        size_t key_length;
        uint64_t key_hash;
        size_t size;  // DynamoDB item size
    };

    [[nodiscard]] result<void> seal();

    std::string prefix_;  // {"RequestItems":{"<table>":[
    batch_sink& sink_;
    size_t max_items_;
    size_t max_bytes_;
    std::vector<slot> slots_;
    std::array<uint64_t, MAX_BATCH_ITEMS> slot_hashes_{};  // slots_[i].key_hash, packed for the duplicate scan
    std::string body_;   // the request being built, items appended as they come (one copy per item)
    std::string arena_;  // items that replaced an earlier one (rare); body_ is then rebuilt at seal
    std::string keys_;
    size_t body_bytes_ = 0;
    uint64_t start_offset_ = 0;
    uint64_t end_offset_ = 0;
    uint64_t end_line_ = 1;
    uint64_t sequence_ = 0;
    uint64_t collapsed_ = 0;
    uint64_t items_emitted_ = 0;
};

}  // namespace tarius::pipeline
