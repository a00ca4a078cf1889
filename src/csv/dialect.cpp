// Delimiter options, Excel's `sep=` line and the header-line sniffer.
#include <array>
#include <string>

#include "tarius/csv.hpp"

namespace tarius::csv {

result<dialect> parse_delimiter(std::string_view text, dialect base) {
    base.sniff_delimiter = false;
    if (text == "," || text == "comma") {
        base.delimiter = ',';
    } else if (text == "\t" || text == "\\t" || text == "tab") {
        base.delimiter = '\t';
    } else if (text == "|" || text == "pipe") {
        base.delimiter = '|';
    } else if (text == ";" || text == "semicolon") {
        base.delimiter = ';';
    } else if (text == "auto") {
        base.sniff_delimiter = true;
        base.delimiter_given = false;
        return base;
    } else {
        return make_error(errc::INVALID_ARGUMENT, "unknown delimiter \"" + std::string(text) +
                                                      "\": use , comma \\t tab | pipe ; semicolon or auto");
    }
    base.delimiter_given = true;
    return base;
}

sep_line find_sep_line(std::string_view text, bool at_end) noexcept {
    constexpr std::string_view PREFIX = "sep=";
    const auto undecided = [at_end] { return sep_line{at_end ? sep_line::status::NONE : sep_line::status::NEED_MORE}; };
    for (size_t idx = 0; idx < PREFIX.size(); ++idx) {
        if (idx == text.size()) return undecided();
        const char c = text[idx];
        const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != PREFIX[idx]) return sep_line{sep_line::status::NONE};
    }
    const size_t at = PREFIX.size();
    if (at == text.size()) return at_end ? sep_line{sep_line::status::MALFORMED} : undecided();
    const char named = text[at];
    if (named == '\n' || named == '\r') return sep_line{sep_line::status::MALFORMED};
    sep_line found{sep_line::status::FOUND, named, at + 1};
    if (at + 1 == text.size()) return at_end ? found : undecided();
    const char after = text[at + 1];
    if (after == '\n') {
        found.length = at + 2;
    } else if (after == '\r') {
        // CRLF or a lone CR: the byte after the CR decides, or the end of input.
        if (at + 2 == text.size()) {
            if (!at_end) return undecided();
            found.length = at + 2;
        } else {
            found.length = text[at + 2] == '\n' ? at + 3 : at + 2;
        }
    } else {
        return sep_line{sep_line::status::MALFORMED};
    }
    return found;
}

char sniff_delimiter(std::string_view header_line) noexcept {
    // Candidates in order of preference: a tie goes to the earlier one.
    constexpr std::array<char, 4> candidates = {',', '\t', '|', ';'};
    std::array<size_t, 4> counts{};
    bool in_quotes = false;
    for (const char c : header_line) {
        if (c == '"') {
            in_quotes = !in_quotes;
            continue;
        }
        if (in_quotes) continue;
        if (c == '\n' || c == '\r') break;
        for (size_t cand_idx = 0; cand_idx < candidates.size(); ++cand_idx) {
            if (c == candidates[cand_idx]) ++counts[cand_idx];
        }
    }
    size_t best = 0;
    for (size_t cand_idx = 1; cand_idx < candidates.size(); ++cand_idx) {
        if (counts[cand_idx] > counts[best]) best = cand_idx;
    }
    return candidates[best];
}

}  // namespace tarius::csv
