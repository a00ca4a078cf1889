// Delimiter options and the header-line sniffer.
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
    } else {
        return make_error(errc::INVALID_ARGUMENT, "unknown delimiter \"" + std::string(text) +
                                                      "\": use , comma \\t tab | pipe ; semicolon or auto");
    }
    return base;
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
