#pragma once
/// Packing items into BatchWriteItem request bodies with the semantics of writing rows one by one in file order.
///
/// BatchWriteItem rejects a request holding one key twice, and concurrent requests finish in any order. The
/// batcher therefore never puts a key twice in one request: a later row with a key already in the open batch
/// replaces the earlier item (last row wins; counted as a collapsed duplicate). Each sealed batch describes its
/// items — where each one's JSON sits in the body, its key, its size and the row it came from — so that a writer
/// can hold back a batch whose key is still in flight, split a request DynamoDB refused, reject exactly the
/// refused row and fall back to the row a refused one replaced.

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

/// What a request entry does to its key: a put writes the item, a delete removes it (its JSON is the key).
enum class write_kind : uint8_t { PUT, DELETE };

/// `{"PutRequest":{"Item":` or `{"DeleteRequest":{"Key":`: what opens an entry of a BatchWriteItem request.
[[nodiscard]] std::string_view request_open(write_kind kind) noexcept;
/// What closes it: `}}`.
inline constexpr std::string_view REQUEST_CLOSE = "}}";

/// Where an item came from in the input.
struct row_origin {
    std::string_view raw;      ///< the row's original bytes (line break included); empty when not kept
    uint64_t line = 0;         ///< 1-based line of the row
    uint64_t byte_offset = 0;  ///< decoded-byte offset of the row's start
};

/// An item's origin as stored in a batch: the raw bytes live in `batch::rows`.
struct stored_origin {
    uint64_t line = 0;         ///< 1-based line of the row
    uint64_t byte_offset = 0;  ///< decoded-byte offset of the row's start
    uint32_t raw_offset = 0;   ///< of the row's bytes in `batch::rows`
    uint32_t raw_length = 0;   ///< 0 when rows are not kept
};

/// One item of a sealed batch.
struct batch_item {
    uint32_t json_offset = 0;           ///< of the item's JSON ({"ID":{"S":"x"},...}) in `batch::body`
    uint32_t json_length = 0;           ///< its length
    uint32_t key_offset = 0;            ///< of its canonical key (`encoded_item::key`) in `batch::keys`
    uint32_t key_length = 0;            ///< its length
    uint64_t key_hash = 0;              ///< `encoded_item::key_hash`
    uint32_t size = 0;                  ///< DynamoDB item size in bytes
    int32_t replaced = -1;              ///< index in `batch::replaced` of the row this one superseded; -1 when none
    write_kind kind = write_kind::PUT;  ///< a put (JSON: the item) or a delete (JSON: the key)
    stored_origin origin;               ///< the row it came from
    uint32_t aux_offset = 0;            ///< of what the row's write strategy needs besides the item, in `batch::aux`
    uint32_t aux_length = 0;            ///< its length (0: none)
};

/// An earlier row of the same key that a later row of the batch replaced (last row wins).
struct replaced_item {
    uint32_t json_offset = 0;           ///< of its JSON in `batch::replaced_json`
    uint32_t json_length = 0;           ///< its length
    uint32_t size = 0;                  ///< DynamoDB item size in bytes
    int32_t replaced = -1;              ///< the row it superseded in turn; -1 when none
    write_kind kind = write_kind::PUT;  ///< a put or a delete
    stored_origin origin;               ///< the row it came from
};

/// One sealed BatchWriteItem request and the span of the input it covers.
struct batch {
    uint64_t sequence = 0;                ///< 0-based position among the batches of this load
    std::string body;                     ///< {"RequestItems":{"<table>":[{"PutRequest":{"Item":{...}}},...]}}
    std::vector<batch_item> items_info;   ///< the items, in body order
    std::string keys;                     ///< canonical keys of the items (see batch_item::key_offset)
    std::string rows;                     ///< raw bytes of the rows (when the batcher keeps rows)
    std::vector<replaced_item> replaced;  ///< rows replaced by a later row of the same key (rare)
    std::string replaced_json;            ///< their JSON
    std::string aux;                      ///< per-item extras of conditional and update writes (batch_item::aux_offset)
    size_t items = 0;                     ///< items in the request (≤ 25)
    size_t item_bytes = 0;                ///< sum of the items' DynamoDB sizes
    uint64_t collapsed = 0;               ///< rows folded into a later row of the same key (= replaced.size())
    uint64_t start_offset = 0;            ///< input offset of the first row this batch accounts for
    uint64_t end_offset = 0;              ///< input offset past the last row it accounts for (a resume point)
    uint64_t end_line = 0;                ///< the line number of the row starting at `end_offset`

    /// The JSON of item `item_idx`.
    [[nodiscard]] std::string_view item_json(size_t item_idx) const {
        const batch_item& it = items_info[item_idx];
        return std::string_view(body).substr(it.json_offset, it.json_length);
    }
    /// The canonical key of item `item_idx`.
    [[nodiscard]] std::string_view item_key(size_t item_idx) const {
        const batch_item& it = items_info[item_idx];
        return std::string_view(keys).substr(it.key_offset, it.key_length);
    }
    /// The raw row of an origin (empty when rows are not kept).
    [[nodiscard]] std::string_view raw_row(const stored_origin& origin) const {
        return std::string_view(rows).substr(origin.raw_offset, origin.raw_length);
    }
    /// The extras of item `item_idx` (empty when none).
    [[nodiscard]] std::string_view item_aux(size_t item_idx) const {
        const batch_item& it = items_info[item_idx];
        return std::string_view(aux).substr(it.aux_offset, it.aux_length);
    }
    /// The JSON of a replaced row.
    [[nodiscard]] std::string_view replaced_item_json(const replaced_item& r) const {
        return std::string_view(replaced_json).substr(r.json_offset, r.json_length);
    }
    /// Bytes this batch holds in memory (body, keys, rows, replaced rows): what a writer's memory bound counts.
    [[nodiscard]] size_t held_bytes() const noexcept {
        return body.capacity() + keys.capacity() + rows.capacity() + replaced_json.capacity() + aux.capacity() +
               items_info.capacity() * sizeof(batch_item) + replaced.capacity() * sizeof(replaced_item);
    }
};

/// Receives sealed batches in order.
class batch_sink {
public:
    virtual ~batch_sink() = default;
    /// Takes ownership of a sealed batch. An error stops the load.
    [[nodiscard]] virtual result<void> on_batch(batch&& b) = 0;
};

/// What a batch does with a second row of a key it already holds.
enum class duplicate_policy : uint8_t {
    COLLAPSE,  ///< the later row replaces the earlier one (last row wins): BatchWriteItem puts and deletes
    SEAL,      ///< the batch is sealed and the row opens the next one: conditional and update writes, where each
               ///< row of a key is its own write, in file order
};

/// Builds batches for one table. Not thread-safe; one per load.
class batcher {
public:
    /// Precondition: `sink` outlives the batcher; 1 ≤ max_items ≤ 25. `keep_rows`: copy each row's raw bytes
    /// into its batch (a loader needs them to reject a row DynamoDB refuses; a converter does not).
    batcher(std::string_view table, batch_sink& sink, size_t max_items = MAX_BATCH_ITEMS,
            size_t max_bytes = MAX_BATCH_BYTES, bool keep_rows = false,
            duplicate_policy duplicates = duplicate_policy::COLLAPSE);

    /// Adds an item from the row ending at `end_offset` (whose next row starts on `next_line`).
    [[nodiscard]] result<void> add(const mapping::encoded_item& item, uint64_t end_offset, uint64_t next_line);
    /// Same, with the item's JSON given apart (`item.json` is not read): see `item_encoder::encode`'s overload
    /// that returns a view; `origin` names the row (its raw bytes are kept only with `keep_rows`). A DELETE's
    /// `json` is the key ({"ID":{"S":"x"}}, `item_encoder::encode_key`); a later row of the key, put or delete,
    /// replaces it like any other. `aux`: what the row's write strategy needs besides the item (a version, the
    /// attributes to remove), kept with the item (`batch::item_aux`).
    [[nodiscard]] result<void> add(const mapping::encoded_item& item, std::string_view json, uint64_t end_offset,
                                   uint64_t next_line, const row_origin& origin = {}, write_kind kind = write_kind::PUT,
                                   std::string_view aux = {});
    /// Continues the batches of an earlier batcher: the next batch is number `sequence`, and its span starts at
    /// `offset` (line `line`). Call before the first add.
    void start_at(uint64_t sequence, uint64_t offset, uint64_t line) noexcept {
        sequence_ = sequence;
        start_offset_ = end_offset_ = offset;
        end_line_ = line;
    }
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
        size_t size;       // DynamoDB item size
        int32_t previous;  // index in replaced_ of the row it superseded, -1 none
        write_kind kind;
        stored_origin origin;
        size_t aux_offset;  // in aux_
        size_t aux_length;
    };

    [[nodiscard]] result<void> seal();
    stored_origin keep(const row_origin& origin);

    std::string prefix_;  // {"RequestItems":{"<table>":[
    batch_sink& sink_;
    size_t max_items_;
    size_t max_bytes_;
    bool keep_rows_;
    duplicate_policy duplicates_;
    std::vector<slot> slots_;
    std::array<uint64_t, MAX_BATCH_ITEMS> slot_hashes_{};  // slots_[i].key_hash, packed for the duplicate scan
    std::string body_;   // the request being built, items appended as they come (one copy per item)
    std::string arena_;  // items that replaced an earlier one (rare); body_ is then rebuilt at seal
    std::string keys_;
    std::string rows_;                     // raw rows of the open batch (keep_rows_)
    std::string aux_;                      // extras of the open batch's items
    std::vector<replaced_item> replaced_;  // rows superseded within the open batch
    std::string replaced_json_;
    size_t body_bytes_ = 0;
    uint64_t start_offset_ = 0;
    uint64_t end_offset_ = 0;
    uint64_t end_line_ = 1;
    uint64_t sequence_ = 0;
    uint64_t collapsed_ = 0;
    uint64_t items_emitted_ = 0;
};

}  // namespace tarius::pipeline
