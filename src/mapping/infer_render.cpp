// tarius infer, second half: the starter feed as a feeds document, YAML with comments or JSON.
#include <algorithm>
#include <cstdio>
#include <string>

#include "json/writer.hpp"
#include "tarius/infer.hpp"
#include "tarius/text.hpp"

namespace tarius::mapping {
namespace {

constexpr size_t MAX_SHOWN_CELL = 40;        // bytes of a cell quoted in a comment
constexpr size_t MAX_LISTED_CANDIDATES = 8;  // other key candidates named in a comment
constexpr size_t MAX_NAME_COLUMN = 28;       // width of the names in the table of columns

// Words a YAML 1.1 or 1.2 reader may take for a bool, a null or a float when plain.
bool yaml_word(std::string_view text) noexcept {
    for (const char* word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}) {
        if (equals_lower(text, word)) return true;
    }
    return false;
}

bool plain_safe(std::string_view text) noexcept {
    if (text.empty() || text.size() > 200 || yaml_word(text)) return false;
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!letter(text[0])) return false;
    return std::all_of(text.begin(), text.end(),
                       [&letter](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; });
}

// One UTF-8 sequence at text[idx]: its length and code point; an invalid byte reads as U+FFFD of length 1.
size_t next_code_point(std::string_view text, size_t idx, uint32_t& cp) noexcept {
    const auto byte = [&text](size_t at) { return static_cast<uint8_t>(text[at]); };
    const uint8_t lead = byte(idx);
    size_t length = 1;
    cp = 0xFFFD;
    if (lead < 0x80) {
        cp = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        cp = lead & 0x1FU;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        cp = lead & 0x0FU;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        cp = lead & 0x07U;
    } else {
        return 1;
    }
    if (idx + length > text.size()) {
        cp = 0xFFFD;
        return 1;
    }
    for (size_t more = 1; more < length; ++more) {
        if ((byte(idx + more) & 0xC0U) != 0x80) {
            cp = 0xFFFD;
            return 1;
        }
        cp = (cp << 6) | (byte(idx + more) & 0x3FU);
    }
    return length;
}

// Appends `text` with every character outside YAML's printable set, and every line break, escaped as \uXXXX (or
// \t \n \r): what is left is printable for YAML 1.1 (PyYAML) and 1.2 readers and stays on one line. With `quotes`,
// `"` and `\` are escaped too (the body of a double-quoted scalar); without, the text is for a comment.
void append_yaml_escaped(std::string& out, std::string_view text, bool quotes) {
    for (size_t idx = 0; idx < text.size();) {
        uint32_t cp = 0;
        const size_t length = next_code_point(text, idx, cp);
        const bool invalid = cp == 0xFFFD && length == 1 && static_cast<uint8_t>(text[idx]) >= 0x80;
        if (quotes && (cp == '"' || cp == '\\')) {
            out.push_back('\\');
            out.push_back(static_cast<char>(cp));
        } else if (cp == '\t') {
            out += quotes ? "\\t" : " ";
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (invalid || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
                   cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(cp));
            out += escaped;
        } else {
            out.append(text.substr(idx, length));
        }
        idx += length;
    }
}

// A cell shown in a comment: quoted, escaped, cut after MAX_SHOWN_CELL bytes.
std::string shown_cell(std::string_view cell) {
    const std::string_view head = utf8_prefix(cell, MAX_SHOWN_CELL);
    std::string out = "\"";
    append_yaml_escaped(out, head, true);
    if (head.size() < cell.size()) out += "...";
    out += "\"";
    return out;
}

std::string comment_text(std::string_view text) {
    std::string out;
    append_yaml_escaped(out, text, false);
    return out;
}

size_t display_width(std::string_view text) noexcept {
    return static_cast<size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xC0U) != 0x80; }));
}

const char* delimiter_word(char delimiter) noexcept {
    switch (delimiter) {
        case '\t': return "tab";
        case '|': return "pipe";
        case ';': return "semicolon";
        default: return "comma";
    }
}

std::string delimiter_shown(char delimiter) {
    return delimiter == '\t' ? "\"\\t\"" : "\"" + std::string(1, delimiter) + "\"";
}

const char* key_type_letter(const column_profile& col) noexcept {
    return col.type == value_type::NUMBER ? "N" : "S";
}

// The key as NAME:TYPE, one scalar (the name may hold colons: the type is after the last one).
std::string key_text(const column_profile& col) {
    return col.name + ":" + key_type_letter(col);
}

std::string key_scalar(const column_profile& col) {
    if (plain_safe(col.name)) return key_text(col);
    return yaml_scalar(key_text(col));
}

bool is_key(const sample_profile& p, size_t column_idx) {
    return p.keys.partition == column_idx || p.keys.sort == column_idx;
}

// Columns that get a rule: typed ones, except keys (their key type decides, and a rule would only conflict with
// a key type edited later).
std::vector<size_t> ruled_columns(const sample_profile& p) {
    std::vector<size_t> out;
    for (size_t column_idx = 0; column_idx < p.columns.size(); ++column_idx) {
        if (p.columns[column_idx].type != value_type::STRING && !is_key(p, column_idx)) out.push_back(column_idx);
    }
    return out;
}

std::string rows_sampled(const sample_profile& p, const starter_feed& feed) {
    const uint64_t read = p.rows + p.malformed;
    if (p.whole_file) return "all " + std::to_string(read) + (read == 1 ? " row" : " rows") + " of the file";
    return "the first " + std::to_string(feed.max_rows) + " rows";
}

std::string column_notes(const sample_profile& p, size_t column_idx) {
    const column_profile& col = p.columns[column_idx];
    std::vector<std::string> notes;
    if (p.keys.partition == column_idx) {
        notes.emplace_back("the partition key");
    } else if (p.keys.sort == column_idx) {
        notes.emplace_back("the sort key");
    } else if (std::find(p.keys.candidates.begin(), p.keys.candidates.end(), column_idx) != p.keys.candidates.end()) {
        notes.emplace_back("unique");
    }
    if (col.values == 0) notes.emplace_back("always empty in the sample");
    if (col.only_zero_one) notes.emplace_back("only 0 and 1: {type: bool} if it is a flag");
    if (col.hint && !col.hint->currency) {
        notes.push_back("numbers, not all as DynamoDB writes them: " + shown_cell(col.hint->cell) + " (line " +
                        std::to_string(col.hint->line) + ") would be stored as " + col.hint->stored +
                        " by {type: number}");
    }
    if (col.hint && col.hint->currency) {
        notes.push_back("amounts: {type: number, currency: true} would store " + shown_cell(col.hint->cell) +
                        " (line " + std::to_string(col.hint->line) + ") as " + col.hint->stored);
    }
    if (col.name_looks_like_value) notes.emplace_back("its name looks like one of its values");
    std::string out;
    for (const auto& note : notes) out += (out.empty() ? "" : "; ") + note;
    return out;
}

void append_column_table(std::string& out, const sample_profile& p) {
    size_t width = 6;  // "column"
    for (const auto& col : p.columns)
        width = std::max(width, std::min(display_width(yaml_scalar(col.name)), MAX_NAME_COLUMN));
    const auto pad = [](std::string text, size_t to) {
        const size_t shown = display_width(text);
        if (shown < to) text.append(to - shown, ' ');
        return text;
    };
    const auto right = [](const std::string& text, size_t to) {
        return text.size() < to ? std::string(to - text.size(), ' ') + text : text;
    };
    out += "# " + pad("column", width) + "  type    " + right("empty", 7) + "  " + right("distinct", 8) + "  notes\n";
    for (size_t column_idx = 0; column_idx < p.columns.size(); ++column_idx) {
        const column_profile& col = p.columns[column_idx];
        std::string line = "# " + pad(comment_text(yaml_scalar(col.name)), width) + "  " +
                           pad(value_type_name(col.type), 6) + "  " + right(std::to_string(col.empty), 7) + "  " +
                           right(std::to_string(col.distinct), 8);
        const std::string notes = column_notes(p, column_idx);
        if (!notes.empty()) line += "  " + notes;
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
}

std::string names_list(const sample_profile& p, const std::vector<size_t>& columns) {
    std::string out;
    size_t listed = 0;
    for (const size_t column_idx : columns) {
        if (listed == MAX_LISTED_CANDIDATES) {
            out += " and " + std::to_string(columns.size() - listed) + " more";
            break;
        }
        out += (out.empty() ? "" : ", ") + comment_text(yaml_scalar(p.columns[column_idx].name));
        ++listed;
    }
    return out;
}

// The comment above partition_key: which column, and why.
void append_key_comment(std::string& out, const sample_profile& p, const std::string& indent) {
    const column_profile& pk = p.columns[p.keys.partition];
    const std::string pk_name = comment_text(yaml_scalar(pk.name));
    const std::string rows = std::to_string(p.rows);
    switch (p.keys.basis) {
        case key_basis::UNIQUE_COLUMN: {
            std::string why = pk_name + ": non-empty and unique in the " + rows + " sampled rows";
            const auto named = std::count_if(p.keys.candidates.begin(), p.keys.candidates.end(),
                                             [&p](size_t idx) { return p.columns[idx].named_like_key; });
            if (pk.named_like_key) {
                why += named > 1 ? ", the first one named like a key" : ", named like a key";
            } else if (p.keys.candidates.size() > 1) {
                why += ", the first such column (none is named like a key)";
            }
            out += indent + "# The partition key " + why + ".\n";
            std::vector<size_t> others(p.keys.candidates.begin() + 1, p.keys.candidates.end());
            if (others.empty()) {
                out += indent + "# No other column is non-empty and unique in the sample.\n";
            } else {
                out += indent +
                       "# Other key candidates (non-empty and unique in the sample): " + names_list(p, others) + ".\n";
            }
            break;
        }
        case key_basis::UNIQUE_PAIR: {
            const std::string sk_name = comment_text(yaml_scalar(p.columns[*p.keys.sort].name));
            out += indent + "# No single column is non-empty and unique in the " + rows + " sampled rows; " + pk_name +
                   " and " + sk_name + " together are.\n";
            out += indent + "# " + pk_name + " has fewer distinct values (" + std::to_string(pk.distinct) +
                   "): the partition key, " + sk_name + " the sort key.\n";
            break;
        }
        case key_basis::NOT_UNIQUE: {
            out += indent + "# No column, nor pair of columns, is non-empty and unique in the " + rows +
                   " sampled rows:\n";
            out += indent + "# " + pk_name + " has the most distinct values (" + std::to_string(pk.distinct) +
                   (pk.empty ? ", " + std::to_string(pk.empty) + " empty" : std::string()) +
                   "). Rows with equal keys replace each other\n";
            out +=
                indent + "# (the last one wins) and rows with an empty key are rejected: put your table's key here.\n";
            break;
        }
    }
    for (const std::optional<size_t> key : {std::optional<size_t>(p.keys.partition), p.keys.sort}) {
        if (!key || p.columns[*key].type != value_type::NUMBER) continue;
        const std::string name = comment_text(yaml_scalar(p.columns[*key].name));
        out += indent;
        out += "# Type N: every sampled value of ";
        out += name;
        out += " is a number as DynamoDB writes it (";
        out += name;
        out += ":S would keep them as strings).\n";
    }
}

void append_json_key(std::string& out, const char* field, const column_profile& col) {
    out += ",\"";
    out += field;
    out += "\":";
    json::append_string(out, key_text(col));
}

}  // namespace

std::string yaml_scalar(std::string_view text) {
    if (plain_safe(text)) return std::string(text);
    std::string out = "\"";
    append_yaml_escaped(out, text, true);
    out += "\"";
    return out;
}

std::string feed_name_for(std::string_view path) {
    std::string_view base = path;
    if (const size_t slash = base.find_last_of('/'); slash != std::string_view::npos) base = base.substr(slash + 1);
    if (base == "-") base = "";
    bool stripped = true;
    while (stripped) {
        stripped = false;
        for (const std::string_view ending : {".gz", ".zst", ".csv", ".tsv", ".txt", ".psv"}) {
            if (base.size() > ending.size() && equals_lower(base.substr(base.size() - ending.size()), ending)) {
                base.remove_suffix(ending.size());
                stripped = true;
            }
        }
    }
    std::string name;
    for (const char c : base) {
        const char lower = lower_ascii(c);
        if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) {
            name.push_back(lower);
        } else if (!name.empty() && name.back() != '_') {
            name.push_back('_');
        }
        if (name.size() == 64) break;
    }
    while (!name.empty() && name.back() == '_') name.pop_back();
    return name.empty() ? "feed" : name;
}

starter_feed starter_for(std::string_view source, uint64_t max_rows) {
    starter_feed out;
    out.source = std::string(source);
    out.feed_name = feed_name_for(source);
    out.prefix = "raw-data/" + out.feed_name + "/";
    out.table = out.feed_name.size() >= 3 ? out.feed_name : out.feed_name + "_table";
    out.max_rows = max_rows;
    return out;
}

std::string render_feed_yaml(const sample_profile& p, const starter_feed& feed) {
    std::string out;
    const std::string source = comment_text(feed.source);
    out += "# A starter feed for " + source + (p.compression == "none" ? "" : " (" + p.compression + ")") +
           ", inferred by tarius infer from " + rows_sampled(p, feed) + ".\n";
    out += "# Check it on the file, set the placeholders (match, table) and review the key and the types:\n";
    out += "#   tarius validate " + source + " --feeds THIS_FILE\n";
    out += "#\n";
    out += "# Delimiter: " + delimiter_shown(p.delimiter) + " (" + delimiter_word(p.delimiter) + "), " +
           (p.sep_line ? "named by the file's Excel sep= line" : "sniffed from the header line") + ".\n";
    out += "# Header: line " + std::to_string(p.header_line) + " names the " + std::to_string(p.columns.size()) +
           (p.columns.size() == 1 ? " column" : " columns") + " (Tarius reads a file's first line as its header).\n";
    std::vector<size_t> value_like;
    for (size_t column_idx = 0; column_idx < p.columns.size(); ++column_idx) {
        if (p.columns[column_idx].name_looks_like_value) value_like.push_back(column_idx);
    }
    if (!value_like.empty()) {
        out += "#   Warning: the names " + names_list(p, value_like) + " look like values of their columns. If line " +
               std::to_string(p.header_line) +
               " is data, add a header line (or give --header-list A,B,... to tarius validate and tarius load).\n";
    }
    if (p.malformed) {
        out += "# Malformed rows in the sample, left out of what follows: " + std::to_string(p.malformed) + " (";
        for (size_t idx = 0; idx < p.first_malformed.size(); ++idx) {
            out += (idx ? "; line " : "line ") + std::to_string(p.first_malformed[idx].line) + ": " +
                   comment_text(utf8_prefix(p.first_malformed[idx].reason, 120));
        }
        out += p.malformed > p.first_malformed.size() ? "; ...).\n" : ").\n";
    }
    out += "#\n";
    out +=
        "# Types: number when every non-empty cell is a DynamoDB number written as DynamoDB stores it (no \"007\",\n"
        "# \"+5\", \"1.50\"); bool when every one is true/false, yes/no, y/n or 1/0; json when every one is a JSON\n"
        "# object or array; else string, the default, which needs no rule. Empty cells (after trimming blanks\n"
        "# around unquoted cells) are left out of the items. Distinct: distinct non-empty values.\n";
    append_column_table(out, p);
    out += "feeds:\n";
    out += "  " + yaml_scalar(feed.feed_name) + ":\n";
    out +=
        "    # Placeholder: a local file does not say where its objects land. Set the S3 key prefix (and bucket)\n"
        "    # of this feed's objects; suffixes default to .csv, .csv.gz and .csv.zst.\n";
    out += "    match: {prefix: " + yaml_scalar(feed.prefix) + "}\n";
    out += "    # Placeholder: this feed's DynamoDB table.\n";
    out += "    table: " + yaml_scalar(feed.table) + "\n";
    if (p.delimiter != ',') out += std::string("    delimiter: ") + delimiter_word(p.delimiter) + "\n";
    out += "    mapping:\n";
    append_key_comment(out, p, "      ");
    out += "      partition_key: " + key_scalar(p.columns[p.keys.partition]) + "\n";
    if (p.keys.sort) out += "      sort_key: " + key_scalar(p.columns[*p.keys.sort]) + "\n";
    const std::vector<size_t> ruled = ruled_columns(p);
    if (ruled.empty()) {
        out += "      # Every other column is a string, the default: no column rules.\n";
        return out;
    }
    out += "      columns:\n";
    for (const size_t column_idx : ruled) {
        const column_profile& col = p.columns[column_idx];
        out += "        " + yaml_scalar(col.name) + ": {type: " + value_type_name(col.type) + "}\n";
    }
    return out;
}

std::string render_feed_json(const sample_profile& p, const starter_feed& feed) {
    std::string out = "{\"feeds\":{";
    json::append_string(out, feed.feed_name);
    out += ":{\"match\":{\"prefix\":";
    json::append_string(out, feed.prefix);
    out += "},\"table\":";
    json::append_string(out, feed.table);
    if (p.delimiter != ',') {
        out += ",\"delimiter\":";
        json::append_string(out, delimiter_word(p.delimiter));
    }
    out += ",\"mapping\":{\"partition_key\":";
    json::append_string(out, key_text(p.columns[p.keys.partition]));
    if (p.keys.sort) append_json_key(out, "sort_key", p.columns[*p.keys.sort]);
    const std::vector<size_t> ruled = ruled_columns(p);
    if (!ruled.empty()) {
        out += ",\"columns\":{";
        for (size_t idx = 0; idx < ruled.size(); ++idx) {
            const column_profile& col = p.columns[ruled[idx]];
            if (idx) out.push_back(',');
            json::append_string(out, col.name);
            out += ":{\"type\":\"";
            out += value_type_name(col.type);
            out += "\"}";
        }
        out += "}";
    }
    out += "}}}}\n";
    return out;
}

}  // namespace tarius::mapping
