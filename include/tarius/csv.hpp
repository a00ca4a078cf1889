#pragma once
/// The streaming CSV reader: bytes in chunks of any size in, rows with their position out.
///
/// Contract (RFC 4180, lenient like Python's `csv` module with the default `excel` dialect, strict=False):
/// - quoted fields may hold delimiters, doubled quotes and newlines (LF, CRLF, lone CR);
/// - a quote in the middle of an unquoted field is literal; text after a closing quote is appended;
/// - outside quotes, LF, CRLF and a lone CR end a row; a UTF-8 BOM at the start of the stream is dropped;
/// - the last row may lack a line break; blank lines are not rows (they are counted in `reader_stats`);
/// - an unterminated quote at end of input is a bad row (`UNTERMINATED_QUOTE`), never a hang or a crash;
/// - an Excel `sep=X` first line (after any BOM) names the delimiter and is not a row (see `find_sep_line`).
///   Python's csv module has no such rule (it reads `sep=;` as a one-field row); this follows Excel, which
///   takes the line as a directive and hides it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/reject.hpp"
#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::csv {

/// Default for `dialect::max_field_size` and `dialect::max_row_size`: 1 MiB.
inline constexpr size_t DEFAULT_MAX_SIZE = size_t{1} << 20;

/// How the bytes are to be read.
struct dialect {
    char delimiter = ',';                      ///< one of `,` `\t` `|` `;`
    bool sniff_delimiter = false;              ///< `auto`: choose the delimiter from the header line
    bool has_header = true;                    ///< false: `header_list` names the columns and line 1 is data
    std::vector<std::string> header_list;      ///< the header when `has_header` is false
    size_t max_field_size = DEFAULT_MAX_SIZE;  ///< a longer field makes its row bad (`FIELD_TOO_LARGE`)
    size_t max_row_size = DEFAULT_MAX_SIZE;    ///< a longer row (raw bytes) is bad (`ROW_TOO_LARGE`)
    /// The delimiter was given explicitly (not the default, not `auto`): an Excel `sep=` line naming another
    /// one is then an error instead of the file's choice.
    bool delimiter_given = false;
};

/// Parses a delimiter option: `,` `comma` `\t` `tab` `|` `pipe` `;` `semicolon` or `auto`; sets
/// `delimiter_given` for all but `auto`.
[[nodiscard]] result<dialect> parse_delimiter(std::string_view text, dialect base);

/// The header of the file, known before the first row. `raw` holds the original bytes a copy of the file needs
/// before its rows to be read the same way: the header line with its line break, preceded by the Excel `sep=` line
/// (and any blank lines after it) when the file has one; with header_list, only that `sep=` line (else empty).
struct header {
    std::vector<std::string> names;  ///< column names, verbatim then trimmed of spaces and tabs
    std::string_view raw;            ///< the header line (and `sep=` line) with line breaks; see above
    char delimiter = ',';            ///< the delimiter in use (after sniffing)
};

/// One parsed row. Views are valid only during the `row_sink::on_row` call.
struct row {
    std::span<const std::string_view> fields;  ///< field contents, quotes removed, `""` unescaped, not trimmed
    std::span<const uint8_t> quoted;           ///< per field: 1 if the field was quoted (trim leaves it alone)
    std::string_view raw;                      ///< the row's original bytes, including its line break if any
    uint64_t line = 0;                         ///< 1-based physical line where the row starts
    uint64_t byte_offset = 0;                  ///< offset of the row's first byte in the decoded stream
    uint64_t end_offset = 0;                   ///< offset just past the row's line break (a resume point)
    uint64_t end_line = 0;                     ///< line number of the row that starts at `end_offset`
    bool raw_complete = true;                  ///< false when `raw` was cut at max_row_size (oversized rows)
};

/// Receives the header, then every row in order. Returning an error stops the reader with that error.
class row_sink {
public:
    virtual ~row_sink() = default;
    /// Called once, before any row.
    [[nodiscard]] virtual result<void> on_header(const header& hdr) = 0;
    /// A well-formed row with exactly as many fields as the header, valid UTF-8, within the limits.
    [[nodiscard]] virtual result<void> on_row(const row& r) = 0;
    /// A row the reader itself rejects (field count, limits, unterminated quote, invalid UTF-8).
    /// `r.fields` may be empty; `r.raw` always holds the row's original bytes.
    [[nodiscard]] virtual result<void> on_bad_row(const row& r, const row_problem& problem) = 0;
};

/// Counters kept by the reader.
struct reader_stats {
    uint64_t bytes = 0;        ///< decoded bytes consumed, BOM included
    uint64_t rows = 0;         ///< data rows seen, good and bad (not the header, not blank lines)
    uint64_t bad_rows = 0;     ///< rows passed to on_bad_row
    uint64_t blank_lines = 0;  ///< blank lines skipped
    uint64_t lines = 0;        ///< physical lines seen
};

/// The streaming reader. Feed decoded bytes with `write`, then call `finish` once.
/// A file-level problem (duplicate or empty header names, no header at all, a header over the limits)
/// is returned as an `errc::CSV_FILE` error naming the problem; after an error the reader must not be fed.
class reader final : public byte_sink {
public:
    /// Precondition: `sink` outlives the reader.
    reader(dialect d, row_sink& sink);
    ~reader() override;
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    /// Consumes the next chunk (any size, including 0 bytes).
    [[nodiscard]] result<void> write(std::string_view chunk) override;
    /// Ends the input: flushes the last row (with or without its line break) and reports an open quote.
    [[nodiscard]] result<void> finish() override;

    /// Counters so far.
    [[nodiscard]] const reader_stats& stats() const noexcept;

    /// Skips input: the first `offset` decoded bytes are read only for line counting and are not emitted
    /// as rows (the header is still read and emitted). Used to resume from a checkpoint's `end_offset`,
    /// where `line` is the line number of the first row at that offset. Call before the first write.
    void resume_at(uint64_t offset, uint64_t line);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Chooses the delimiter for a header line: the candidate among `,` `\t` `|` `;` that occurs most often
/// outside quotes; `,` when none occurs.
[[nodiscard]] char sniff_delimiter(std::string_view header_line) noexcept;

/// What the start of a stream says about Excel's `sep=X` line.
struct sep_line {
    /// NEED_MORE: not yet decidable; NONE: the stream does not start with `sep=`; FOUND: a `sep=` line naming one
    /// character; MALFORMED: a line starting with `sep=` that does not name exactly one character.
    enum class status : uint8_t { NEED_MORE, NONE, FOUND, MALFORMED };
    status found = status::NONE;  ///< what was found
    char delimiter = 0;           ///< the character named (FOUND); any byte, the caller checks it is supported
    size_t length = 0;            ///< bytes of the line including its line break (FOUND)
};

/// Looks for Excel's delimiter line at the start of `text` (a BOM already removed): `sep=` in any letter case,
/// one character, then LF, CRLF, CR or the end of input. `at_end`: no more bytes follow `text`, so a prefix of
/// the pattern is decided instead of NEED_MORE. Reads at most 7 bytes.
[[nodiscard]] sep_line find_sep_line(std::string_view text, bool at_end) noexcept;

/// Validates UTF-8. Returns the index of the first byte of the first invalid sequence, or npos when valid.
[[nodiscard]] size_t find_invalid_utf8(std::string_view text) noexcept;

}  // namespace tarius::csv
