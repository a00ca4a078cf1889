// Mapping documents (JSON and YAML), key and types flags, type and policy names.
#include <gtest/gtest.h>

#include <string>

#include "tarius/mapping.hpp"

namespace {

using namespace tarius::mapping;

const char* const YAML_DOC = R"doc(
partition_key: ID:S
sort_key: {name: Sku, type: N}
defaults: {type: auto, empty: keep, trim: false}
columns:
  "Price (USD)": {attribute: price_usd, type: number, currency: true}
  Internal: {skip: true}
  Tags: {type: string_set, separator: "|"}
  Notes: {empty: null, trim: yes}
  Count: number
)doc";

const char* const JSON_DOC = R"doc({
  "partition_key": "ID:S",
  "sort_key": {"name": "Sku", "type": "N"},
  "defaults": {"type": "auto", "empty": "keep", "trim": false},
  "columns": {
    "Price (USD)": {"attribute": "price_usd", "type": "number", "currency": true},
    "Internal": {"skip": true},
    "Tags": {"type": "string_set", "separator": "|"},
    "Notes": {"empty": null, "trim": true},
    "Count": "number"
  }
})doc";

void check_full_document(const mapping& m) {
    ASSERT_TRUE(m.keys.has_value());
    EXPECT_EQ(m.keys->partition.name, "ID");
    EXPECT_EQ(m.keys->partition.type, key_type::S);
    ASSERT_TRUE(m.keys->sort.has_value());
    EXPECT_EQ(m.keys->sort->name, "Sku");
    EXPECT_EQ(m.keys->sort->type, key_type::N);
    EXPECT_EQ(m.defaults.type, value_type::AUTO);
    EXPECT_EQ(m.defaults.empty, empty_policy::KEEP);
    EXPECT_FALSE(m.defaults.trim);
    ASSERT_EQ(m.columns.size(), 5U);
    EXPECT_EQ(m.columns[0].column, "Price (USD)");
    EXPECT_EQ(m.columns[0].attribute, "price_usd");
    EXPECT_EQ(m.columns[0].type, value_type::NUMBER);
    EXPECT_TRUE(m.columns[0].currency);
    EXPECT_EQ(m.columns[1].column, "Internal");
    EXPECT_TRUE(m.columns[1].skip);
    EXPECT_EQ(m.columns[2].type, value_type::STRING_SET);
    EXPECT_EQ(m.columns[2].separator, "|");
    EXPECT_EQ(m.columns[3].empty, empty_policy::NULL_VALUE);
    EXPECT_EQ(m.columns[3].trim, true);
    EXPECT_FALSE(m.columns[3].type.has_value());
    EXPECT_EQ(m.columns[3].separator, ",");
    EXPECT_EQ(m.columns[4].column, "Count");
    EXPECT_EQ(m.columns[4].type, value_type::NUMBER);
}

TEST(mapping_document, yaml_full) {
    auto m = parse_mapping(YAML_DOC);
    ASSERT_TRUE(m.has_value()) << m.err().message;
    check_full_document(*m);
}

TEST(mapping_document, json_full) {
    auto m = parse_mapping(JSON_DOC);
    ASSERT_TRUE(m.has_value()) << m.err().message;
    check_full_document(*m);
}

TEST(mapping_document, minimal_documents) {
    // YAML's plain null (and JSON's null) for `type` / `empty` mean the word "null".
    auto nulls = parse_mapping("defaults: {type: ~, empty: null}");
    ASSERT_TRUE(nulls.has_value()) << nulls.err().message;
    EXPECT_EQ(nulls->defaults.type, value_type::NULL_VALUE);
    EXPECT_EQ(nulls->defaults.empty, empty_policy::NULL_VALUE);
    const char* docs[] = {"{}", "", "partition_key: ID", "{\"columns\": {}}", "# only a comment\n"};
    for (const char* doc : docs) {
        auto m = parse_mapping(doc);
        ASSERT_TRUE(m.has_value()) << doc << ": " << m.err().message;
        EXPECT_TRUE(m->columns.empty());
        EXPECT_EQ(m->defaults.type, value_type::STRING);
        EXPECT_EQ(m->defaults.empty, empty_policy::OMIT);
        EXPECT_TRUE(m->defaults.trim);
    }
    auto m = parse_mapping("partition_key: ID");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->keys->partition.type, key_type::S);
    EXPECT_FALSE(m->keys->sort.has_value());
}

TEST(mapping_document, timestamp_type_and_remove_policy) {
    const char* docs[] = {
        "defaults: {empty: remove}\ncolumns:\n  Seen: {type: timestamp, empty: remove}\n  Color: {empty: omit}\n"
        "  Updated: timestamp\n",
        R"({"defaults": {"empty": "remove"}, "columns": {"Seen": {"type": "timestamp", "empty": "remove"},)"
        R"( "Color": {"empty": "omit"}, "Updated": "timestamp"}})",
    };
    for (const char* doc : docs) {
        auto m = parse_mapping(doc);
        ASSERT_TRUE(m.has_value()) << doc << ": " << m.err().message;
        EXPECT_EQ(m->defaults.empty, empty_policy::REMOVE);
        ASSERT_EQ(m->columns.size(), 3U);
        EXPECT_EQ(m->columns[0].type, value_type::TIMESTAMP);
        EXPECT_EQ(m->columns[0].empty, empty_policy::REMOVE);
        EXPECT_EQ(m->columns[1].empty, empty_policy::OMIT);
        EXPECT_EQ(m->columns[2].type, value_type::TIMESTAMP);
        EXPECT_FALSE(m->columns[2].empty.has_value());
    }
    mapping typed_by_flag;
    ASSERT_TRUE(apply_types_flag(typed_by_flag, "Seen=timestamp").has_value());
    EXPECT_EQ(typed_by_flag.columns[0].type, value_type::TIMESTAMP);
}

TEST(mapping_document, errors_name_the_field) {
    struct case_t {
        const char* doc;
        const char* message;
    };
    const case_t cases[] = {
        {"bogus: 1", "mapping: bogus: unknown field (expected one of partition_key, sort_key, defaults, columns)"},
        {R"({"bogus": 1})",
         "mapping: bogus: unknown field (expected one of partition_key, sort_key, defaults, columns)"},
        {"columns: {Price: {type: nubmer}}",
         "mapping: columns.Price.type: unknown type \"nubmer\" (expected string, number, bool, null, json, string_set, "
         "number_set, list, auto or timestamp)"},
        {R"({"columns": {"Price": {"type": "nubmer"}}})",
         "mapping: columns.Price.type: unknown type \"nubmer\" (expected string, number, bool, null, json, string_set, "
         "number_set, list, auto or timestamp)"},
        {"columns: {Price: {typo: number}}",
         "mapping: columns.Price.typo: unknown field (expected one of attribute, skip, type, empty, trim, currency, "
         "separator)"},
        {"columns: {Notes: {empty: sometimes}}",
         "mapping: columns.Notes.empty: unknown empty policy \"sometimes\" (expected omit, keep, null or remove)"},
        {"columns: {Notes: {trim: maybe}}", "mapping: columns.Notes.trim: expected true or false"},
        {R"({"columns": {"Notes": {"trim": "true"}}})", "mapping: columns.Notes.trim: expected true or false"},
        {"columns: {Tags: {separator: ''}}", "mapping: columns.Tags.separator: empty separator"},
        {"columns: {Tags: {attribute: [a]}}", "mapping: columns.Tags.attribute: expected a string, got a list"},
        {R"({"columns": {"A": {}, "A": {}}})", "mapping: columns.A: duplicate column rule"},
        {"partition_key: ID:X",
         "mapping: partition_key: key \"ID:X\": unknown type \"X\" (expected NAME:S, NAME:N or NAME:B)"},
        {"partition_key: {name: ID, type: Q}",
         "mapping: partition_key.type: unknown key type \"Q\" (expected S, N or B)"},
        {"partition_key: {type: S}", "mapping: partition_key.name: missing"},
        {"partition_key: {name: ID, extra: 1}",
         "mapping: partition_key.extra: unknown field (expected one of name, type)"},
        {"sort_key: Sku", "mapping: sort_key: a sort key needs a partition_key"},
        {"partition_key: ID\nsort_key: ID:N", "mapping: sort_key: same attribute as the partition key"},
        {"defaults: {type: number, color: red}",
         "mapping: defaults.color: unknown field (expected one of type, empty, trim)"},
        {"defaults: [1, 2]", "mapping: defaults: expected an object"},
        {"[1, 2]", "mapping: the document must be an object"},
        {"just text", "mapping: the document must be an object"},
        {R"({"columns": )",
         "mapping: invalid JSON: The JSON document has an improper structure: missing or superfluous "
         "commas, braces, missing keys, etc."},
    };
    for (const auto& test_case : cases) {
        auto m = parse_mapping(test_case.doc);
        ASSERT_FALSE(m.has_value()) << test_case.doc;
        EXPECT_EQ(m.err().code, tarius::errc::INVALID_ARGUMENT);
        EXPECT_EQ(m.err().message, test_case.message) << test_case.doc;
    }
    // yaml-cpp's exceptions become errors.
    const char* broken_yaml[] = {"columns: {a: [1, 2}", "key: \"unterminated", "a: b: c", "- [\n"};
    for (const char* doc : broken_yaml) {
        auto m = parse_mapping(doc);
        ASSERT_FALSE(m.has_value()) << doc;
        EXPECT_EQ(m.err().message.rfind("mapping: invalid YAML: ", 0), 0U) << m.err().message;
    }
}

TEST(mapping_document, yaml_aliases_are_bounded) {
    // A "billion laughs" document must fail quickly instead of expanding.
    std::string doc = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int level = 1; level < 9; ++level) {
        doc += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
        for (int idx = 0; idx < 10; ++idx) doc += (idx ? ", *a" : "*a") + std::to_string(level - 1);
        doc += "]\n";
    }
    auto m = parse_mapping(doc);
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.err().message, "mapping: document too large or too deep");
}

TEST(mapping_document, key_flag) {
    struct case_t {
        const char* text;
        const char* name;
        key_type type;
    };
    const case_t cases[] = {{"ID", "ID", key_type::S},
                            {"ID:S", "ID", key_type::S},
                            {"ID:N", "ID", key_type::N},
                            {"Blob:B", "Blob", key_type::B},
                            {"a:b:N", "a:b", key_type::N}};
    for (const auto& test_case : cases) {
        auto key = parse_key_flag(test_case.text);
        ASSERT_TRUE(key.has_value()) << test_case.text;
        EXPECT_EQ(key->name, test_case.name);
        EXPECT_EQ(key->type, test_case.type);
    }
    struct bad_case {
        const char* text;
        const char* message;
    };
    const bad_case bad[] = {
        {"", "key \"\": empty name"},
        {":S", "key \":S\": empty name"},
        {"ID:s", "key \"ID:s\": unknown type \"s\" (expected NAME:S, NAME:N or NAME:B)"},
        {"ID:", "key \"ID:\": unknown type \"\" (expected NAME:S, NAME:N or NAME:B)"},
    };
    for (const auto& test_case : bad) {
        auto key = parse_key_flag(test_case.text);
        ASSERT_FALSE(key.has_value()) << test_case.text;
        EXPECT_EQ(key.err().code, tarius::errc::INVALID_ARGUMENT);
        EXPECT_EQ(key.err().message, test_case.message);
    }
}

TEST(mapping_document, types_flag) {
    mapping m;
    column_rule existing;
    existing.column = "Price";
    existing.currency = true;
    m.columns.push_back(existing);
    ASSERT_TRUE(apply_types_flag(m, "Price=number, InStock = bool,Tags=string_set").has_value());
    ASSERT_EQ(m.columns.size(), 3U);
    EXPECT_EQ(m.columns[0].type, value_type::NUMBER);
    EXPECT_TRUE(m.columns[0].currency);  // other rule fields are kept
    EXPECT_EQ(m.columns[1].column, "InStock");
    EXPECT_EQ(m.columns[1].type, value_type::BOOL);
    EXPECT_EQ(m.columns[2].type, value_type::STRING_SET);
    ASSERT_TRUE(apply_types_flag(m, "InStock=auto").has_value());
    EXPECT_EQ(m.columns[1].type, value_type::AUTO);

    struct bad_case {
        const char* text;
        const char* message;
    };
    const bad_case bad[] = {
        {"", "--types entry \"\": expected Column=type"},
        {"Price", "--types entry \"Price\": expected Column=type"},
        {"Price=number,", "--types entry \"\": expected Column=type"},
        {"=number", "--types entry \"=number\": empty column name"},
        {"A=number,A=bool", "--types names column \"A\" twice: give each column one type"},
        {"A=number, B=bool , A =number", "--types names column \"A\" twice: give each column one type"},
        {"Price=money",
         "--types entry \"Price=money\": unknown type \"money\" (expected string, number, bool, null, "
         "json, string_set, number_set, list, auto or timestamp)"},
    };
    for (const auto& test_case : bad) {
        mapping scratch;
        auto applied = apply_types_flag(scratch, test_case.text);
        ASSERT_FALSE(applied.has_value()) << test_case.text;
        EXPECT_EQ(applied.err().code, tarius::errc::INVALID_ARGUMENT);
        EXPECT_EQ(applied.err().message, test_case.message);
    }
}

TEST(mapping_document, type_and_policy_names) {
    const value_type types[] = {value_type::STRING,     value_type::NUMBER, value_type::BOOL,
                                value_type::NULL_VALUE, value_type::JSON,   value_type::STRING_SET,
                                value_type::NUMBER_SET, value_type::LIST,   value_type::AUTO,
                                value_type::TIMESTAMP};
    const char* names[] = {"string",     "number",     "bool", "null", "json",
                           "string_set", "number_set", "list", "auto", "timestamp"};
    for (size_t idx = 0; idx < std::size(types); ++idx) {
        EXPECT_STREQ(value_type_name(types[idx]), names[idx]);
        auto parsed = parse_value_type(names[idx]);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, types[idx]);
    }
    EXPECT_FALSE(parse_value_type("String").has_value());
    EXPECT_FALSE(parse_value_type("").has_value());
    EXPECT_EQ(*parse_empty_policy("omit"), empty_policy::OMIT);
    EXPECT_EQ(*parse_empty_policy("keep"), empty_policy::KEEP);
    EXPECT_EQ(*parse_empty_policy("null"), empty_policy::NULL_VALUE);
    EXPECT_EQ(*parse_empty_policy("remove"), empty_policy::REMOVE);
    EXPECT_FALSE(parse_empty_policy("Remove").has_value());
    EXPECT_FALSE(parse_empty_policy("Omit").has_value());
}

TEST(mapping_document, document_binds_to_encoder) {
    auto m = parse_mapping(YAML_DOC);
    ASSERT_TRUE(m.has_value());
    const std::vector<std::string> header{"ID", "Sku", "Price (USD)", "Internal", "Tags", "Notes", "Count", "Other"};
    auto encoder = item_encoder::bind(*m, *m->keys, header);
    ASSERT_TRUE(encoder.has_value()) << encoder.err().message;
    const std::vector<std::string_view> fields{"A1", "0042", "$1,299.00", "x", "b|a|b", "", "7", "0012"};
    const std::vector<uint8_t> quoted(fields.size(), 0);
    tarius::csv::row r;
    r.fields = fields;
    r.quoted = quoted;
    encoded_item item;
    tarius::row_problem problem;
    ASSERT_TRUE(encoder->encode(r, item, problem)) << problem.message;
    EXPECT_EQ(item.json, R"({"ID":{"S":"A1"},"Sku":{"N":"42"},"price_usd":{"N":"1299"},"Tags":{"SS":["b","a"]},)"
                         R"("Notes":{"NULL":true},"Count":{"N":"7"},"Other":{"S":"0012"}})");
}

}  // namespace
