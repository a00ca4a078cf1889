#pragma once
/// How CSV columns become DynamoDB attributes, and the encoder that turns one row into one item.
///
/// A mapping comes from a JSON or YAML document (`--mapping FILE`) or from flags (`--key ID:S`,
/// `--sort-key ...`, `--types 'Price=number,InStock=bool'`). Document shape (YAML shown; JSON is the same):
///
///     partition_key: ID:S            # or {name: ID, type: S}; types S, N, B (base64)
///     sort_key: Sku:S                # optional
///     defaults: {type: string, empty: omit, trim: true}
///     columns:
///       "Price (USD)": {attribute: price_usd, type: number, currency: true}
///       Internal: {skip: true}
///       Tags: {type: string_set, separator: "|"}
///       Notes: {empty: keep, trim: false}
///       UpdatedAt: {type: timestamp}
///
/// Types: string, number, bool, null, json, string_set, number_set, list, auto, timestamp (see `value_type`).
/// Empty policies: omit, keep, null, remove (as omit; a merge feed REMOVEs the stored attribute; see `empty_policy`).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/csv.hpp"
#include "tarius/reject.hpp"
#include "tarius/result.hpp"

namespace tarius::mapping {

/// DynamoDB scalar types allowed for key attributes.
enum class key_type : uint8_t { S, N, B };

/// One key attribute: its name (the attribute name, after any rename) and type.
struct key_attribute {
    std::string name;             ///< attribute name, e.g. "ID"
    key_type type = key_type::S;  ///< S, N or B (B cells are base64 text)
};

/// The table's key schema.
struct key_schema {
    key_attribute partition;            ///< the partition (hash) key
    std::optional<key_attribute> sort;  ///< the sort (range) key, if the table has one
};

/// The type a column's cells are converted to.
enum class value_type : uint8_t {
    STRING,      ///< S (the default for every unmapped column)
    NUMBER,      ///< N, validated and canonicalised as DynamoDB stores it
    BOOL,        ///< BOOL from true/false/yes/no/1/0/y/n, case-insensitive
    NULL_VALUE,  ///< NULL; the cell must be empty or "null"
    JSON,  ///< a JSON document: object → M, array → L, string → S, number → N, bool → BOOL, null → NULL
    STRING_SET,  ///< SS: split on the separator, trimmed, de-duplicated; no elements → attribute omitted
    NUMBER_SET,  ///< NS: like STRING_SET, elements validated and canonicalised, de-duplicated by value
    LIST,        ///< L of S: split on the separator, order kept
    AUTO,        ///< N only when the text already is a canonical number, BOOL for true/false, else S
    TIMESTAMP,   ///< S: an ISO-8601 / RFC 3339 timestamp with a UTC offset (or a date alone), stored in UTC with
                 ///< a fixed width, YYYY-MM-DDThh:mm:ss.fffffffffZ, so that string order is chronological
};

/// What an empty cell (after trimming) becomes.
enum class empty_policy : uint8_t {
    OMIT,        ///< the attribute is left out of the item (sparse items)
    KEEP,        ///< stored as the empty string (S) — for non-string types the attribute is omitted
    NULL_VALUE,  ///< stored as NULL
    REMOVE,      ///< left out of the item like OMIT, and named in `encoded_item::removed` (merge feeds REMOVE it)
};

/// Parses "string", "number", "bool", "null", "json", "string_set", "number_set", "list", "auto", "timestamp".
[[nodiscard]] result<value_type> parse_value_type(std::string_view text);
/// Returns the name `parse_value_type` accepts for `type`.
const char* value_type_name(value_type type) noexcept;
/// Parses "omit", "keep", "null", "remove".
[[nodiscard]] result<empty_policy> parse_empty_policy(std::string_view text);

/// The rule for one column; unset options fall back to `mapping::defaults`.
struct column_rule {
    std::string column;                 ///< the header name this rule applies to
    std::string attribute;              ///< attribute name; empty means the column name
    bool skip = false;                  ///< leave the column out of the item
    std::optional<value_type> type;     ///< conversion
    std::optional<empty_policy> empty;  ///< meaning of an empty cell
    std::optional<bool> trim;           ///< trim spaces/tabs around unquoted cells
    bool currency = false;              ///< numbers: strip one leading currency sign and thousands separators
    std::string separator = ",";        ///< sets and lists: element separator (non-empty)
};

/// Defaults for columns without a rule (or rule fields left unset).
struct column_defaults {
    value_type type = value_type::STRING;     ///< like the original system and AWS's CSV import
    empty_policy empty = empty_policy::OMIT;  ///< sparse items
    bool trim = true;                         ///< quoted content is always kept exactly
};

/// A whole mapping.
struct mapping {
    std::optional<key_schema> keys;    ///< from the document/flags, or later from DescribeTable
    column_defaults defaults;          ///< for unmapped columns
    std::vector<column_rule> columns;  ///< at most one rule per column name
    /// Attributes the loader sets on every item itself (an insert or newer feed's row marker): a column mapped to
    /// one is a file error, found at the header, instead of every row refused by DynamoDB.
    std::vector<std::string> reserved_attributes;
};

/// Parses a mapping document; JSON when it starts with `{`, YAML otherwise. Unknown fields, bad types and
/// duplicate column rules are `errc::INVALID_ARGUMENT` errors naming the field.
[[nodiscard]] result<mapping> parse_mapping(std::string_view document);

/// Parses a key flag "NAME:TYPE" (TYPE one of S, N, B; ":S" may be omitted).
[[nodiscard]] result<key_attribute> parse_key_flag(std::string_view text);

/// Adds/overrides column types from "Col=type,Col2=type"; column names may not contain `=`. A column named twice
/// in `text` is an error (a type from the mapping document is overridden, not an error).
[[nodiscard]] result<void> apply_types_flag(mapping& m, std::string_view text);

/// One encoded item, reused from row to row to avoid allocations.
struct encoded_item {
    std::string json;       ///< the item as DynamoDB JSON: {"ID":{"S":"x"},"Price":{"N":"12.5"}}
    std::string key;        ///< canonical key bytes (type-tagged partition key, then sort key): equal keys
                            ///< ⇔ same DynamoDB item
    uint64_t key_hash = 0;  ///< a 64-bit hash of `key`
    size_t size = 0;        ///< the item's size by DynamoDB's sizing rules, in bytes
    size_t attributes = 0;  ///< number of top-level attributes
    std::string removed;    ///< attributes whose empty cell asks to REMOVE them (merge feeds): their names as
                            ///< comma-separated JSON strings, `"color","size"`; empty when none (and after
                            ///< `encode_key`)
};

/// DynamoDB's item size limit, 400 KB.
inline constexpr size_t MAX_ITEM_SIZE = 400 * 1024;
/// Partition key value limit in bytes.
inline constexpr size_t MAX_PARTITION_KEY_SIZE = 2048;
/// Sort key value limit in bytes.
inline constexpr size_t MAX_SORT_KEY_SIZE = 1024;

/// A mapping bound to one file's header: converts rows into items.
class item_encoder {
public:
    /// Binds `m` (with `keys`, which overrides `m.keys`) to a header. File-level errors
    /// (`errc::CSV_FILE`): a key attribute that no column provides — "column ID (partition key) not in
    /// header: a, b, c" —, a rule naming a column the header lacks, two columns mapped to one attribute,
    /// a column mapped to a reserved attribute, a key column that is skipped.
    [[nodiscard]] static result<item_encoder> bind(const mapping& m, const key_schema& keys,
                                                   std::span<const std::string> header);

    /// Encodes a row into `out` (cleared first). Returns false and fills `problem` (reason, column,
    /// message; the caller sets line and byte_offset) when the row cannot become an item.
    /// Precondition: `r.fields.size()` equals the bound header's size.
    [[nodiscard]] bool encode(const csv::row& r, encoded_item& out, row_problem& problem);

    /// Like `encode`, but leaves `out.json` alone and points `json` at the item's JSON inside the encoder
    /// instead, valid until the next call on this encoder: for a caller that copies the JSON anyway (the
    /// batcher), one copy less per row.
    [[nodiscard]] bool encode(const csv::row& r, encoded_item& out, std::string_view& json, row_problem& problem);

    /// Encodes only the key attributes of a row ({"ID":{"S":"x"}}, for a delete): the other columns are not read.
    /// `out.size` is the key's size. Same contract as `encode` otherwise.
    [[nodiscard]] bool encode_key(const csv::row& r, encoded_item& out, std::string_view& json, row_problem& problem);

    item_encoder(item_encoder&&) noexcept;
    item_encoder& operator=(item_encoder&&) noexcept;
    ~item_encoder();

private:
    struct plan;
    explicit item_encoder(std::unique_ptr<plan> p);
    // The item, or with `key_only` the key alone, with its canonical key and hash (encode and encode_key).
    [[nodiscard]] bool encode_object(bool key_only, const csv::row& r, encoded_item& out, std::string_view& json,
                                     row_problem& problem);
    std::unique_ptr<plan> plan_;
};

}  // namespace tarius::mapping
