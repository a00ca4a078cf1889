// tarius infer, first half: read the start of a file and decide a type per column and the key candidates.
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "mapping/codec.hpp"
#include "mapping/number.hpp"
#include "tarius/infer.hpp"

namespace tarius::mapping {
namespace {

constexpr size_t MAX_MALFORMED_KEPT = 3;
// Pairs are searched among this many columns (the best ranked): 120 pairs, each one sort of the sample's hashes.
constexpr size_t MAX_PAIR_COLUMNS = 16;

std::string_view trim_blanks(std::string_view text) noexcept {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
    return text.substr(begin, end - begin);
}

// Asks the encoder itself whether a column of `type` takes a cell, so that whatever infer calls bool or json is
// exactly what validate and load accept: a two-column item (a key, then the cell).
class cell_probe {
public:
    cell_probe(value_type type, bool currency) : encoder_(bind(type, currency)) {}

    // True when the cell becomes an attribute of the type; `stored` gets a NUMBER's canonical text.
    bool accepts(std::string_view cell, bool quoted, std::string* stored = nullptr) {
        fields_[1] = cell;
        quoted_[1] = quoted ? 1 : 0;
        csv::row r;
        r.fields = fields_;
        r.quoted = quoted_;
        if (!encoder_.encode(r, item_, problem_)) return false;
        if (stored == nullptr) return true;
        // The item is {"k":{"S":"k"},"v":{"N":"<canonical>"}}; a cell the type leaves out has no "v".
        constexpr std::string_view NUMBER_AT = "\"v\":{\"N\":\"";
        const size_t at = item_.json.find(NUMBER_AT);
        if (at == std::string::npos) return false;
        const size_t begin = at + NUMBER_AT.size();
        stored->assign(item_.json, begin, item_.json.find('"', begin) - begin);
        return true;
    }

private:
    static item_encoder bind(value_type type, bool currency) {
        mapping m;
        column_rule rule;
        rule.column = "v";
        rule.type = type;
        rule.currency = currency;
        m.columns.push_back(rule);
        key_schema keys;
        keys.partition.name = "k";
        const std::array<std::string, 2> header = {"k", "v"};
        auto bound = item_encoder::bind(m, keys, header);
        TARIUS_ASSERT(bound.has_value());  // a fixed, valid mapping
        return std::move(bound).value();
    }

    item_encoder encoder_;
    encoded_item item_;
    row_problem problem_;
    std::array<std::string_view, 2> fields_ = {"k", ""};
    std::array<uint8_t, 2> quoted_ = {0, 0};
};

// What the rows read so far say about one column.
struct column_state {
    uint64_t values = 0;
    uint64_t empty = 0;
    size_t max_bytes = 0;
    bool canonical = true;  // every value a canonical number
    bool number = true;     // every value a number in some spelling
    bool currency = true;   // every value a number or an amount
    bool boolean = true;
    bool json = true;
    bool zero_one = true;
    std::optional<number_hint> number_hint_;
    std::optional<number_hint> currency_hint_;
    std::vector<uint64_t> hashes;  // one per well-formed row: the value's hash, 0 for an empty cell
};

// The name's last word (split at non-alphanumerics and lower→upper case changes) says "identifier".
bool named_like_key(std::string_view name) {
    std::string last;
    std::string word;
    char prev = 0;
    for (const char c : name) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        const bool lower_to_upper = prev >= 'a' && prev <= 'z' && c >= 'A' && c <= 'Z';
        if (!alnum || lower_to_upper) {
            if (!word.empty()) last = std::move(word);
            word.clear();
        }
        if (alnum) word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        prev = c;
    }
    if (!word.empty()) last = std::move(word);
    for (const char* key_word : {"id", "key", "uuid", "guid", "sku", "pk"}) {
        if (last == key_word) return true;
    }
    return false;
}

bool keyable(const column_profile& col) {
    return col.type == value_type::STRING || col.type == value_type::NUMBER;
}

uint64_t count_distinct(std::vector<uint64_t> hashes) {
    std::sort(hashes.begin(), hashes.end());
    uint64_t distinct = 0;
    for (size_t idx = 0; idx < hashes.size(); ++idx) {
        if (hashes[idx] != 0 && (idx == 0 || hashes[idx] != hashes[idx - 1])) ++distinct;
    }
    return distinct;
}

bool pair_unique(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
    std::vector<uint64_t> combined(a.size());
    for (size_t row_idx = 0; row_idx < a.size(); ++row_idx) {
        std::array<char, 16> bytes{};
        std::memcpy(bytes.data(), &a[row_idx], 8);
        std::memcpy(bytes.data() + 8, &b[row_idx], 8);
        combined[row_idx] = detail::hash64(std::string_view(bytes.data(), bytes.size()));
    }
    std::sort(combined.begin(), combined.end());
    return std::adjacent_find(combined.begin(), combined.end()) == combined.end();
}

key_suggestion suggest_keys(const std::vector<column_profile>& columns, const std::vector<column_state>& states,
                            uint64_t rows) {
    key_suggestion out;
    // Best first: named like a key, then leftmost.
    std::vector<size_t> ranked(columns.size());
    for (size_t column_idx = 0; column_idx < ranked.size(); ++column_idx) ranked[column_idx] = column_idx;
    std::stable_sort(ranked.begin(), ranked.end(), [&columns](size_t a, size_t b) {
        return columns[a].named_like_key && !columns[b].named_like_key;
    });
    const auto never_empty = [&columns](size_t idx) { return columns[idx].empty == 0 && columns[idx].values > 0; };
    for (const size_t column_idx : ranked) {
        const column_profile& col = columns[column_idx];
        if (never_empty(column_idx) && keyable(col) && col.distinct == rows &&
            col.max_bytes <= MAX_PARTITION_KEY_SIZE) {
            out.candidates.push_back(column_idx);
        }
    }
    if (!out.candidates.empty()) {
        out.basis = key_basis::UNIQUE_COLUMN;
        out.partition = out.candidates.front();
        return out;
    }
    std::vector<size_t> eligible;
    for (const size_t column_idx : ranked) {
        if (never_empty(column_idx) && keyable(columns[column_idx]) && eligible.size() < MAX_PAIR_COLUMNS) {
            eligible.push_back(column_idx);
        }
    }
    for (size_t first = 0; first < eligible.size(); ++first) {
        for (size_t second = first + 1; second < eligible.size(); ++second) {
            size_t partition = eligible[first];
            size_t sort = eligible[second];
            // The column with fewer distinct values groups the items (an entity and its versions, a product and
            // its stores); a tie keeps header order.
            if (columns[sort].distinct < columns[partition].distinct ||
                (columns[sort].distinct == columns[partition].distinct && sort < partition)) {
                std::swap(partition, sort);
            }
            if (columns[partition].max_bytes > MAX_PARTITION_KEY_SIZE || columns[sort].max_bytes > MAX_SORT_KEY_SIZE) {
                std::swap(partition, sort);
                if (columns[partition].max_bytes > MAX_PARTITION_KEY_SIZE ||
                    columns[sort].max_bytes > MAX_SORT_KEY_SIZE) {
                    continue;
                }
            }
            if (!pair_unique(states[partition].hashes, states[sort].hashes)) continue;
            out.basis = key_basis::UNIQUE_PAIR;
            out.partition = partition;
            out.sort = sort;
            return out;
        }
    }
    // Nothing is unique: the column a key would collapse least, never empty and keyable if possible.
    out.basis = key_basis::NOT_UNIQUE;
    const auto score = [&](size_t idx) {
        return std::make_tuple(never_empty(idx), keyable(columns[idx]), columns[idx].distinct,
                               columns[idx].named_like_key);
    };
    size_t best = 0;
    for (size_t column_idx = 1; column_idx < columns.size(); ++column_idx) {
        if (score(column_idx) > score(best)) best = column_idx;
    }
    out.partition = best;
    return out;
}

}  // namespace

struct sampler::impl final : public csv::row_sink {
    explicit impl(sample_options opts)
        : options(std::move(opts)),
          reader(options.dialect, *this),
          decoder(make_decoding_sink(reader)),
          bool_probe(value_type::BOOL, false),
          json_probe(value_type::JSON, false),
          number_probe(value_type::NUMBER, false),
          currency_probe(value_type::NUMBER, true) {
        TARIUS_ASSERT(options.max_rows >= 1);
    }

    result<void> on_header(const csv::header& hdr) override {
        header_seen = true;
        profile.delimiter = hdr.delimiter;
        profile.sep_line = csv::find_sep_line(hdr.raw, true).found == csv::sep_line::status::FOUND;
        // The header is the last line of `raw` (a `sep=` line and blank lines may come first).
        uint64_t breaks = 0;
        for (size_t idx = 0; idx < hdr.raw.size(); ++idx) {
            if (hdr.raw[idx] == '\n' ||
                (hdr.raw[idx] == '\r' && (idx + 1 == hdr.raw.size() || hdr.raw[idx + 1] != '\n'))) {
                ++breaks;
            }
        }
        const bool ends_with_break = !hdr.raw.empty() && (hdr.raw.back() == '\n' || hdr.raw.back() == '\r');
        profile.header_line = ends_with_break ? breaks : breaks + 1;
        profile.columns.resize(hdr.names.size());
        states.resize(hdr.names.size());
        for (size_t column_idx = 0; column_idx < hdr.names.size(); ++column_idx) {
            profile.columns[column_idx].name = hdr.names[column_idx];
        }
        return ok();
    }

    result<void> on_row(const csv::row& r) override {
        TARIUS_TRY(count_row());
        ++profile.rows;
        for (size_t column_idx = 0; column_idx < states.size(); ++column_idx) {
            const bool quoted = column_idx < r.quoted.size() && r.quoted[column_idx] != 0;
            observe(states[column_idx], r.fields[column_idx], quoted, r.line);
        }
        return ok();
    }

    result<void> on_bad_row(const csv::row& r, const row_problem& problem) override {
        TARIUS_TRY(count_row());
        ++profile.malformed;
        if (profile.first_malformed.size() < MAX_MALFORMED_KEPT) {
            profile.first_malformed.push_back({r.line, problem.message});
        }
        return ok();
    }

    // Stops the reader at the first row past the sample, so the sample knows whether it is the whole file.
    result<void> count_row() {
        if (rows_seen == options.max_rows) {
            stopped = true;
            return make_error(errc::CANCELLED, "the sample is complete");
        }
        ++rows_seen;
        return ok();
    }

    void observe(column_state& st, std::string_view cell, bool quoted, uint64_t line) {
        // As a string column reads it: blanks around an unquoted cell trimmed, a quoted cell kept exactly.
        const std::string_view text = quoted ? cell : trim_blanks(cell);
        if (text.empty()) {
            ++st.empty;
            st.hashes.push_back(0);
            return;
        }
        ++st.values;
        st.max_bytes = std::max(st.max_bytes, text.size());
        const uint64_t hash = detail::hash64(text);
        st.hashes.push_back(hash == 0 ? 1 : hash);
        // Typed columns trim blanks even inside quotes: a cell of quoted blanks would be left out of the item, so
        // no typed column keeps it as it is.
        const std::string_view typed = trim_blanks(cell);
        if (typed.empty()) {
            st.canonical = st.number = st.currency = st.boolean = st.json = st.zero_one = false;
            return;
        }
        if (st.zero_one && text != "0" && text != "1") st.zero_one = false;
        if (!detail::is_canonical_number(text)) {
            st.canonical = false;
            std::string stored;
            if (st.number) {
                if (number_probe.accepts(cell, quoted, &stored)) {
                    if (!st.number_hint_) st.number_hint_ = number_hint{false, line, std::string(text), stored};
                } else {
                    st.number = false;
                }
            }
            if (st.currency) {
                if (currency_probe.accepts(cell, quoted, &stored)) {
                    if (!st.currency_hint_) st.currency_hint_ = number_hint{true, line, std::string(text), stored};
                } else {
                    st.currency = false;
                }
            }
        }
        // Every bool spelling is at most 5 bytes; every JSON container starts with a bracket.
        if (st.boolean && (typed.size() > 5 || !bool_probe.accepts(cell, quoted))) st.boolean = false;
        if (st.json && ((typed[0] != '{' && typed[0] != '[') || !json_probe.accepts(cell, quoted))) st.json = false;
    }

    void decide() {
        for (size_t column_idx = 0; column_idx < states.size(); ++column_idx) {
            column_state& st = states[column_idx];
            column_profile& col = profile.columns[column_idx];
            col.values = st.values;
            col.empty = st.empty;
            col.max_bytes = st.max_bytes;
            col.distinct = count_distinct(st.hashes);
            col.named_like_key = named_like_key(col.name);
            if (st.values == 0) continue;  // nothing says what it holds: a string
            if (st.canonical) {
                col.type = value_type::NUMBER;
                col.only_zero_one = st.zero_one;
                std::string canonical;
                std::string message;
                col.name_looks_like_value = detail::append_canonical_number(col.name, canonical, message) != 0;
            } else if (st.boolean) {
                col.type = value_type::BOOL;
                col.name_looks_like_value = col.name.size() <= 5 && bool_probe.accepts(col.name, false);
            } else if (st.json) {
                col.type = value_type::JSON;
                col.name_looks_like_value = !col.name.empty() && (col.name[0] == '{' || col.name[0] == '[');
            } else if (st.number && st.number_hint_) {
                col.hint = st.number_hint_;
            } else if (st.currency && st.currency_hint_) {
                col.hint = st.currency_hint_;
            }
        }
        profile.keys = suggest_keys(profile.columns, states, profile.rows);
    }

    sample_options options;
    csv::reader reader;
    std::unique_ptr<byte_sink> decoder;
    cell_probe bool_probe;
    cell_probe json_probe;
    cell_probe number_probe;
    cell_probe currency_probe;
    sample_profile profile;
    std::vector<column_state> states;
    uint64_t rows_seen = 0;  // rows read, well-formed or not
    bool header_seen = false;
    bool stopped = false;
};

sampler::sampler(sample_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
sampler::~sampler() = default;

byte_sink& sampler::input() noexcept {
    return *impl_->decoder;
}

result<sample_profile> sampler::finish(result<void> fed) {
    impl& s = *impl_;
    if (!fed && !s.stopped) return std::move(fed).err();
    if (!s.header_seen) return make_error(errc::CSV_FILE, "file is empty: no header line");
    s.profile.whole_file = !s.stopped;
    s.profile.compression = compression_name(detected_compression(*s.decoder));
    const std::string header_at = "the header (line " + std::to_string(s.profile.header_line) + ")";
    if (s.rows_seen == 0) {
        return make_error(errc::CSV_FILE, "no rows after " + header_at + ": there is nothing to infer types from");
    }
    if (s.profile.rows == 0) {
        const malformed_row& first = s.profile.first_malformed.front();
        return make_error(errc::CSV_FILE, "every sampled row is malformed (" + std::to_string(s.profile.malformed) +
                                              " rows; line " + std::to_string(first.line) + ": " + first.reason +
                                              "): there is nothing to infer types from");
    }
    s.decide();
    return std::move(s.profile);
}

result<sample_profile> profile_bytes(std::string_view bytes, const sample_options& options) {
    sampler s(options);
    result<void> fed = s.input().write(bytes);
    if (fed) fed = s.input().finish();
    return s.finish(std::move(fed));
}

}  // namespace tarius::mapping
