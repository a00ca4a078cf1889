#pragma once
/// Inferring a starter feed from the first rows of a CSV file (`tarius infer`): the delimiter, a type per column,
/// the empty cells and the key candidates, written out as a feeds document (YAML with comments, or JSON).
///
/// The type rules, per column, over the sampled non-empty cells:
/// - `number` when every cell is a DynamoDB number already in the canonical form DynamoDB stores and returns, so
///   that loading it as a number gives back the same text: `12.5`, `-3`, `0`; never `007`, `+5`, `1.50`, `1e3`,
///   ` 5` (quoted blanks) — those stay strings (and get a hint);
/// - `bool` when every cell is a bool spelling the encoder accepts (true/false, yes/no, y/n, 1/0, any case);
/// - `json` when every cell is a JSON object or array the encoder accepts (numbers DynamoDB can store, nesting);
/// - else `string` (the default: no rule needed). A column without a non-empty cell is a string.
/// The order breaks ties: a column of 0 and 1 is a number (its profile says it might be a flag).
/// A cell is empty when it is empty after trimming spaces and tabs around an unquoted cell, as a string column
/// reads it. Key candidates are columns whose cells are non-empty and pairwise different in every sampled row.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/csv.hpp"
#include "tarius/mapping.hpp"
#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::mapping {

/// Default number of rows `tarius infer` samples.
inline constexpr uint64_t DEFAULT_SAMPLE_ROWS = 10000;

/// How a sample is read.
struct sample_options {
    uint64_t max_rows = DEFAULT_SAMPLE_ROWS;  ///< rows read from the start, malformed ones included; at least 1
    /// How the bytes are read; by default the delimiter is sniffed as `--delimiter auto` does.
    csv::dialect dialect = [] {
        csv::dialect d;
        d.sniff_delimiter = true;
        return d;
    }();
};

/// A cell a string column keeps as text although it reads as a number: what DynamoDB would store instead.
struct number_hint {
    bool currency = false;  ///< it reads as a number only with `currency: true` (a sign, thousands separators)
    uint64_t line = 0;      ///< the line of the first such cell
    std::string cell;       ///< that cell
    std::string stored;     ///< the number DynamoDB would store for it (canonical form)
};

/// What the sample says about one column.
struct column_profile {
    std::string name;                      ///< the header name
    value_type type = value_type::STRING;  ///< NUMBER, BOOL, JSON or STRING (see the rules above)
    uint64_t values = 0;                   ///< non-empty cells
    uint64_t empty = 0;                    ///< empty cells
    uint64_t distinct = 0;                 ///< distinct non-empty values
    size_t max_bytes = 0;                  ///< bytes of the longest non-empty value
    bool only_zero_one = false;            ///< a NUMBER column whose values are all 0 or 1 (a flag, maybe)
    bool name_looks_like_value = false;    ///< the header name would pass as a value of `type` (line 1 is data?)
    bool named_like_key = false;           ///< the name's last word is id, key, uuid, guid, sku or pk
    /// For a STRING column whose every value is a number in another spelling ("007", "1.50", "+5") or, failing
    /// that, an amount ("$1,299.00"): the first cell not in canonical form.
    std::optional<number_hint> hint;
};

/// How the suggested key was found.
enum class key_basis : uint8_t {
    UNIQUE_COLUMN,  ///< one column is non-empty and unique in the sample
    UNIQUE_PAIR,    ///< no column is, but two together are (partition key + sort key)
    NOT_UNIQUE,     ///< nothing is: the column with the most distinct values, preferring ones never empty
};

/// The suggested key schema.
struct key_suggestion {
    key_basis basis = key_basis::NOT_UNIQUE;  ///< why these columns
    size_t partition = 0;                     ///< column index of the partition key
    std::optional<size_t> sort;               ///< column index of the sort key (UNIQUE_PAIR)
    /// Every column non-empty and unique in the sample that DynamoDB can take as a key (a string of at most
    /// 2,048 bytes or a number), best first: named like a key, then leftmost.
    std::vector<size_t> candidates;
};

/// A malformed row met in the sample.
struct malformed_row {
    uint64_t line = 0;   ///< its line
    std::string reason;  ///< the reader's message
};

/// What the sample says about the file.
struct sample_profile {
    char delimiter = ',';                        ///< the delimiter in use
    bool sep_line = false;                       ///< named by an Excel `sep=` line (else sniffed from the header)
    uint64_t header_line = 1;                    ///< the line of the header
    std::string compression = "none";            ///< "none", "gzip" or "zstd"
    std::vector<column_profile> columns;         ///< in header order
    uint64_t rows = 0;                           ///< well-formed rows sampled
    uint64_t malformed = 0;                      ///< malformed rows sampled (left out of the column profiles)
    std::vector<malformed_row> first_malformed;  ///< the first few of them
    bool whole_file = false;                     ///< the sample is the whole file (it has at most max_rows rows)
    key_suggestion keys;                         ///< the suggested key schema
};

/// Reads the start of a file and profiles it. Feed the file's bytes (plain, gzip or zstd) to `input()`; the sink
/// fails with errc::CANCELLED once max_rows rows were read, which `finish` takes as the end of the sample.
class sampler {
public:
    /// Precondition: `options.max_rows` ≥ 1.
    explicit sampler(sample_options options);
    ~sampler();
    sampler(const sampler&) = delete;
    sampler& operator=(const sampler&) = delete;

    /// The sink the file's bytes go to.
    [[nodiscard]] byte_sink& input() noexcept;

    /// The profile, given what feeding `input()` returned. Errors: the file's own (unreadable, not CSV, a bad
    /// header: `errc::CSV_FILE`, `errc::DECODE`, `errc::IO`), a file without rows, a sample of malformed rows only.
    [[nodiscard]] result<sample_profile> finish(result<void> fed);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Profiles bytes in memory (plain, gzip or zstd).
[[nodiscard]] result<sample_profile> profile_bytes(std::string_view bytes, const sample_options& options);

/// What the starter feed names and where it came from.
struct starter_feed {
    std::string source;     ///< the file as given on the command line (shown in comments)
    std::string feed_name;  ///< the feed's name (see feed_name_for)
    std::string prefix;     ///< the placeholder `match.prefix`
    std::string table;      ///< the placeholder `table`
    uint64_t max_rows = 0;  ///< the sample's limit (shown in comments)
};

/// The feed name for a file: its base name without .csv/.tsv/.txt/.gz/.zst endings, lower case, runs of other
/// characters than a-z 0-9 as one `_`; "feed" when nothing is left (also for "-", standard input).
[[nodiscard]] std::string feed_name_for(std::string_view path);

/// A starter feed for `source` with placeholders: prefix raw-data/NAME/, table NAME (NAME_table when shorter than
/// DynamoDB's three characters).
[[nodiscard]] starter_feed starter_for(std::string_view source, uint64_t max_rows);

/// The feeds document of one feed: YAML with comments (delimiter, header, the columns with their types, empty
/// cells and hints, the key and why), or the same document as JSON without comments.
[[nodiscard]] std::string render_feed_yaml(const sample_profile& profile, const starter_feed& feed);
/// See render_feed_yaml.
[[nodiscard]] std::string render_feed_json(const sample_profile& profile, const starter_feed& feed);

/// `text` as a YAML scalar: plain when it is safe in every YAML 1.1 and 1.2 reader (a letter or `_`, then
/// letters, digits, `_ . -`, and not a word such as yes, no, on, off, true, false, null), else double-quoted with
/// every character outside YAML's printable set (and line separators) escaped.
[[nodiscard]] std::string yaml_scalar(std::string_view text);

}  // namespace tarius::mapping
