// item_encoder: binds a mapping to a header, then turns rows into DynamoDB JSON items.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "json/writer.hpp"
#include "mapping/codec.hpp"
#include "mapping/number.hpp"
#include "mapping/timestamp.hpp"
#include "tarius/mapping.hpp"
#include "tarius/text.hpp"

namespace tarius::mapping {
namespace {

namespace od = simdjson::ondemand;

enum class key_role : uint8_t { NONE, PARTITION, SORT };

// DynamoDB's documented limit for nested attributes.
constexpr int MAX_JSON_DEPTH = 32;
// Cell text quoted in messages is cut to this many bytes.
constexpr size_t MESSAGE_CELL_BYTES = 48;
// A string attribute's head (`,"name":{"S":"`) up to this size is written with one fixed-size copy.
constexpr size_t HEAD_BYTES = 32;

// The item's JSON under construction, written through a raw pointer into `storage`, whose size is the room in
// use: grown by doubling (zero-filled once), never shrunk, so that writing an attribute costs one room check
// instead of a std::string append (call, check, terminator) per piece.
class json_out {
public:
    explicit json_out(std::string& storage) noexcept : storage_(storage) {}

    // Returns where to write `n` more bytes. Invalidates pointers returned before.
    char* reserve(size_t n) {
        if (capacity_ - size_ < n) grow(n);
        return base_ + size_;
    }
    // Marks the bytes up to `end` (inside the last reserve) as written.
    void commit(const char* end) noexcept { size_ = static_cast<size_t>(end - base_); }
    void append(std::string_view text) {
        char* at = reserve(text.size());
        if (!text.empty()) std::memcpy(at, text.data(), text.size());
        size_ += text.size();
    }
    void push_back(char ch) {
        *reserve(1) = ch;
        ++size_;
    }
    void clear() noexcept { size_ = 0; }
    [[nodiscard]] size_t size() const noexcept { return size_; }
    [[nodiscard]] std::string_view view() const noexcept { return std::string_view(base_, size_); }

private:
    // The storage's address and size are kept here rather than read through the std::string: the bytes written
    // through char pointers may alias anything, so values read through references would be reloaded after
    // every write.
    void grow(size_t n) {
        storage_.resize(std::max(storage_.size() * 2, size_ + n + 256));
        base_ = storage_.data();
        capacity_ = storage_.size();
    }

    std::string& storage_;
    char* base_ = nullptr;
    size_t capacity_ = 0;
    size_t size_ = 0;
};

// Appends `text` JSON-escaped: one room check and one wide copy when nothing needs escaping (the usual case).
void append_escaped(json_out& out, std::string_view text) {
    char* at = out.reserve(text.size());
    const size_t clean = json::copy_unescaped(at, text.data(), text.size());
    out.commit(at + clean);
    if (clean == text.size()) return;
    const size_t rest = text.size() - clean;
    at = out.reserve(json::MAX_ESCAPED_BYTES * rest);
    out.commit(json::write_escaped(at, text.data() + clean, rest));
}

struct column_plan {
    std::string column;     // header name
    std::string attribute;  // attribute name
    std::string prefix;     // `"attribute":{`
    std::string s_prefix;   // `"attribute":{"S":"`, the hot path for strings
    // `,"attribute":{"S":"` zero-padded, so that the head of a string attribute is one fixed-size copy.
    std::array<char, HEAD_BYTES + 1> s_head{};
    size_t s_head_size = 0;  // bytes of s_head in use, the comma included; > HEAD_BYTES: copy s_prefix instead
    value_type type = value_type::STRING;
    empty_policy empty = empty_policy::OMIT;
    bool trim = true;
    bool currency = false;
    bool skip = false;
    key_role role = key_role::NONE;
    bool plain_string = false;  // type STRING, not a key, not skipped: the fast path of encode_columns
    key_type key = key_type::S;
    std::string separator = ",";
};

[[gnu::always_inline]] inline std::string_view trim_blanks(std::string_view text) noexcept {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
    return text.substr(begin, end - begin);
}

// Quotes `cell` for a message, cut at a UTF-8 boundary so the message stays valid UTF-8.
std::string quote_cell(std::string_view cell) {
    std::string quoted = "\"";
    if (cell.size() <= MESSAGE_CELL_BYTES) {
        quoted.append(cell);
    } else {
        size_t cut = MESSAGE_CELL_BYTES;
        while (cut > 0 && (static_cast<uint8_t>(cell[cut]) & 0xc0) == 0x80) --cut;
        quoted.append(cell.substr(0, cut));
        quoted.append("...");
    }
    quoted.push_back('"');
    return quoted;
}

// Length of a currency sign at the start of `text`: `$`, U+00A2..U+00A5 (¢ £ ¤ ¥) or the Currency Symbols
// block U+20A0..U+20CF (€ ₹ ₩ ₽ ₺ ...); 0 when none.
size_t currency_sign_length(std::string_view text) noexcept {
    if (text.empty()) return 0;
    const auto byte0 = static_cast<uint8_t>(text[0]);
    if (byte0 == '$') return 1;
    if (text.size() >= 2 && byte0 == 0xc2) {
        const auto byte1 = static_cast<uint8_t>(text[1]);
        if (byte1 >= 0xa2 && byte1 <= 0xa5) return 2;
    }
    if (text.size() >= 3 && byte0 == 0xe2) {
        const auto byte1 = static_cast<uint8_t>(text[1]);
        const auto byte2 = static_cast<uint8_t>(text[2]);
        if ((byte1 == 0x82 && byte2 >= 0xa0) || (byte1 == 0x83 && byte2 <= 0x8f)) return 3;
    }
    return 0;
}

bool is_digit(char ch) noexcept {
    return ch >= '0' && ch <= '9';
}

// True when `integer` (digits and commas, at least one comma) groups its digits as people write amounts: a first
// group of 1 to 3 digits without a leading zero, then groups of three (1,234,567), or, in the Indian lakh/crore
// grouping, a first group of 1 or 2 digits, groups of two and a last group of three (12,34,567). Anything else
// ("1,5", "1,000,00", "0,50") is more likely a decimal comma or a typo than a thousands separator, so it is not
// guessed at.
bool is_well_grouped(std::string_view integer) noexcept {
    if (integer.empty() || integer[0] == '0' || integer[0] == ',') return false;
    const size_t first = integer.find(',');
    bool western = first <= 3;
    bool indian = first <= 2;
    size_t pos = first;
    while (pos < integer.size() && (western || indian)) {
        size_t next = integer.find(',', pos + 1);
        if (next == std::string_view::npos) next = integer.size();
        const size_t length = next - pos - 1;
        const bool last = next == integer.size();
        western = western && length == 3;
        indian = indian && length == (last ? 3U : 2U);
        pos = next;
    }
    return western || indian;
}

constexpr const char* MALFORMED_GROUPING =
    "malformed digit grouping: a first group of 1 to 3 digits (no leading zero), then groups of three "
    "(1,234,567), or in Indian grouping groups of two and a last group of three (12,34,567)";

// Strips one leading currency sign (also after a leading sign) and the thousands separators of the integer part,
// which must be well grouped (see is_well_grouped). Sets `text` to `cell` itself when there is nothing to strip,
// else to a view of `scratch`; returns false (and `text` is unset) on a malformed grouping.
bool strip_currency(std::string_view cell, std::string& scratch, std::string_view& text) {
    size_t pos = 0;
    char sign = 0;
    if (!cell.empty() && (cell[0] == '-' || cell[0] == '+')) {
        sign = cell[0];
        pos = 1;
    }
    const size_t sign_length = currency_sign_length(cell.substr(pos));
    if (sign_length > 0) {
        pos += sign_length;
        while (pos < cell.size() && cell[pos] == ' ') ++pos;
        if (sign == 0 && pos < cell.size() && (cell[pos] == '-' || cell[pos] == '+')) sign = cell[pos++];
    }
    const std::string_view rest = cell.substr(pos);
    size_t integer_end = 0;
    bool grouped = false;
    while (integer_end < rest.size() && (is_digit(rest[integer_end]) || rest[integer_end] == ',')) {
        grouped = grouped || rest[integer_end] == ',';
        ++integer_end;
    }
    if (sign_length == 0 && !grouped) {
        text = cell;
        return true;
    }
    const std::string_view integer = rest.substr(0, integer_end);
    if (grouped && !is_well_grouped(integer)) return false;
    scratch.clear();
    if (sign != 0) scratch.push_back(sign);
    for (const char ch : integer) {
        if (ch != ',') scratch.push_back(ch);
    }
    scratch.append(rest.substr(integer_end));
    text = scratch;
    return true;
}

// The JSON number grammar (RFC 8259 §6), stricter than DynamoDB's: JSON cells must be valid JSON.
bool is_json_number(std::string_view text) noexcept {
    size_t pos = 0;
    const size_t size = text.size();
    if (pos < size && text[pos] == '-') ++pos;
    if (pos >= size) return false;
    if (text[pos] == '0') {
        ++pos;
    } else if (is_digit(text[pos])) {
        while (pos < size && is_digit(text[pos])) ++pos;
    } else {
        return false;
    }
    if (pos < size && text[pos] == '.') {
        ++pos;
        const size_t begin = pos;
        while (pos < size && is_digit(text[pos])) ++pos;
        if (pos == begin) return false;
    }
    if (pos < size && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        if (pos < size && (text[pos] == '+' || text[pos] == '-')) ++pos;
        const size_t begin = pos;
        while (pos < size && is_digit(text[pos])) ++pos;
        if (pos == begin) return false;
    }
    return pos == size;
}

std::string_view trim_json_token(std::string_view token) noexcept {
    while (!token.empty() &&
           (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' || token.back() == '\r')) {
        token.remove_suffix(1);
    }
    return token;
}

std::string join_header(std::span<const std::string> header) {
    std::string joined;
    for (const auto& name : header) {
        if (!joined.empty()) joined += ", ";
        joined += name;
    }
    return joined;
}

const char* key_type_name(key_type type) noexcept {
    switch (type) {
        case key_type::S: return "S";
        case key_type::N: return "N";
        case key_type::B: return "B";
    }
    return "?";
}

}  // namespace

struct item_encoder::plan {
    std::vector<column_plan> columns;
    std::string json_storage;  // see json_out; declared before `buf`, which refers to it
    json_out buf{json_storage};
    // Scratch space reused from row to row so that encoding does not allocate in the steady state.
    std::string currency_scratch;
    std::string number_scratch;
    std::string timestamp_scratch;
    std::string message;
    std::string sort_key;
    std::string json_buffer;
    std::string set_arena;
    std::vector<std::pair<size_t, size_t>> set_spans;  // (offset, length) into the cell or set_arena
    std::vector<size_t> set_sizes;
    std::vector<uint32_t> set_order;
    std::vector<uint8_t> set_keep;
    std::vector<std::string_view> json_keys;
    od::parser json_parser;

    bool fail(row_problem& problem, reject_reason reason, size_t column_idx, std::string message_text) {
        problem.reason = reason;
        problem.column_index = static_cast<int64_t>(column_idx);
        problem.column = columns[column_idx].column;
        problem.message = std::move(message_text);
        return false;
    }

    void begin_attribute(const column_plan& col, encoded_item& out) {
        if (out.attributes++ > 0) buf.push_back(',');
        buf.append(col.prefix);
        out.size += col.attribute.size();
    }

    // The hot path: `,"name":{"S":"<escaped text>"}` with one room check, a fixed-size copy of the head and a
    // wide copy of the text.
    // Out of line for the rarer callers (keys, empty cells kept, auto); encode_columns inlines emit_plain.
    [[gnu::noinline]] void emit_string(const column_plan& col, std::string_view text, encoded_item& out) {
        emit_plain(col, text, out);
    }

    [[gnu::always_inline]] void emit_plain(const column_plan& col, std::string_view text, encoded_item& out) {
        // Everything is read before the first byte is written (see json_out).
        const size_t skip = out.attributes == 0 ? 1 : 0;  // no comma before the first attribute
        out.attributes += 1;
        out.size += col.attribute.size() + text.size();
        const size_t head = col.s_head_size - skip;
        const char* head_bytes = col.s_head.data() + skip;
        const bool short_head = col.s_head_size <= HEAD_BYTES;
        char* at = buf.reserve(std::max(HEAD_BYTES, head) + text.size() + 2);
        if (short_head) [[likely]] {
            std::memcpy(at, head_bytes, HEAD_BYTES);
        } else {
            if (skip == 0) *at = ',';
            std::memcpy(at + 1 - skip, col.s_prefix.data(), col.s_prefix.size());
        }
        at += head;
        const size_t clean = json::copy_unescaped(at, text.data(), text.size());
        at += clean;
        if (clean != text.size()) [[unlikely]] {
            buf.commit(at);
            const size_t rest = text.size() - clean;
            at = buf.reserve(json::MAX_ESCAPED_BYTES * rest + 2);
            at = json::write_escaped(at, text.data() + clean, rest);
        }
        at[0] = '"';
        at[1] = '}';
        buf.commit(at + 2);
    }

    void emit_scalar(const column_plan& col, std::string_view tag_and_value, size_t value_size, encoded_item& out) {
        begin_attribute(col, out);
        buf.append(tag_and_value);
        buf.push_back('}');
        out.size += value_size;
    }

    // Number text (currency stripped when asked) canonicalised into number_scratch; returns its size or 0.
    size_t canonical_number(const column_plan& col, std::string_view cell) {
        std::string_view text = cell;
        if (col.currency && !strip_currency(cell, currency_scratch, text)) {
            message = MALFORMED_GROUPING;
            return 0;
        }
        number_scratch.clear();
        return detail::append_canonical_number(text, number_scratch, message);
    }

    bool encode_key(size_t column_idx, std::string_view cell, encoded_item& out, row_problem& problem) {
        const column_plan& col = columns[column_idx];
        const bool partition = col.role == key_role::PARTITION;
        const char* role_name = partition ? "partition key" : "sort key";
        if (cell.empty()) {
            return fail(
                problem, reject_reason::EMPTY_KEY, column_idx,
                std::string(role_name) + " " + col.attribute + " is empty; DynamoDB key values cannot be empty");
        }
        std::string& key_bytes = partition ? out.key : sort_key;
        const size_t limit = partition ? MAX_PARTITION_KEY_SIZE : MAX_SORT_KEY_SIZE;
        size_t value_size = 0;
        key_bytes.push_back(key_type_name(col.key)[0]);
        const size_t value_begin = key_bytes.size();
        switch (col.key) {
            case key_type::S:
                value_size = cell.size();
                if (value_size > limit) break;
                emit_string(col, cell, out);
                key_bytes.append(cell);
                out.size -= cell.size();  // added again below, like the other key types
                break;
            case key_type::N: {
                value_size = canonical_number(col, cell);
                if (value_size == 0) {
                    return fail(
                        problem, reject_reason::INVALID_NUMBER, column_idx,
                        std::string(role_name) + " " + quote_cell(cell) + " is not a DynamoDB number: " + message);
                }
                begin_attribute(col, out);
                buf.append("\"N\":\"");
                buf.append(number_scratch);
                buf.append("\"}");
                key_bytes.append(number_scratch);
                break;
            }
            case key_type::B: {
                value_size = detail::base64_decoded_size(cell);
                if (value_size == detail::INVALID_BASE64) {
                    return fail(problem, reject_reason::INVALID_BINARY, column_idx,
                                std::string(role_name) + " " + quote_cell(cell) +
                                    " is not base64 (standard alphabet, padded with =)");
                }
                if (value_size > limit) break;
                begin_attribute(col, out);
                buf.append("\"B\":\"");
                buf.append(cell);
                buf.append("\"}");
                detail::append_base64_decoded(cell, key_bytes);
                break;
            }
        }
        if (value_size > limit) {
            return fail(problem, reject_reason::KEY_TOO_LARGE, column_idx,
                        std::string(role_name) + " " + col.attribute + " is " + std::to_string(value_size) +
                            " bytes; DynamoDB allows at most " + std::to_string(limit));
        }
        out.size += value_size;
        // The length after the value keeps partition+sort concatenations unambiguous (read from the end).
        const size_t value_length = key_bytes.size() - value_begin;
        key_bytes.push_back(static_cast<char>((value_length >> 8) & 0xff));
        key_bytes.push_back(static_cast<char>(value_length & 0xff));
        return true;
    }

    // Splits `cell` on the separator into set_spans (trimmed, empties dropped); for number sets the canonical
    // forms go to set_arena. Returns false on an invalid number element.
    bool split_elements(const column_plan& col, std::string_view cell, bool numbers, size_t column_idx,
                        row_problem& problem) {
        set_spans.clear();
        set_sizes.clear();
        set_arena.clear();
        size_t pos = 0;
        size_t element_idx = 0;
        while (pos <= cell.size()) {
            size_t end = cell.find(col.separator, pos);
            if (end == std::string_view::npos) end = cell.size();
            const std::string_view raw = cell.substr(pos, end - pos);
            pos = end + col.separator.size();
            const std::string_view element = trim_blanks(raw);
            ++element_idx;
            if (element.empty()) continue;
            if (numbers) {
                const size_t offset = set_arena.size();
                const size_t size = canonical_number(col, element);
                if (size == 0) {
                    return fail(problem, reject_reason::INVALID_NUMBER, column_idx,
                                "element " + std::to_string(element_idx) + " " + quote_cell(element) +
                                    " is not a DynamoDB number: " + message);
                }
                set_arena.append(number_scratch);
                set_spans.emplace_back(offset, number_scratch.size());
                set_sizes.push_back(size);
            } else {
                set_spans.emplace_back(static_cast<size_t>(element.data() - cell.data()), element.size());
                set_sizes.push_back(element.size());
            }
        }
        return true;
    }

    // Marks repeated elements in set_keep (first occurrence kept); sorting indices avoids quadratic time.
    void mark_duplicates(std::string_view base) {
        const size_t count = set_spans.size();
        set_keep.assign(count, 1);
        auto view_of = [&](uint32_t idx) { return base.substr(set_spans[idx].first, set_spans[idx].second); };
        if (count <= 16) {
            for (size_t idx = 1; idx < count; ++idx) {
                for (size_t prev = 0; prev < idx; ++prev) {
                    if (set_keep[prev] && view_of(static_cast<uint32_t>(prev)) == view_of(static_cast<uint32_t>(idx))) {
                        set_keep[idx] = 0;
                        break;
                    }
                }
            }
            return;
        }
        set_order.resize(count);
        for (size_t idx = 0; idx < count; ++idx) set_order[idx] = static_cast<uint32_t>(idx);
        std::sort(set_order.begin(), set_order.end(), [&](uint32_t lhs, uint32_t rhs) {
            const auto lhs_view = view_of(lhs);
            const auto rhs_view = view_of(rhs);
            return lhs_view != rhs_view ? lhs_view < rhs_view : lhs < rhs;
        });
        for (size_t idx = 1; idx < count; ++idx) {
            if (view_of(set_order[idx]) == view_of(set_order[idx - 1])) set_keep[set_order[idx]] = 0;
        }
    }

    bool encode_elements(size_t column_idx, std::string_view cell, encoded_item& out, row_problem& problem) {
        const column_plan& col = columns[column_idx];
        const bool numbers = col.type == value_type::NUMBER_SET;
        if (!split_elements(col, cell, numbers, column_idx, problem)) return false;
        if (set_spans.empty()) return true;  // no elements: the attribute is left out
        const std::string_view base = numbers ? std::string_view(set_arena) : cell;
        const bool list = col.type == value_type::LIST;
        if (list) {
            set_keep.assign(set_spans.size(), 1);
        } else {
            mark_duplicates(base);
        }
        begin_attribute(col, out);
        buf.append(list ? "\"L\":[" : numbers ? "\"NS\":[" : "\"SS\":[");
        size_t value_size = list ? 3 : 0;
        bool first = true;
        for (size_t idx = 0; idx < set_spans.size(); ++idx) {
            if (!set_keep[idx]) continue;
            if (!first) buf.push_back(',');
            first = false;
            const std::string_view element = base.substr(set_spans[idx].first, set_spans[idx].second);
            if (list) {
                buf.append("{\"S\":\"");
                append_escaped(buf, element);
                buf.append("\"}");
                value_size += 1 + element.size();
            } else {
                buf.push_back('"');
                append_escaped(buf, element);
                buf.push_back('"');
                value_size += set_sizes[idx];
            }
        }
        buf.append("]}");
        out.size += value_size;
        return true;
    }

    // JSON cells --------------------------------------------------------------------------------------------

    bool json_fail(const char* what) {
        message = what;
        return false;
    }

    bool json_number(std::string_view token, json_out& json, size_t& size) {
        token = trim_json_token(token);
        if (!is_json_number(token)) return json_fail("invalid JSON number");
        std::string reason;
        number_scratch.clear();
        const size_t value_size = detail::append_canonical_number(token, number_scratch, reason);
        if (value_size == 0) {
            message = "number " + quote_cell(token) + ": " + reason;
            return false;
        }
        json.append("{\"N\":\"");
        json.append(number_scratch);
        json.append("\"}");
        size += value_size;
        return true;
    }

    bool json_string(std::string_view text, json_out& json, size_t& size) {
        json.append("{\"S\":\"");
        append_escaped(json, text);
        json.append("\"}");
        size += text.size();
        return true;
    }

    bool json_object(od::object obj, int depth, json_out& json, size_t& size) {
        if (depth > MAX_JSON_DEPTH) return json_fail("nested deeper than DynamoDB's 32 levels");
        json.append("{\"M\":{");
        size += 3;
        const size_t keys_begin = json_keys.size();
        bool first = true;
        for (auto field_result : obj) {
            od::field field;
            if (std::move(field_result).get(field) != simdjson::SUCCESS) return json_fail("malformed JSON object");
            std::string_view key;
            if (field.unescaped_key().get(key) != simdjson::SUCCESS) return json_fail("malformed JSON object key");
            json_keys.push_back(key);
            if (!first) json.push_back(',');
            first = false;
            json.push_back('"');
            append_escaped(json, key);
            json.append("\":");
            size += 1 + key.size();
            if (!json_value(field.value(), depth, json, size)) return false;
        }
        const auto begin = json_keys.begin() + static_cast<std::ptrdiff_t>(keys_begin);
        std::sort(begin, json_keys.end());
        const bool duplicate = std::adjacent_find(begin, json_keys.end()) != json_keys.end();
        json_keys.resize(keys_begin);
        if (duplicate) return json_fail("duplicate key in a JSON object");
        json.append("}}");
        return true;
    }

    bool json_array(od::array arr, int depth, json_out& json, size_t& size) {
        if (depth > MAX_JSON_DEPTH) return json_fail("nested deeper than DynamoDB's 32 levels");
        json.append("{\"L\":[");
        size += 3;
        bool first = true;
        for (auto elem_result : arr) {
            od::value elem;
            if (std::move(elem_result).get(elem) != simdjson::SUCCESS) return json_fail("malformed JSON array");
            if (!first) json.push_back(',');
            first = false;
            size += 1;
            if (!json_value(elem, depth, json, size)) return false;
        }
        json.append("]}");
        return true;
    }

    // Writes one nested value (an element of a list or map) as a DynamoDB attribute value.
    bool json_value(od::value val, int parent_depth, json_out& json, size_t& size) {
        od::json_type type;
        if (val.type().get(type) != simdjson::SUCCESS) return json_fail("malformed JSON value");
        switch (type) {
            case od::json_type::object: {
                od::object obj;
                if (val.get_object().get(obj) != simdjson::SUCCESS) return json_fail("malformed JSON object");
                return json_object(obj, parent_depth + 1, json, size);
            }
            case od::json_type::array: {
                od::array arr;
                if (val.get_array().get(arr) != simdjson::SUCCESS) return json_fail("malformed JSON array");
                return json_array(arr, parent_depth + 1, json, size);
            }
            case od::json_type::string: {
                std::string_view text;
                if (val.get_string().get(text) != simdjson::SUCCESS) return json_fail("malformed JSON string");
                return json_string(text, json, size);
            }
            case od::json_type::number: return json_number(val.raw_json_token(), json, size);
            case od::json_type::boolean: {
                bool flag = false;
                if (val.get_bool().get(flag) != simdjson::SUCCESS) return json_fail("malformed JSON literal");
                json.append(flag ? "{\"BOOL\":true}" : "{\"BOOL\":false}");
                size += 1;
                return true;
            }
            case od::json_type::null: {
                bool is_null = false;
                if (val.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
                    return json_fail("malformed JSON literal");
                }
                json.append("{\"NULL\":true}");
                size += 1;
                return true;
            }
        }
        return json_fail("malformed JSON value");
    }

    // Parses the whole cell and writes its attribute value; `message` says why on failure.
    bool json_document(std::string_view cell, json_out& json, size_t& size) {
        json_buffer.reserve(cell.size() + simdjson::SIMDJSON_PADDING);
        json_buffer.assign(cell);
        od::document doc;
        const simdjson::padded_string_view padded(json_buffer.data(), json_buffer.size(), json_buffer.capacity());
        if (json_parser.iterate(padded).get(doc) != simdjson::SUCCESS) return json_fail("not valid JSON");
        od::json_type type;
        if (doc.type().get(type) != simdjson::SUCCESS) return json_fail("not valid JSON");
        bool done = false;
        switch (type) {
            case od::json_type::object: {
                od::object obj;
                if (doc.get_object().get(obj) != simdjson::SUCCESS) return json_fail("not valid JSON");
                done = json_object(obj, 1, json, size);
                break;
            }
            case od::json_type::array: {
                od::array arr;
                if (doc.get_array().get(arr) != simdjson::SUCCESS) return json_fail("not valid JSON");
                done = json_array(arr, 1, json, size);
                break;
            }
            case od::json_type::string: {
                std::string_view text;
                if (doc.get_string().get(text) != simdjson::SUCCESS) return json_fail("not valid JSON");
                return json_string(text, json, size);
            }
            case od::json_type::number: {
                std::string_view token;
                if (doc.raw_json_token().get(token) != simdjson::SUCCESS) return json_fail("not valid JSON");
                return json_number(token, json, size);
            }
            case od::json_type::boolean: {
                bool flag = false;
                if (doc.get_bool().get(flag) != simdjson::SUCCESS) return json_fail("not valid JSON");
                json.append(flag ? "{\"BOOL\":true}" : "{\"BOOL\":false}");
                size += 1;
                return true;
            }
            case od::json_type::null: {
                bool is_null = false;
                if (doc.is_null().get(is_null) != simdjson::SUCCESS || !is_null) return json_fail("not valid JSON");
                json.append("{\"NULL\":true}");
                size += 1;
                return true;
            }
        }
        if (!done) return false;
        // After the root container only the end of input may follow.
        const char* location = nullptr;
        if (doc.current_location().get(location) == simdjson::SUCCESS) return json_fail("text after the JSON value");
        return true;
    }

    bool encode_json(size_t column_idx, std::string_view cell, encoded_item& out, row_problem& problem) {
        const column_plan& col = columns[column_idx];
        if (out.attributes++ > 0) buf.push_back(',');
        // The attribute value is an AttributeValue object itself: `"name":{"M":{...}}`, so drop the `{` of
        // the prefix and let the JSON writer open it.
        buf.append(std::string_view(col.prefix).substr(0, col.prefix.size() - 1));
        out.size += col.attribute.size();
        if (!json_document(cell, buf, out.size)) {
            return fail(problem, reject_reason::INVALID_JSON, column_idx, quote_cell(cell) + ": " + message);
        }
        return true;
    }

    // Out of line, like record_removed, so that encode_value (on the path of every number) does not grow.
    [[gnu::noinline]] bool encode_timestamp(size_t column_idx, std::string_view cell, encoded_item& out,
                                            row_problem& problem) {
        timestamp_scratch.clear();
        if (!detail::append_canonical_timestamp(cell, false, timestamp_scratch, message)) {
            return fail(problem, reject_reason::INVALID_TIMESTAMP, column_idx,
                        quote_cell(cell) + " is not a timestamp: " + message);
        }
        emit_string(columns[column_idx], timestamp_scratch, out);
        return true;
    }

    // Names the attribute of an empty cell under `empty: remove` in out.removed: its JSON name is the prefix
    // `"name":{` without the last two bytes. Returns true (a tail call for encode_value).
    [[gnu::noinline]] static bool record_removed(const column_plan& col, encoded_item& out) {
        if (!out.removed.empty()) out.removed.push_back(',');
        out.removed.append(col.prefix, 0, col.prefix.size() - 2);
        return true;
    }

    bool encode_value(size_t column_idx, std::string_view cell, encoded_item& out, row_problem& problem) {
        const column_plan& col = columns[column_idx];
        if (cell.empty() && col.type != value_type::NULL_VALUE) {
            switch (col.empty) {
                case empty_policy::OMIT: return true;
                case empty_policy::KEEP:
                    if (col.type == value_type::STRING || col.type == value_type::AUTO) emit_string(col, cell, out);
                    return true;
                case empty_policy::NULL_VALUE: emit_scalar(col, "\"NULL\":true", 1, out); return true;
                case empty_policy::REMOVE: return record_removed(col, out);
            }
        }
        switch (col.type) {
            case value_type::STRING: emit_string(col, cell, out); return true;
            case value_type::NUMBER: {
                const size_t size = canonical_number(col, cell);
                if (size == 0) {
                    return fail(problem, reject_reason::INVALID_NUMBER, column_idx,
                                quote_cell(cell) + " is not a DynamoDB number: " + message);
                }
                begin_attribute(col, out);
                buf.append("\"N\":\"");
                buf.append(number_scratch);
                buf.append("\"}");
                out.size += size;
                return true;
            }
            case value_type::BOOL: {
                if (equals_lower(cell, "true") || equals_lower(cell, "yes") || equals_lower(cell, "y") || cell == "1") {
                    emit_scalar(col, "\"BOOL\":true", 1, out);
                    return true;
                }
                if (equals_lower(cell, "false") || equals_lower(cell, "no") || equals_lower(cell, "n") || cell == "0") {
                    emit_scalar(col, "\"BOOL\":false", 1, out);
                    return true;
                }
                return fail(problem, reject_reason::INVALID_BOOL, column_idx,
                            quote_cell(cell) + " is not a bool (expected true/false, yes/no, y/n or 1/0)");
            }
            case value_type::NULL_VALUE:
                if (cell.empty() || equals_lower(cell, "null")) {
                    emit_scalar(col, "\"NULL\":true", 1, out);
                    return true;
                }
                return fail(problem, reject_reason::INVALID_NULL, column_idx,
                            quote_cell(cell) + " is not null (a null column takes empty cells or \"null\")");
            case value_type::JSON: return encode_json(column_idx, cell, out, problem);
            case value_type::STRING_SET:
            case value_type::NUMBER_SET:
            case value_type::LIST: return encode_elements(column_idx, cell, out, problem);
            case value_type::AUTO:
                if (equals_lower(cell, "true")) {
                    emit_scalar(col, "\"BOOL\":true", 1, out);
                } else if (equals_lower(cell, "false")) {
                    emit_scalar(col, "\"BOOL\":false", 1, out);
                } else if (const size_t size = is_digit(cell[0]) || cell[0] == '-' || cell[0] == '.'
                                                   ? detail::canonical_number_size(cell)
                                                   : 0;
                           size != 0) {
                    begin_attribute(col, out);
                    buf.append("\"N\":\"");
                    buf.append(cell);
                    buf.append("\"}");
                    out.size += size;
                } else {
                    emit_string(col, cell, out);
                }
                return true;
            case value_type::TIMESTAMP: return encode_timestamp(column_idx, cell, out, problem);
        }
        return true;
    }

    // The attributes of one row, written into `buf`; false (problem filled) when the row cannot be an item.
    bool encode_columns(const csv::row& r, encoded_item& out, row_problem& problem) {
        const size_t column_count = columns.size();
        for (size_t column_idx = 0; column_idx < column_count; ++column_idx) {
            const column_plan& col = columns[column_idx];
            std::string_view cell = r.fields[column_idx];
            const bool quoted = column_idx < r.quoted.size() && r.quoted[column_idx] != 0;
            if (col.plain_string) [[likely]] {
                // The common case, decided at bind time: a string attribute that is not a key.
                if (col.trim && !quoted) cell = trim_blanks(cell);
                if (!cell.empty()) [[likely]] {
                    emit_plain(col, cell, out);
                    continue;
                }
                if (!encode_value(column_idx, cell, out, problem)) return false;
                continue;
            }
            if (col.skip) continue;
            // Quoting protects string content only: around numbers, bools, sets, JSON and N/B keys blanks never
            // carry meaning (feeds write prices like "$1,299.00 " quoted because of the comma).
            const bool textual = col.role != key_role::NONE ? col.key == key_type::S : col.type == value_type::STRING;
            if (col.trim && (!quoted || !textual)) cell = trim_blanks(cell);
            if (col.role != key_role::NONE) {
                if (!encode_key(column_idx, cell, out, problem)) return false;
                continue;
            }
            if (col.type == value_type::STRING && !cell.empty()) [[likely]] {
                emit_string(col, cell, out);
                continue;
            }
            if (!encode_value(column_idx, cell, out, problem)) return false;
        }
        return true;
    }

    // The key attributes only (a delete): the other columns are not read, so a bad cell there is no reason to
    // refuse the row.
    bool encode_key_columns(const csv::row& r, encoded_item& out, row_problem& problem) {
        for (size_t column_idx = 0; column_idx < columns.size(); ++column_idx) {
            const column_plan& col = columns[column_idx];
            if (col.role == key_role::NONE) continue;
            std::string_view cell = r.fields[column_idx];
            const bool quoted = column_idx < r.quoted.size() && r.quoted[column_idx] != 0;
            if (col.trim && (!quoted || col.key != key_type::S)) cell = trim_blanks(cell);
            if (!encode_key(column_idx, cell, out, problem)) return false;
        }
        return true;
    }
};

item_encoder::item_encoder(std::unique_ptr<plan> p) : plan_(std::move(p)) {}
item_encoder::item_encoder(item_encoder&&) noexcept = default;
item_encoder& item_encoder::operator=(item_encoder&&) noexcept = default;
item_encoder::~item_encoder() = default;

result<item_encoder> item_encoder::bind(const mapping& m, const key_schema& keys, std::span<const std::string> header) {
    if (keys.partition.name.empty()) return make_error(errc::INVALID_ARGUMENT, "the partition key has no name");
    if (keys.sort && keys.sort->name.empty()) return make_error(errc::INVALID_ARGUMENT, "the sort key has no name");
    auto p = std::make_unique<plan>();
    p->columns.resize(header.size());
    std::vector<const column_rule*> rules(header.size(), nullptr);
    for (const column_rule& rule : m.columns) {
        const auto found = std::find(header.begin(), header.end(), rule.column);
        if (found == header.end()) {
            return make_error(errc::CSV_FILE, "mapping rule for column " + rule.column +
                                                  ": no such column in header: " + join_header(header));
        }
        const auto column_idx = static_cast<size_t>(found - header.begin());
        if (rules[column_idx] != nullptr) {
            return make_error(errc::CSV_FILE, "two mapping rules for column " + rule.column);
        }
        rules[column_idx] = &rule;
    }
    for (size_t column_idx = 0; column_idx < header.size(); ++column_idx) {
        column_plan& col = p->columns[column_idx];
        const column_rule* rule = rules[column_idx];
        col.column = header[column_idx];
        col.attribute = rule != nullptr && !rule->attribute.empty() ? rule->attribute : header[column_idx];
        col.type = rule != nullptr && rule->type ? *rule->type : m.defaults.type;
        col.empty = rule != nullptr && rule->empty ? *rule->empty : m.defaults.empty;
        col.trim = rule != nullptr && rule->trim ? *rule->trim : m.defaults.trim;
        col.currency = rule != nullptr && rule->currency;
        col.skip = rule != nullptr && rule->skip;
        if (rule != nullptr) {
            if (rule->separator.empty()) {
                return make_error(errc::INVALID_ARGUMENT, "column " + col.column + ": empty separator");
            }
            col.separator = rule->separator;
        }
        col.prefix = "\"";
        json::append_escaped(col.prefix, col.attribute);
        col.prefix += "\":{";
        col.s_prefix = col.prefix + "\"S\":\"";
        col.s_head_size = 1 + col.s_prefix.size();
        if (col.s_head_size <= HEAD_BYTES) {
            col.s_head[0] = ',';
            std::memcpy(col.s_head.data() + 1, col.s_prefix.data(), col.s_prefix.size());
        }
    }
    for (size_t column_idx = 0; column_idx < header.size(); ++column_idx) {
        if (p->columns[column_idx].skip) continue;
        for (size_t prev = 0; prev < column_idx; ++prev) {
            if (!p->columns[prev].skip && p->columns[prev].attribute == p->columns[column_idx].attribute) {
                return make_error(errc::CSV_FILE, "columns " + p->columns[prev].column + " and " +
                                                      p->columns[column_idx].column + " both map to attribute " +
                                                      p->columns[column_idx].attribute);
            }
        }
    }
    for (const column_plan& col : p->columns) {
        if (col.skip) continue;
        if (std::find(m.reserved_attributes.begin(), m.reserved_attributes.end(), col.attribute) !=
            m.reserved_attributes.end()) {
            return make_error(errc::CSV_FILE, "column " + col.column + " maps to attribute " + col.attribute +
                                                  ", which the loader sets on every item of this feed (its row "
                                                  "marker): map the column to another attribute, or rename the "
                                                  "marker (row_marker: NAME)");
        }
    }
    auto attach_key = [&](const key_attribute& key, key_role role) -> result<void> {
        const char* role_name = role == key_role::PARTITION ? "partition key" : "sort key";
        column_plan* skipped = nullptr;
        for (column_plan& col : p->columns) {
            if (col.attribute != key.name) continue;
            if (col.skip) {
                skipped = &col;
                continue;
            }
            const bool compatible = !(rules[static_cast<size_t>(&col - p->columns.data())] &&
                                      rules[static_cast<size_t>(&col - p->columns.data())]->type) ||
                                    col.type == value_type::AUTO ||
                                    (key.type == key_type::S && col.type == value_type::STRING) ||
                                    (key.type == key_type::N && col.type == value_type::NUMBER);
            if (!compatible) {
                return make_error(errc::CSV_FILE, "column " + col.column + " (" + role_name + " " + key.name +
                                                      ", type " + key_type_name(key.type) + ") has conflicting type " +
                                                      value_type_name(col.type));
            }
            col.role = role;
            col.key = key.type;
            return ok();
        }
        if (skipped != nullptr) {
            return make_error(errc::CSV_FILE, "column " + skipped->column + " (" + role_name + ") is skipped");
        }
        return make_error(errc::CSV_FILE,
                          "column " + key.name + " (" + role_name + ") not in header: " + join_header(header));
    };
    TARIUS_TRY(attach_key(keys.partition, key_role::PARTITION));
    if (keys.sort) {
        if (keys.sort->name == keys.partition.name) {
            return make_error(errc::INVALID_ARGUMENT, "the sort key " + keys.sort->name + " is also the partition key");
        }
        TARIUS_TRY(attach_key(*keys.sort, key_role::SORT));
    }
    for (column_plan& col : p->columns) {
        col.plain_string = !col.skip && col.role == key_role::NONE && col.type == value_type::STRING;
    }
    return item_encoder(std::move(p));
}

bool item_encoder::encode(const csv::row& r, encoded_item& out, row_problem& problem) {
    std::string_view json;
    const bool encoded = encode(r, out, json, problem);
    out.json.assign(json);
    return encoded;
}

bool item_encoder::encode_object(bool key_only, const csv::row& r, encoded_item& out, std::string_view& json,
                                 row_problem& problem) {
    plan& p = *plan_;
    TARIUS_ASSERT(r.fields.size() == p.columns.size());
    out.key.clear();
    out.key_hash = 0;
    out.size = 0;
    out.attributes = 0;
    out.removed.clear();
    p.sort_key.clear();
    p.buf.clear();
    p.buf.push_back('{');
    const bool encoded = key_only ? p.encode_key_columns(r, out, problem) : p.encode_columns(r, out, problem);
    if (encoded) p.buf.push_back('}');
    json = p.buf.view();
    if (!encoded) return false;
    out.key.append(p.sort_key);
    out.key_hash = detail::hash64(out.key);
    return true;
}

bool item_encoder::encode_key(const csv::row& r, encoded_item& out, std::string_view& json, row_problem& problem) {
    return encode_object(true, r, out, json, problem);
}

bool item_encoder::encode(const csv::row& r, encoded_item& out, std::string_view& json, row_problem& problem) {
    if (!encode_object(false, r, out, json, problem)) return false;
    if (out.size > MAX_ITEM_SIZE) {
        problem.reason = reject_reason::ITEM_TOO_LARGE;
        problem.column_index = -1;
        problem.column.clear();
        problem.message = "the item is " + std::to_string(out.size) +
                          " bytes by DynamoDB's sizing rules; the limit is " + std::to_string(MAX_ITEM_SIZE) +
                          " (400 KB)";
        return false;
    }
    return true;
}

}  // namespace tarius::mapping
