#pragma once
/// The digest of a snapshot feed (docs/sync-modes.md §5.1): per key of the feed's last successful file, the hash of
/// the item it encoded to and the key itself, sorted by (key_hash, key_json), so that the next load finds what
/// changed in one streaming merge and in bounded memory.
///
/// File format `tarius-digest/1`: one JSON header line (`digest_header`, `"format":"tarius-digest/1"` first and
/// `"rows"` last), then one zstd frame (content checksum on) holding the entries back to back, little-endian:
/// `u64 key_hash | u64 hash.hi | u64 hash.lo | u16 key_len | key_len bytes of key JSON`. A digest whose writer did
/// not finish has `"rows":null` and is refused by the reader, as is any entry out of order, a frame cut short, a
/// checksum mismatch or an entry count other than `rows`.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "tarius/result.hpp"

struct ZSTD_CCtx_s;  // zstd.h's ZSTD_CCtx
struct ZSTD_DCtx_s;  // zstd.h's ZSTD_DCtx

namespace tarius::loader::snapshot {

/// 128 bits identifying an encoded item's content.
struct row_hash {
    uint64_t hi = 0;  ///< first 64 bits
    uint64_t lo = 0;  ///< second 64 bits, from an independent hash of the same bytes
    friend bool operator==(const row_hash&, const row_hash&) = default;
};

/// 128 bits of an encoded item's DynamoDB JSON: two independent 64-bit hashes of `item_json`. Never returns KEEP.
row_hash hash_item(std::string_view item_json) noexcept;

/// The hash of a row the mapping rejected but whose key is known: keep what the base holds (never delete it, never
/// write it). In a digest it marks a key whose content is unknown ("dirty"): it never equals a row's hash, so the
/// key's next valid row is written, and the key is deleted if a later file lacks it.
inline constexpr row_hash KEEP{0, 0};

/// One row of this file as the digest sees it.
struct record {
    uint64_t key_hash = 0;  ///< the encoder's key hash (encoded_item::key_hash)
    row_hash hash;          ///< hash_item of the row's item, or KEEP
    uint64_t line = 0;      ///< the row's line: unique per row, increasing in file order
    std::string key_json;   ///< the key attributes as DynamoDB JSON ({"ID":{"S":"x"}}): what a DeleteRequest needs
};

/// The first line of a digest file.
struct digest_header {
    std::string feed;        ///< the feed's name
    std::string table;       ///< the DynamoDB table the feed loads
    std::string load_id;     ///< the load that wrote the digest
    std::string source;      ///< the file digested (s3://bucket/key, with its ETag if the caller wants it)
    std::string key_schema;  ///< the table's key, e.g. "ID:S" or "ID:S,Sku:N"
    uint64_t rows = 0;       ///< keys in the digest (set by digest_writer::finish)
};

/// One key of a digest.
struct digest_entry {
    uint64_t key_hash = 0;  ///< the encoder's key hash
    row_hash hash;          ///< hash of the key's item, or KEEP (content unknown: rewrite next time)
    std::string key_json;   ///< the key attributes as DynamoDB JSON, at most 65,535 bytes
};

/// The on-disk format name written in every digest header.
inline constexpr std::string_view DIGEST_FORMAT = "tarius-digest/1";

/// Orders keys as digests and sorted records do: by key_hash, then key JSON bytewise (unsigned).
inline int compare_keys(uint64_t a_hash, std::string_view a_key, uint64_t b_hash, std::string_view b_key) noexcept {
    if (a_hash != b_hash) return a_hash < b_hash ? -1 : 1;
    const int c = a_key.compare(b_key);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

namespace detail {
struct file_closer {
    void operator()(std::FILE* f) const noexcept;
};
struct zstd_cctx_free {
    void operator()(ZSTD_CCtx_s* ctx) const noexcept;
};
struct zstd_dctx_free {
    void operator()(ZSTD_DCtx_s* ctx) const noexcept;
};
}  // namespace detail

/// Writes a digest file: the header line, then the entries added in ascending (key_hash, key_json) order, then
/// finish() compresses the tail and writes the row count into the header. Not thread-safe.
class digest_writer {
public:
    /// Creates (or truncates) `path` and writes the header line (`header.rows` is ignored; finish() sets it).
    /// Fails with errc::IO when the file cannot be written.
    static result<digest_writer> create(const std::string& path, digest_header header);

    /// Appends `e`. Precondition: `e` comes strictly after the previous entry in (key_hash, key_json) order
    /// (errc::INTERNAL otherwise, as for a key over 65,535 bytes: errc::INVALID_ARGUMENT) and finish() was not called.
    result<void> add(const digest_entry& e);

    /// Ends the compressed stream, writes the row count into the header line and closes the file. Called once.
    result<void> finish();

    /// The header; `rows` counts the entries added so far.
    [[nodiscard]] const digest_header& header() const noexcept { return header_; }

    /// The file being written.
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    digest_writer() = default;
    result<void> compress(bool end);

    std::string path_;
    digest_header header_;
    std::unique_ptr<std::FILE, detail::file_closer> file_;
    std::unique_ptr<ZSTD_CCtx_s, detail::zstd_cctx_free> cctx_;
    long rows_offset_ = 0;  ///< where the 20 characters of the rows value start in the header line
    std::string in_;        ///< serialized entries not compressed yet
    std::string out_;       ///< compression output buffer
    uint64_t last_hash_ = 0;
    std::string last_key_;
    bool finished_ = false;
};

/// Reads a digest file, streaming: memory is a few buffers whatever the row count. Not thread-safe.
class digest_reader {
public:
    /// Opens `path` and reads its header. errc::IO when it cannot be read; errc::INVALID_ARGUMENT when it is not a
    /// finished tarius-digest/1 file (the message names the file and the reason).
    static result<digest_reader> open(const std::string& path);

    /// The header; `rows` is the entry count the file must hold.
    [[nodiscard]] const digest_header& header() const noexcept { return header_; }

    /// Reads the next entry into `out`; false at the end. A truncated or corrupt file (a frame cut short, a checksum
    /// mismatch, an entry out of order, fewer or more entries than the header says) is errc::INVALID_ARGUMENT, never
    /// a short read; a read failure is errc::IO.
    result<bool> next(digest_entry& out);

    /// Entries read so far.
    [[nodiscard]] uint64_t entries_read() const noexcept { return read_; }

private:
    digest_reader() = default;
    result<bool> fill(size_t needed);
    error corrupt(const std::string& reason) const;

    std::string path_;
    digest_header header_;
    std::unique_ptr<std::FILE, detail::file_closer> file_;
    std::unique_ptr<ZSTD_DCtx_s, detail::zstd_dctx_free> dctx_;
    std::unique_ptr<char[]> in_;  ///< compressed bytes read from the file
    size_t in_cap_ = 0, in_pos_ = 0, in_len_ = 0;
    std::unique_ptr<char[]> buf_;  ///< decompressed bytes not consumed yet: [buf_pos_, buf_len_)
    size_t buf_cap_ = 0, buf_pos_ = 0, buf_len_ = 0;
    uint64_t file_offset_ = 0;  ///< bytes of the file read so far
    bool eof_ = false;
    bool in_frame_ = false;     ///< inside a zstd frame (its end not decoded yet)
    bool frame_seen_ = false;   ///< one complete frame was decoded
    bool output_full_ = false;  ///< the last decompression filled its output: more may be buffered in zstd
    bool done_ = false;
    uint64_t read_ = 0;
    bool has_last_ = false;
    uint64_t last_hash_ = 0;
    std::string last_key_;
};

}  // namespace tarius::loader::snapshot
