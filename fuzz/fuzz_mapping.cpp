// Fuzzes mapping documents and cell conversion: the input is parsed as a mapping document (must never crash),
// then split on newlines into the cells of a row for an encoder whose columns cover every type. Every item
// produced must be valid JSON whose size, recomputed from the JSON, equals the encoder's size, and the names of
// removed attributes must be a valid list of JSON strings.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/item_size.hpp"
#include "tarius/mapping.hpp"

namespace {

using namespace tarius::mapping;

item_encoder make_encoder() {
    mapping m;
    const value_type types[] = {value_type::STRING,     value_type::NUMBER, value_type::BOOL,
                                value_type::NULL_VALUE, value_type::JSON,   value_type::STRING_SET,
                                value_type::NUMBER_SET, value_type::LIST,   value_type::AUTO,
                                value_type::TIMESTAMP};
    const char* names[] = {"s", "n", "b", "z", "j", "ss", "ns", "l\"\\", "a", "t"};
    for (size_t idx = 0; idx < std::size(types); ++idx) {
        column_rule rule;
        rule.column = names[idx];
        rule.type = types[idx];
        rule.empty = static_cast<empty_policy>(idx % 4);
        rule.currency = idx == 1 || idx == 6;
        rule.separator = idx == 7 ? "|" : ",";
        m.columns.push_back(rule);
    }
    const key_schema keys{key_attribute{"pk", key_type::N}, key_attribute{"sk", key_type::B}};
    std::vector<std::string> header{"pk", "sk"};
    for (const char* name : names) header.emplace_back(name);
    auto bound = item_encoder::bind(m, keys, header);
    if (!bound) std::abort();
    return std::move(bound).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_mapping(input);
    (void)parsed;

    // CSV rows reach the encoder as valid UTF-8 only.
    if (!simdjson::validate_utf8(input.data(), input.size())) return 0;
    static item_encoder encoder = make_encoder();
    static encoded_item item;
    constexpr size_t COLUMNS = 12;
    std::vector<std::string_view> fields;
    size_t pos = 0;
    while (fields.size() < COLUMNS) {
        const size_t end = input.find('\n', pos);
        if (end == std::string_view::npos) {
            fields.push_back(input.substr(std::min(pos, input.size())));
            pos = input.size() + 1;
        } else {
            fields.push_back(input.substr(pos, end - pos));
            pos = end + 1;
        }
    }
    std::vector<uint8_t> quoted(COLUMNS, 0);
    for (size_t idx = 0; idx < COLUMNS && idx < size; ++idx) quoted[idx] = data[idx] & 1;
    tarius::csv::row r;
    r.fields = fields;
    r.quoted = quoted;
    tarius::row_problem problem;
    if (!encoder.encode(r, item, problem)) {
        if (problem.message.empty()) std::abort();
        return 0;
    }
    auto size_from_json = tarius::mapping::detail::dynamodb_item_size(item.json);
    if (!size_from_json || *size_from_json != item.size) {
        std::fprintf(stderr, "item %s: size %zu, from JSON %s\n", item.json.c_str(), item.size,
                     size_from_json ? std::to_string(*size_from_json).c_str() : size_from_json.err().message.c_str());
        std::abort();
    }
    const std::string removed = "[" + item.removed + "]";
    simdjson::dom::parser parser;
    simdjson::dom::element names;
    if (parser.parse(removed).get(names) != simdjson::SUCCESS || !names.is_array()) {
        std::fprintf(stderr, "removed %s is not a list of JSON strings\n", item.removed.c_str());
        std::abort();
    }
    return 0;
}
