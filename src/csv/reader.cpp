// The streaming CSV reader. One pass over each chunk: a 64-byte block at a time, the structural bytes
// (delimiter, quote, CR, LF) are found with SIMD compares and walked bit by bit through the transition
// table; plain bytes between them are never looked at one by one. A row is a list of field boundaries
// (absolute offsets); its field values are cut out of its raw bytes when it ends, so a row that spans chunks
// is never scanned twice: its head is copied once into `row_buf_` and the scan resumes where it stopped.
#include <algorithm>
#include <array>
#include <bit>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "csv/state_machine.hpp"
#include "tarius/csv.hpp"

namespace tarius::csv {

namespace {

using detail::action;
using detail::state;

constexpr uint8_t FIELD_QUOTED = 1;   // the field began with a quote
constexpr uint8_t FIELD_COMPLEX = 2;  // quoted with `""`, text after the closing quote, or unterminated
constexpr uint64_t NO_OFFSET = ~uint64_t{0};

/// One field's place in the stream.
struct field_ref {
    uint64_t begin;  // absolute offset of the field's first byte (its opening quote when quoted)
    uint64_t end;    // absolute offset of the byte that ended it (delimiter, CR, LF) or of the end of input
    uint8_t flags;
};

/// Appends the value of a quoted field (raw text after its opening quote) to `out`: `""` inside the quotes is
/// one quote, the first lone quote closes them and everything after it is literal (Python, strict=False).
void unescape_quoted(std::string_view text, std::string& out) {
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t quote = text.find('"', pos);
        if (quote == std::string_view::npos) {
            out.append(text.substr(pos));
            return;
        }
        out.append(text.substr(pos, quote - pos));
        if (quote + 1 < text.size() && text[quote + 1] == '"') {
            out.push_back('"');
            pos = quote + 2;
            continue;
        }
        out.append(text.substr(quote + 1));  // after the closing quote: literal
        return;
    }
}

std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

/// A delimiter as a message shows it: "tab" for a tab, \xNN for other bytes that are not printable ASCII.
std::string delimiter_shown(char c) {
    if (c == '\t') return "tab";
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) return std::string(1, c);
    constexpr std::string_view HEX = "0123456789ABCDEF";
    return std::string("\\x") + HEX[byte >> 4] + HEX[byte & 0xF];
}

bool is_line_break(char c) {
    return c == '\n' || c == '\r';
}

/// Checks header names for empty and duplicate entries; returns an empty string when they are fine.
std::string header_name_problems(const std::vector<std::string>& names) {
    std::string empty_columns;
    std::string duplicates;
    std::unordered_map<std::string_view, size_t> first_column;
    std::vector<bool> reported(names.size(), false);
    for (size_t column_idx = 0; column_idx < names.size(); ++column_idx) {
        const std::string& name = names[column_idx];
        if (name.empty()) {
            empty_columns += (empty_columns.empty() ? "" : ", ") + std::to_string(column_idx + 1);
            continue;
        }
        auto [it, inserted] = first_column.emplace(name, column_idx);
        if (inserted || reported[it->second]) continue;
        reported[it->second] = true;
        std::string columns = std::to_string(it->second + 1);
        for (size_t later_idx = it->second + 1; later_idx < names.size(); ++later_idx) {
            if (names[later_idx] == name) columns += " and " + std::to_string(later_idx + 1);
        }
        duplicates += (duplicates.empty() ? "" : ", ") + ("\"" + name + "\" in columns " + columns);
    }
    std::string message;
    if (!duplicates.empty()) message = "duplicate header names: " + duplicates;
    if (!empty_columns.empty()) {
        if (!message.empty()) message += "; ";
        message += "empty header name in column" +
                   std::string(empty_columns.find(',') == std::string::npos ? " " : "s ") + empty_columns;
    }
    if (!message.empty()) message += " (column names must be unique and non-empty)";
    return message;
}

}  // namespace

struct reader::impl {
    impl(dialect dia, row_sink& sink) : d(std::move(dia)), sink_(sink), table_(d.delimiter), finder_(d.delimiter) {}

    dialect d;
    row_sink& sink_;
    detail::transition_table table_;
    detail::structural_finder finder_;
    std::array<uint64_t, 1024> masks_;  // structural masks of the run of blocks being scanned (64 KiB of input)
    reader_stats stats_;
    bool failed_ = false;
    error err_;  // set by emit functions, returned by the scan

    // Before the first scan: the BOM and, with sniffing, the header line are collected here.
    bool started_ = false;
    std::string pre_;
    size_t pre_scan_ = 0;  // how far pre_ was searched for the end of the sniffing line
    size_t sniff_begin_ = std::string::npos;
    bool pre_quote_ = false;
    size_t sniff_end_ = std::string::npos;
    uint64_t stream_begin_ = 0;  // 3 after a BOM
    // An Excel `sep=` line: its bytes (with the line break), and whether the header row must still take them
    // (the header's raw bytes then start at the `sep=` line, blank lines between included).
    std::string sep_line_;
    bool sep_in_header_ = false;

    // Scanner state.
    uint64_t pos_ = 0;  // absolute offset of the next byte to scan
    state st_ = state::ROW_START;
    uint64_t expect_ = 0;  // offset just after the last structural byte handled; bytes from here are plain
    uint64_t line_ = 1;    // line number at the scan position
    uint64_t last_quoted_cr_ = NO_OFFSET;
    char last_byte_ = '\n';
    bool pending_row_ = false;  // AFTER_CR with a complete row whose line break may grow by an LF
    uint64_t pending_end_ = 0;

    // The current row.
    uint64_t row_start_ = 0;
    uint64_t row_line_ = 0;
    uint64_t field_begin_ = 0;
    uint8_t field_flags_ = 0;
    bool row_oversized_ = false;
    bool row_carried_ = false;  // the row's head lives in row_buf_
    bool unterminated_ = false;
    std::vector<field_ref> fields_;
    std::string row_buf_;

    // The chunk being scanned.
    const char* chunk_ = nullptr;
    uint64_t chunk_base_ = 0;
    uint64_t valid_begin_ = 0;  // [valid_begin_, valid_end_) of this chunk is known to be valid UTF-8
    uint64_t valid_end_ = 0;

    // The header and reused output buffers.
    bool header_done_ = false;
    std::vector<std::string> names_;
    std::vector<std::string_view> views_;
    std::vector<uint8_t> quoted_;
    std::string scratch_;

    uint64_t resume_offset_ = 0;
    uint64_t resume_line_ = 0;

    // ---- front stage -----------------------------------------------------------------------------------

    result<void> write(std::string_view chunk) {
        if (failed_) return make_error(errc::INTERNAL, "csv reader written after an error");
        stats_.bytes += chunk.size();
        if (!started_) {
            pre_.append(chunk);
            if (!ready_to_start()) return ok();
            return guard(start());
        }
        return guard(scan(chunk.data(), chunk.size()));
    }

    result<void> finish() {
        if (failed_) return make_error(errc::INTERNAL, "csv reader finished after an error");
        if (!started_) TARIUS_TRY(guard(start()));
        return guard(finish_scan());
    }

    result<void> guard(result<void> r) {
        if (!r) failed_ = true;
        return r;
    }

    /// True once the BOM question, the `sep=` line question and (with sniffing) the header line are settled.
    /// The sniffed text ends at the first line break outside quotes or after max_row_size bytes, whichever comes
    /// first, so the choice does not depend on how the input was cut into chunks.
    bool ready_to_start() {
        if (pre_.size() < 3) return false;
        const size_t bom = pre_.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
        const sep_line sep = find_sep_line(std::string_view(pre_).substr(bom), false);
        if (sep.found == sep_line::status::NEED_MORE) return false;
        if (sep.found != sep_line::status::NONE) return true;  // the line names the delimiter: nothing to sniff
        if (!d.sniff_delimiter) return true;
        if (pre_scan_ == 0 && pre_.compare(0, 3, "\xEF\xBB\xBF") == 0) pre_scan_ = 3;
        const size_t limit = d.max_row_size > pre_.max_size() - 8 ? pre_.max_size() : d.max_row_size + 4;
        // Searches on from where the previous chunk stopped, so a long header fed in small chunks stays linear.
        for (; pre_scan_ < pre_.size(); ++pre_scan_) {
            if (pre_scan_ >= limit) {
                sniff_end_ = limit;
                return true;
            }
            const char c = pre_[pre_scan_];
            if (sniff_begin_ == std::string::npos) {
                if (is_line_break(c)) continue;
                sniff_begin_ = pre_scan_;
            }
            if (c == '"') pre_quote_ = !pre_quote_;
            if (!pre_quote_ && is_line_break(c)) {
                sniff_end_ = pre_scan_;
                return true;
            }
        }
        if (pre_scan_ >= limit) {
            sniff_end_ = limit;
            return true;
        }
        return false;
    }

    result<void> start() {
        started_ = true;
        std::string pre = std::move(pre_);
        pre_ = std::string();
        if (pre.compare(0, 3, "\xEF\xBB\xBF") == 0) stream_begin_ = 3;
        const sep_line sep = find_sep_line(std::string_view(pre).substr(stream_begin_), true);
        if (sep.found != sep_line::status::NONE) {
            TARIUS_TRY(use_sep_line(sep));
            sep_line_.assign(pre, stream_begin_, sep.length);
        } else if (d.sniff_delimiter) {
            const size_t begin = std::max<size_t>(stream_begin_, sniff_begin_ == std::string::npos ? 0 : sniff_begin_);
            const size_t end = std::min(sniff_end_, pre.size());
            d.delimiter =
                sniff_delimiter(std::string_view(pre).substr(std::min(begin, end), end - std::min(begin, end)));
            table_ = detail::transition_table(d.delimiter);
            finder_ = detail::structural_finder(d.delimiter);
        }
        // The `sep=` line is no row: scanning starts after it, on line 2, with the offsets of the whole stream.
        const uint64_t first = stream_begin_ + sep_line_.size();
        pos_ = first;
        expect_ = first;
        if (!sep_line_.empty()) {
            line_ = 2;
            stats_.lines = 1;
            if (d.has_header) {
                sep_in_header_ = true;
                row_start_ = stream_begin_;
                row_buf_ = sep_line_;
                row_carried_ = true;
            }
        }
        if (!d.has_header) {
            names_.clear();
            for (const auto& name : d.header_list) names_.emplace_back(trim_blanks(name));
            if (names_.empty()) {
                return make_error(errc::CSV_FILE, "no header: the file has no header line and header_list is empty");
            }
            const std::string problems = header_name_problems(names_);
            if (!problems.empty()) return make_error(errc::CSV_FILE, "header_list: " + problems);
            header hdr{names_, sep_line_, d.delimiter};
            header_done_ = true;
            TARIUS_TRY(sink_.on_header(hdr));
        }
        return scan(pre.data() + first, pre.size() - static_cast<size_t>(first));
    }

    /// Takes the delimiter an Excel `sep=` line names, or says why not.
    result<void> use_sep_line(const sep_line& sep) {
        const std::string where = "line 1: ";
        if (sep.found == sep_line::status::MALFORMED) {
            return make_error(errc::CSV_FILE, where +
                                                  "the line starts with sep= but does not name one delimiter "
                                                  "character (Excel's form is sep=; sep=, sep=| or sep= and a tab)");
        }
        const char named = sep.delimiter;
        const std::string shown = delimiter_shown(named);
        if (named != ',' && named != ';' && named != '|' && named != '\t') {
            return make_error(errc::CSV_FILE, where + "the Excel sep= line names '" + shown +
                                                  "' as the delimiter; tarius reads , ; | and tab only");
        }
        if (d.delimiter_given && !d.sniff_delimiter && named != d.delimiter) {
            return make_error(errc::CSV_FILE, where + "the Excel sep= line names '" + shown +
                                                  "' as the delimiter, but the delimiter given is '" +
                                                  delimiter_shown(d.delimiter) + "': give '" + shown +
                                                  "' or auto, or leave the delimiter out");
        }
        d.delimiter = named;
        table_ = detail::transition_table(d.delimiter);
        finder_ = detail::structural_finder(d.delimiter);
        return ok();
    }

    // ---- scanner -----------------------------------------------------------------------------------------

    void at_line_start(uint64_t offset) {
        if (resume_line_ != 0 && offset == resume_offset_ && header_done_) line_ = resume_line_;
    }

    void begin_row(uint64_t offset) {
        at_line_start(offset);
        row_start_ = sep_in_header_ ? stream_begin_ : offset;  // the header's raw bytes include the sep= line
        row_line_ = line_;
        field_begin_ = offset;
        field_flags_ = 0;
        row_oversized_ = false;
    }

    void push_field(uint64_t end) {
        if (!row_oversized_) {
            if (end - row_start_ > d.max_row_size) {
                row_oversized_ = true;  // stop recording fields: the row is bad and memory stays bounded
                fields_.clear();
            } else {
                fields_.push_back(field_ref{field_begin_, end, field_flags_});
            }
        }
        field_flags_ = 0;
    }

    void append_capped(const char* data, size_t len) {
        const size_t room = d.max_row_size > row_buf_.size() ? d.max_row_size - row_buf_.size() : 0;
        row_buf_.append(data, std::min(len, room));
    }

    /// Applies the transition for the plain bytes at [expect_, ...): they start an unquoted field, or continue
    /// a quoted one with literal text.
    bool resolve_gap() {
        switch (st_) {
            case state::ROW_START:
                begin_row(expect_);
                st_ = state::UNQUOTED;
                break;
            case state::FIELD_START: st_ = state::UNQUOTED; break;
            case state::QUOTE_IN_QUOTED:
                field_flags_ |= FIELD_COMPLEX;
                st_ = state::UNQUOTED;
                break;
            case state::AFTER_CR:
                if (pending_row_) {
                    pending_row_ = false;
                    st_ = state::ROW_START;
                    if (!end_row(expect_)) return false;
                }
                begin_row(expect_);
                st_ = state::UNQUOTED;
                break;
            default: break;
        }
        return true;
    }

    static bool gap_matters(state s) { return s != state::UNQUOTED && s != state::QUOTED; }

    /// Handles the structural byte `c` at absolute offset `at`. False when a sink returned an error.
    bool step(uint64_t at, char c) {
        if (at != expect_ && gap_matters(st_) && !resolve_gap()) return false;
        expect_ = at + 1;
        for (;;) {
            switch (table_.at(st_, static_cast<uint8_t>(c))) {
                case action::NONE: return true;
                case action::QUOTED_CR:
                    ++line_;
                    ++stats_.lines;
                    last_quoted_cr_ = at;
                    return true;
                case action::QUOTED_LF:
                    if (last_quoted_cr_ + 1 != at) {
                        ++line_;
                        ++stats_.lines;
                    }
                    return true;
                case action::BLANK_LF:
                    at_line_start(at);
                    ++stats_.blank_lines;
                    ++line_;
                    ++stats_.lines;
                    return true;
                case action::BLANK_CR:
                    at_line_start(at);
                    ++stats_.blank_lines;
                    ++line_;
                    ++stats_.lines;
                    st_ = state::AFTER_CR;
                    return true;
                case action::ROW_DELIM:
                    begin_row(at);
                    push_field(at);
                    field_begin_ = at + 1;
                    st_ = state::FIELD_START;
                    return true;
                case action::ROW_QUOTE:
                    begin_row(at);
                    field_flags_ = FIELD_QUOTED;
                    st_ = state::QUOTED;
                    return true;
                case action::FIELD_QUOTE:
                    field_flags_ = FIELD_QUOTED;
                    st_ = state::QUOTED;
                    return true;
                case action::FIELD_END:
                    push_field(at);
                    field_begin_ = at + 1;
                    st_ = state::FIELD_START;
                    return true;
                case action::ROW_END_LF:
                    push_field(at);
                    ++line_;
                    ++stats_.lines;
                    st_ = state::ROW_START;
                    return end_row(at + 1);
                case action::ROW_END_CR:
                    push_field(at);
                    ++line_;
                    ++stats_.lines;
                    st_ = state::AFTER_CR;
                    pending_row_ = true;
                    pending_end_ = at + 1;
                    return true;
                case action::CLOSE_QUOTE: st_ = state::QUOTE_IN_QUOTED; return true;
                case action::ESCAPED_QUOTE:
                    field_flags_ |= FIELD_COMPLEX;
                    st_ = state::QUOTED;
                    return true;
                case action::CR_LF:
                    st_ = state::ROW_START;
                    if (pending_row_) {
                        pending_row_ = false;
                        return end_row(at + 1);
                    }
                    return true;
                case action::CR_OTHER:
                    st_ = state::ROW_START;
                    if (pending_row_) {
                        pending_row_ = false;
                        if (!end_row(pending_end_)) return false;
                    }
                    continue;  // the byte starts something new: handle it at a row start
            }
            return true;
        }
    }

    result<void> scan(const char* data, size_t len) {
        chunk_ = data;
        chunk_base_ = pos_;
        mark_valid_utf8(data, len);
        const char delimiter = d.delimiter;
        size_t block = 0;
        size_t mask_idx = 0;
        size_t mask_count = 0;
        while (block < len) {
            const size_t avail = len - block;
            uint64_t mask = 0;
            if (avail >= 64) {
                // The masks of the next run of whole blocks, computed in one go.
                if (mask_idx == mask_count) {
                    mask_count = std::min(masks_.size(), avail / 64);
                    mask_idx = 0;
                    finder_.blocks(data + block, mask_count, masks_.data());
                }
                mask = masks_[mask_idx++];
            } else {
                mask = finder_.tail(data + block, avail);
            }
            while (mask != 0) {
                const size_t idx = block + static_cast<size_t>(std::countr_zero(mask));
                mask &= mask - 1;
                const uint64_t at = chunk_base_ + idx;
                // The most common structural byte, a delimiter ending an unquoted field, skips the table: what
                // step() does for it (the gap resolves FIELD_START to UNQUOTED, then FIELD_END), with direct
                // branches instead of the switch's indirect jump, which mispredicts as actions alternate.
                if (data[idx] == delimiter && (st_ == state::UNQUOTED || st_ == state::FIELD_START)) {
                    expect_ = at + 1;
                    push_field(at);
                    field_begin_ = at + 1;
                    st_ = state::FIELD_START;
                    continue;
                }
                if (!step(at, data[idx])) return std::move(err_);
            }
            block += 64;
        }
        pos_ = chunk_base_ + len;
        if (len == 0) return ok();
        last_byte_ = data[len - 1];
        // Trailing plain bytes: settle their transition now, so the carried state is one of the scan states.
        if (expect_ < pos_ && gap_matters(st_) && !resolve_gap()) return std::move(err_);
        const bool in_row = (st_ != state::ROW_START && st_ != state::AFTER_CR) || pending_row_ || sep_in_header_;
        if (in_row) {
            const size_t from = row_start_ > chunk_base_ ? static_cast<size_t>(row_start_ - chunk_base_) : 0;
            append_capped(data + from, len - from);
            row_carried_ = true;
        }
        chunk_ = nullptr;
        return ok();
    }

    /// Validates the chunk once, trimmed to whole characters at both ends; rows inside the span need no
    /// check of their own. Small chunks are not worth it: their rows are checked one by one.
    void mark_valid_utf8(const char* data, size_t len) {
        valid_begin_ = valid_end_ = 0;
        if (len < 256) return;
        const auto* bytes = reinterpret_cast<const uint8_t*>(data);
        size_t begin = 0;
        while (begin < 3 && (bytes[begin] & 0xC0) == 0x80) ++begin;
        size_t end = len;
        for (size_t back = 1; back <= 4; ++back) {
            const uint8_t c = bytes[len - back];
            if ((c & 0xC0) == 0x80) continue;
            if (c >= 0xC0) {
                const size_t need = c >= 0xF0 ? 4 : (c >= 0xE0 ? 3 : 2);
                if (need > back) end = len - back;
            }
            break;
        }
        if (simdjson::validate_utf8(data + begin, end - begin)) {
            valid_begin_ = chunk_base_ + begin;
            valid_end_ = chunk_base_ + end;
        }
    }

    result<void> finish_scan() {
        chunk_ = nullptr;
        chunk_base_ = pos_;
        valid_begin_ = valid_end_ = 0;
        bool emitted = true;
        switch (st_) {
            case state::ROW_START: break;
            case state::AFTER_CR:
                if (pending_row_) {
                    pending_row_ = false;
                    emitted = end_row(pending_end_);
                }
                break;
            case state::FIELD_START:
            case state::UNQUOTED:
            case state::QUOTE_IN_QUOTED:
                push_field(pos_);
                emitted = end_row(pos_);
                break;
            case state::QUOTED:
                field_flags_ |= FIELD_COMPLEX;
                push_field(pos_);
                unterminated_ = true;
                emitted = end_row(pos_);
                break;
            case state::COUNT_: break;
        }
        st_ = state::ROW_START;
        if (!emitted) return std::move(err_);
        if (pos_ > stream_begin_ && !is_line_break(last_byte_)) ++stats_.lines;
        if (!header_done_) return make_error(errc::CSV_FILE, "file is empty: no header line");
        return ok();
    }

    // ---- rows ------------------------------------------------------------------------------------------

    /// Cuts the field values out of `raw` (unescaping quoted fields into scratch_). Precondition: the row is
    /// not oversized.
    void build_fields(std::string_view raw) {
        const size_t count = fields_.size();
        views_.resize(count);
        quoted_.resize(count);
        scratch_.clear();
        bool reserved = false;
        for (size_t field_idx = 0; field_idx < count; ++field_idx) {
            const field_ref& f = fields_[field_idx];
            const auto begin = static_cast<size_t>(f.begin - row_start_);
            const auto end = static_cast<size_t>(f.end - row_start_);
            quoted_[field_idx] = (f.flags & FIELD_QUOTED) != 0 ? 1 : 0;
            if ((f.flags & FIELD_QUOTED) == 0) {
                views_[field_idx] = raw.substr(begin, end - begin);
            } else if ((f.flags & FIELD_COMPLEX) == 0) {
                views_[field_idx] = raw.substr(begin + 1, end - begin - 2);
            } else {
                if (!reserved) {
                    // Unescaped text is never longer than the raw row: scratch_ never moves, views stay valid.
                    scratch_.reserve(raw.size());
                    reserved = true;
                }
                const size_t at = scratch_.size();
                unescape_quoted(raw.substr(begin + 1, end - begin - 1), scratch_);
                views_[field_idx] = std::string_view(scratch_).substr(at);
            }
        }
    }

    /// The column (0-based) holding absolute offset `offset` of the current row, -1 when unknown.
    int64_t column_at(uint64_t offset) const {
        int64_t column = -1;
        for (size_t field_idx = 0; field_idx < fields_.size(); ++field_idx) {
            if (fields_[field_idx].begin > offset) break;
            column = static_cast<int64_t>(field_idx);
        }
        return column;
    }

    std::string column_name(int64_t column) const {
        if (column < 0 || static_cast<size_t>(column) >= names_.size()) return std::string();
        return names_[static_cast<size_t>(column)];
    }

    /// Ends the current row at `end` (just past its line break) and hands it on. False on a sink error.
    bool end_row(uint64_t end) {
        std::string_view raw;
        const uint64_t length = end - row_start_;
        if (row_carried_) {
            if (chunk_ != nullptr && end > chunk_base_) append_capped(chunk_, static_cast<size_t>(end - chunk_base_));
            raw = row_buf_;
        } else {
            raw = std::string_view(chunk_ + (row_start_ - chunk_base_),
                                   static_cast<size_t>(std::min<uint64_t>(length, d.max_row_size)));
        }
        if (length > d.max_row_size) row_oversized_ = true;
        result<void> r = header_done_ ? data_row(raw, end) : header_row(raw);
        fields_.clear();
        row_buf_.clear();
        row_carried_ = false;
        unterminated_ = false;
        if (!r) {
            err_ = std::move(r).err();
            return false;
        }
        return true;
    }

    result<void> header_row(std::string_view raw) {
        const std::string where = "line " + std::to_string(row_line_) + ": header: ";
        if (unterminated_) {
            return make_error(errc::CSV_FILE, where + "a quoted name is not closed before end of input");
        }
        if (row_oversized_) {
            return make_error(errc::CSV_FILE, where + "the header line is over the " + std::to_string(d.max_row_size) +
                                                  "-byte row limit (is this a CSV file?)");
        }
        const size_t bad = find_invalid_utf8(raw);
        if (bad != std::string_view::npos) {
            return make_error(errc::CSV_FILE, where + "not valid UTF-8 at byte offset " +
                                                  std::to_string(row_start_ + bad) +
                                                  " (is this a CSV file? re-encode it as UTF-8)");
        }
        sep_in_header_ = false;
        build_fields(raw);
        names_.clear();
        for (size_t column_idx = 0; column_idx < views_.size(); ++column_idx) {
            if (views_[column_idx].size() > d.max_field_size) {
                return make_error(errc::CSV_FILE, where + "the name of column " + std::to_string(column_idx + 1) +
                                                      " is over the " + std::to_string(d.max_field_size) +
                                                      "-byte field limit");
            }
            names_.emplace_back(trim_blanks(views_[column_idx]));
        }
        const std::string problems = header_name_problems(names_);
        if (!problems.empty()) return make_error(errc::CSV_FILE, where + problems);
        header_done_ = true;
        header hdr{names_, raw, d.delimiter};
        return sink_.on_header(hdr);
    }

    result<void> data_row(std::string_view raw, uint64_t end) {
        if (row_start_ < resume_offset_) return ok();  // before the resume point: read only to count lines
        ++stats_.rows;
        row r;
        r.raw = raw;
        r.line = row_line_;
        r.byte_offset = row_start_;
        r.end_offset = end;
        r.end_line = line_;  // the scan has passed this row's line break
        r.raw_complete = raw.size() == end - row_start_;
        row_problem problem;
        problem.line = row_line_;
        problem.byte_offset = row_start_;
        bool utf8_ok = !row_oversized_;
        if (utf8_ok && !(row_start_ >= valid_begin_ && end <= valid_end_)) {
            const size_t bad = find_invalid_utf8(raw);
            if (bad != std::string_view::npos) {
                utf8_ok = false;
                problem.reason = reject_reason::INVALID_UTF8;
                problem.byte_offset = row_start_ + bad;
                problem.column_index = column_at(row_start_ + bad);
                problem.column = column_name(problem.column_index);
                problem.message = "bytes that are not UTF-8 at offset " + std::to_string(problem.byte_offset) +
                                  ": re-encode the file as UTF-8";
            }
        }
        if (utf8_ok) {
            build_fields(raw);
            r.fields = views_;
            r.quoted = quoted_;
        }
        if (unterminated_) {
            problem.reason = reject_reason::UNTERMINATED_QUOTE;
            problem.byte_offset = fields_.empty() ? row_start_ : fields_.back().begin;
            problem.column_index = fields_.empty() ? -1 : static_cast<int64_t>(fields_.size() - 1);
            problem.column = column_name(problem.column_index);
            problem.message =
                "a quoted field is still open at end of input: close the quote, and double any "
                "quote inside a quoted field (\"\")";
            return bad_row(r, problem);
        }
        if (row_oversized_) {
            problem.reason = reject_reason::ROW_TOO_LARGE;
            problem.message = "row is " + std::to_string(end - row_start_) + " bytes, over the " +
                              std::to_string(d.max_row_size) +
                              "-byte limit: raise max_row_size or look for an unbalanced quote";
            return bad_row(r, problem);
        }
        if (!utf8_ok) return bad_row(r, problem);
        for (size_t field_idx = 0; field_idx < views_.size(); ++field_idx) {
            if (views_[field_idx].size() > d.max_field_size) {
                problem.reason = reject_reason::FIELD_TOO_LARGE;
                problem.column_index = static_cast<int64_t>(field_idx);
                problem.column = column_name(problem.column_index);
                problem.byte_offset = fields_[field_idx].begin;
                problem.message = "field is " + std::to_string(views_[field_idx].size()) + " bytes, over the " +
                                  std::to_string(d.max_field_size) + "-byte limit: raise max_field_size";
                return bad_row(r, problem);
            }
        }
        if (views_.size() != names_.size()) {
            problem.reason = reject_reason::FIELD_COUNT;
            problem.message = "row has " + std::to_string(views_.size()) + " field" + (views_.size() == 1 ? "" : "s") +
                              ", header has " + std::to_string(names_.size()) +
                              ": check the delimiter, and quote fields that contain it or line breaks";
            return bad_row(r, problem);
        }
        return sink_.on_row(r);
    }

    result<void> bad_row(row& r, const row_problem& problem) {
        ++stats_.bad_rows;
        return sink_.on_bad_row(r, problem);
    }
};

reader::reader(dialect d, row_sink& sink) : impl_(std::make_unique<impl>(std::move(d), sink)) {}

reader::~reader() = default;

result<void> reader::write(std::string_view chunk) {
    return impl_->write(chunk);
}

result<void> reader::finish() {
    return impl_->finish();
}

const reader_stats& reader::stats() const noexcept {
    return impl_->stats_;
}

void reader::resume_at(uint64_t offset, uint64_t line) {
    impl_->resume_offset_ = offset;
    impl_->resume_line_ = line;
}

}  // namespace tarius::csv
