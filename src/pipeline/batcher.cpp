#include <cstring>

#include "json/writer.hpp"
#include "tarius/pipeline/batch.hpp"

namespace tarius::pipeline {
namespace {
constexpr std::string_view PUT_OPEN = "{\"PutRequest\":{\"Item\":";
constexpr std::string_view DELETE_OPEN = "{\"DeleteRequest\":{\"Key\":";
constexpr std::string_view BODY_CLOSE = "]}}";
}  // namespace

std::string_view request_open(write_kind kind) noexcept {
    return kind == write_kind::DELETE ? DELETE_OPEN : PUT_OPEN;
}

batcher::batcher(std::string_view table, batch_sink& sink, size_t max_items, size_t max_bytes, bool keep_rows,
                 duplicate_policy duplicates)
    : sink_(sink), max_items_(max_items), max_bytes_(max_bytes), keep_rows_(keep_rows), duplicates_(duplicates) {
    TARIUS_ASSERT(max_items >= 1 && max_items <= MAX_BATCH_ITEMS);
    prefix_ = "{\"RequestItems\":{";
    json::append_string(prefix_, table);
    prefix_ += ":[";
    body_bytes_ = prefix_.size() + BODY_CLOSE.size();
    slots_.reserve(MAX_BATCH_ITEMS);
    body_ = prefix_;
}

result<void> batcher::add(const mapping::encoded_item& item, uint64_t end_offset, uint64_t next_line) {
    return add(item, item.json, end_offset, next_line);
}

stored_origin batcher::keep(const row_origin& origin) {
    stored_origin out{origin.line, origin.byte_offset, 0, 0};
    if (keep_rows_ && !origin.raw.empty()) {
        out.raw_offset = static_cast<uint32_t>(rows_.size());
        out.raw_length = static_cast<uint32_t>(origin.raw.size());
        rows_ += origin.raw;
    }
    return out;
}

result<void> batcher::add(const mapping::encoded_item& item, std::string_view json, uint64_t end_offset,
                          uint64_t next_line, const row_origin& origin, write_kind kind, std::string_view aux) {
    // A key already in the open batch: the later row replaces the earlier item (file order, last row wins), or
    // opens the next batch. At most 25 slots, so a linear scan of hashes beats any map.
    for (size_t slot_idx = 0; slot_idx < slots_.size(); ++slot_idx) {
        if (slot_hashes_[slot_idx] != item.key_hash) continue;
        slot& existing = slots_[slot_idx];
        if (std::string_view(keys_).substr(existing.key_offset, existing.key_length) != item.key) continue;
        if (duplicates_ == duplicate_policy::SEAL) {
            TARIUS_TRY(seal());
            break;
        }
        // The superseded row is kept aside: should DynamoDB refuse the later row, the earlier one is what
        // writing the rows one by one would have left in the table.
        replaced_item earlier;
        earlier.json_offset = static_cast<uint32_t>(replaced_json_.size());
        earlier.json_length = static_cast<uint32_t>(existing.length);
        earlier.size = static_cast<uint32_t>(existing.size);
        earlier.replaced = existing.previous;
        earlier.kind = existing.kind;
        earlier.origin = existing.origin;
        replaced_json_.append(existing.replaced ? arena_ : body_, existing.offset, existing.length);
        existing.previous = static_cast<int32_t>(replaced_.size());
        replaced_.push_back(earlier);

        body_bytes_ -= existing.length;
        body_bytes_ += json.size();
        existing.offset = arena_.size();
        existing.length = json.size();
        existing.size = item.size;
        existing.replaced = true;
        existing.kind = kind;
        existing.origin = keep(origin);
        arena_ += json;
        ++collapsed_;
        advance(end_offset, next_line);
        return ok();
    }
    const std::string_view open = request_open(kind);
    const size_t item_bytes = open.size() + json.size() + REQUEST_CLOSE.size() + 1;
    if (!slots_.empty() && (slots_.size() == max_items_ || body_bytes_ + item_bytes > max_bytes_)) {
        TARIUS_TRY(seal());
    }
    if (!slots_.empty()) body_.push_back(',');
    body_ += open;
    slot_hashes_[slots_.size()] = item.key_hash;
    slots_.push_back(slot{body_.size(), json.size(), false, keys_.size(), item.key.size(), item.key_hash, item.size, -1,
                          kind, keep(origin), aux_.size(), aux.size()});
    aux_ += aux;
    body_ += json;
    body_ += REQUEST_CLOSE;
    keys_ += item.key;
    body_bytes_ += item_bytes;
    advance(end_offset, next_line);
    return ok();
}

void batcher::advance(uint64_t end_offset, uint64_t next_line) noexcept {
    end_offset_ = end_offset;
    end_line_ = next_line;
    // Input consumed while no batch is open belongs to the next batch's span.
    if (slots_.empty()) start_offset_ = end_offset;
}

result<void> batcher::flush() {
    if (slots_.empty()) return ok();
    return seal();
}

result<void> batcher::seal() {
    batch out;
    out.sequence = sequence_++;
    out.items_info.reserve(slots_.size());
    for (const slot& s : slots_) {
        batch_item it;
        it.json_offset = static_cast<uint32_t>(s.offset);
        it.json_length = static_cast<uint32_t>(s.length);
        it.key_offset = static_cast<uint32_t>(s.key_offset);
        it.key_length = static_cast<uint32_t>(s.key_length);
        it.key_hash = s.key_hash;
        it.size = static_cast<uint32_t>(s.size);
        it.replaced = s.previous;
        it.kind = s.kind;
        it.origin = s.origin;
        it.aux_offset = static_cast<uint32_t>(s.aux_offset);
        it.aux_length = static_cast<uint32_t>(s.aux_length);
        out.items_info.push_back(it);
        out.item_bytes += s.size;
    }
    if (arena_.empty()) {
        // No replacement: the body was built in place.
        body_ += BODY_CLOSE;
        out.body = std::move(body_);
    } else {
        // A replaced item: rebuild the body from the slots (rare: a key repeated within 25 rows).
        out.body.reserve(body_bytes_);
        out.body += prefix_;
        for (size_t slot_idx = 0; slot_idx < slots_.size(); ++slot_idx) {
            const slot& s = slots_[slot_idx];
            if (slot_idx) out.body.push_back(',');
            out.body += request_open(s.kind);
            out.items_info[slot_idx].json_offset = static_cast<uint32_t>(out.body.size());
            out.body.append(s.replaced ? arena_ : body_, s.offset, s.length);
            out.body += REQUEST_CLOSE;
        }
        out.body += BODY_CLOSE;
    }
    out.keys = std::move(keys_);
    out.rows = std::move(rows_);
    out.aux = std::move(aux_);
    // Appending doubled the buffers' capacity; a batch waits for its writes with what it holds, so it holds no
    // more than its size (a batch of big rows is megabytes).
    for (std::string* text : {&out.body, &out.rows}) {
        if (text->capacity() > text->size() + text->size() / 4 + 4096) text->shrink_to_fit();
    }
    out.replaced = std::move(replaced_);
    out.replaced_json = std::move(replaced_json_);
    out.collapsed = out.replaced.size();
    out.items = slots_.size();
    out.start_offset = start_offset_;
    out.end_offset = end_offset_;
    out.end_line = end_line_;
    items_emitted_ += out.items;

    slots_.clear();
    arena_.clear();
    keys_.clear();
    rows_.clear();
    aux_.clear();
    replaced_.clear();
    replaced_json_.clear();
    body_.clear();
    body_.reserve(body_bytes_);
    body_ += prefix_;
    body_bytes_ = prefix_.size() + BODY_CLOSE.size();
    start_offset_ = end_offset_;
    return sink_.on_batch(std::move(out));
}

}  // namespace tarius::pipeline
