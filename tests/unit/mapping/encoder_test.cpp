// item_encoder: cell conversion per type, empty policies, trim vs quoted, keys, sizes, bind errors.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"

namespace {

using tarius::reject_reason;
using tarius::row_problem;
using namespace tarius::mapping;

// Builds rows by hand: a field starting with `\x01` is marked quoted (the marker is dropped).
struct row_builder {
    std::vector<std::string> storage;
    std::vector<std::string_view> fields;
    std::vector<uint8_t> quoted;

    tarius::csv::row make(const std::vector<std::string>& cells) {
        storage.clear();
        fields.clear();
        quoted.clear();
        for (const auto& cell : cells) {
            const bool is_quoted = !cell.empty() && cell[0] == '\x01';
            storage.push_back(is_quoted ? cell.substr(1) : cell);
            quoted.push_back(is_quoted ? 1 : 0);
        }
        for (const auto& cell : storage) fields.emplace_back(cell);
        tarius::csv::row r;
        r.fields = fields;
        r.quoted = quoted;
        r.line = 2;
        return r;
    }
};

key_schema id_key(key_type type = key_type::S) {
    return key_schema{key_attribute{"ID", type}, std::nullopt};
}

bool json_parses(const std::string& text) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    return parser.parse(text).get(root) == simdjson::SUCCESS;
}

struct encoded {
    bool ok = false;
    std::string json;
    size_t size = 0;
    row_problem problem;
    std::string key;
};

encoded encode_one(const mapping& m, const key_schema& keys, const std::vector<std::string>& header,
                   const std::vector<std::string>& cells) {
    auto encoder = item_encoder::bind(m, keys, header);
    EXPECT_TRUE(encoder.has_value()) << (encoder ? "" : encoder.err().message);
    encoded res;
    if (!encoder) return res;
    row_builder builder;
    encoded_item item;
    res.ok = encoder->encode(builder.make(cells), item, res.problem);
    if (res.ok) {
        EXPECT_TRUE(json_parses(item.json)) << item.json;
        res.json = item.json;
        res.size = item.size;
        res.key = item.key;
    }
    return res;
}

// One typed column "V" next to the key "ID".
mapping typed(value_type type, std::optional<empty_policy> empty = std::nullopt) {
    mapping m;
    column_rule rule;
    rule.column = "V";
    rule.type = type;
    rule.empty = empty;
    m.columns.push_back(rule);
    return m;
}

struct value_case {
    const char* cell;
    const char* json;  // the V attribute's value, or nullptr when the attribute is omitted
};

void check_values(const mapping& m, const std::vector<value_case>& cases) {
    for (const auto& test_case : cases) {
        const auto res = encode_one(m, id_key(), {"ID", "V"}, {"k", test_case.cell});
        ASSERT_TRUE(res.ok) << test_case.cell << ": " << res.problem.message;
        const std::string expected = test_case.json == nullptr
                                         ? std::string(R"({"ID":{"S":"k"}})")
                                         : std::string(R"({"ID":{"S":"k"},"V":)") + test_case.json + "}";
        EXPECT_EQ(res.json, expected) << test_case.cell;
    }
}

struct reject_case {
    const char* cell;
    reject_reason reason;
    const char* message;
};

void check_rejects(const mapping& m, const std::vector<reject_case>& cases) {
    for (const auto& test_case : cases) {
        const auto res = encode_one(m, id_key(), {"ID", "V"}, {"k", test_case.cell});
        ASSERT_FALSE(res.ok) << test_case.cell;
        EXPECT_EQ(res.problem.reason, test_case.reason) << test_case.cell;
        EXPECT_EQ(res.problem.message, test_case.message) << test_case.cell;
        EXPECT_EQ(res.problem.column, "V");
        EXPECT_EQ(res.problem.column_index, 1);
    }
}

TEST(mapping_encoder, strings_escape_and_keep_header_order) {
    const auto res = encode_one(mapping{}, id_key(), {"Title", "ID", "Note"}, {"a \"q\" \\ \n\t\x01", "7", "é€"});
    ASSERT_TRUE(res.ok);
    EXPECT_EQ(res.json, R"({"Title":{"S":"a \"q\" \\ \n\t\u0001"},"ID":{"S":"7"},"Note":{"S":"é€"}})");
}

TEST(mapping_encoder, trim_unquoted_only) {
    mapping no_trim;
    no_trim.defaults.trim = false;
    const auto trimmed = encode_one(mapping{}, id_key(), {"ID", "A", "B"}, {" k\t", "  x  ", "\x01  y  "});
    ASSERT_TRUE(trimmed.ok);
    EXPECT_EQ(trimmed.json, R"({"ID":{"S":"k"},"A":{"S":"x"},"B":{"S":"  y  "}})");
    const auto kept = encode_one(no_trim, id_key(), {"ID", "A"}, {"k", "  x  "});
    ASSERT_TRUE(kept.ok);
    EXPECT_EQ(kept.json, R"({"ID":{"S":"k"},"A":{"S":"  x  "}})");
    // A whitespace-only unquoted cell is empty after trimming; quoted whitespace is content.
    const auto blank = encode_one(mapping{}, id_key(), {"ID", "A", "B"}, {"k", " \t ", "\x01 "});
    ASSERT_TRUE(blank.ok);
    EXPECT_EQ(blank.json, R"({"ID":{"S":"k"},"B":{"S":" "}})");
}

TEST(mapping_encoder, quoted_blanks_around_typed_values_are_not_content) {
    mapping price = typed(value_type::NUMBER);
    price.columns[0].currency = true;
    check_values(price, {{"\x01$1,299.00 ", R"({"N":"1299"})"}, {"\x01 12.50", R"({"N":"12.5"})"}});
    check_values(typed(value_type::BOOL), {{"\x01 yes ", R"({"BOOL":true})"}});
    check_values(typed(value_type::STRING), {{"\x01 x ", R"({"S":" x "})"}});
}

TEST(mapping_encoder, empty_policies) {
    struct case_t {
        value_type type;
        empty_policy policy;
        const char* json;
    };
    const case_t cases[] = {
        {value_type::STRING, empty_policy::OMIT, nullptr},
        {value_type::STRING, empty_policy::KEEP, R"({"S":""})"},
        {value_type::STRING, empty_policy::NULL_VALUE, R"({"NULL":true})"},
        {value_type::NUMBER, empty_policy::OMIT, nullptr},
        {value_type::NUMBER, empty_policy::KEEP, nullptr},
        {value_type::NUMBER, empty_policy::NULL_VALUE, R"({"NULL":true})"},
        {value_type::BOOL, empty_policy::KEEP, nullptr},
        {value_type::JSON, empty_policy::KEEP, nullptr},
        {value_type::JSON, empty_policy::NULL_VALUE, R"({"NULL":true})"},
        {value_type::STRING_SET, empty_policy::KEEP, nullptr},
        {value_type::STRING_SET, empty_policy::NULL_VALUE, R"({"NULL":true})"},
        {value_type::AUTO, empty_policy::KEEP, R"({"S":""})"},
        {value_type::NULL_VALUE, empty_policy::OMIT, R"({"NULL":true})"},
        {value_type::TIMESTAMP, empty_policy::OMIT, nullptr},
        {value_type::TIMESTAMP, empty_policy::KEEP, nullptr},
        {value_type::TIMESTAMP, empty_policy::NULL_VALUE, R"({"NULL":true})"},
        {value_type::TIMESTAMP, empty_policy::REMOVE, nullptr},
        {value_type::STRING, empty_policy::REMOVE, nullptr},
        {value_type::NUMBER, empty_policy::REMOVE, nullptr},
        {value_type::NULL_VALUE, empty_policy::REMOVE, R"({"NULL":true})"},  // a null column's empty cell is NULL
    };
    for (const auto& test_case : cases) {
        SCOPED_TRACE(value_type_name(test_case.type));
        check_values(typed(test_case.type, test_case.policy), {{"", test_case.json}});
        check_values(typed(test_case.type, test_case.policy), {{"  ", test_case.json}});
    }
    // Defaults apply to unmapped columns.
    mapping keep_all;
    keep_all.defaults.empty = empty_policy::KEEP;
    check_values(keep_all, {{"", R"({"S":""})"}});
}

TEST(mapping_encoder, numbers) {
    check_values(typed(value_type::NUMBER), {
                                                {"12.50", R"({"N":"12.5"})"},
                                                {"-0012.50", R"({"N":"-12.5"})"},
                                                {"1e3", R"({"N":"1000"})"},
                                                {"-0", R"({"N":"0"})"},
                                                {" 42 ", R"({"N":"42"})"},
                                            });
    check_rejects(typed(value_type::NUMBER),
                  {
                      {"$5", reject_reason::INVALID_NUMBER,
                       "\"$5\" is not a DynamoDB number: unexpected character '$' at offset 0; a number is "
                       "[+-]digits[.digits][e[+-]digits]"},
                      {"1,299", reject_reason::INVALID_NUMBER,
                       "\"1,299\" is not a DynamoDB number: unexpected character ',' at offset 1; a number is "
                       "[+-]digits[.digits][e[+-]digits]"},
                      {"12345678901234567890123456789012345678901", reject_reason::INVALID_NUMBER,
                       "\"12345678901234567890123456789012345678901\" is not a DynamoDB number: 41 significant digits; "
                       "DynamoDB keeps at most 38"},
                  });
}

TEST(mapping_encoder, timestamps) {
    check_values(typed(value_type::TIMESTAMP),
                 {
                     {"2026-03-14", R"({"S":"2026-03-14T00:00:00.000000000Z"})"},
                     {"2026-03-14T15:09:26Z", R"({"S":"2026-03-14T15:09:26.000000000Z"})"},
                     {"2026-03-14 15:09:26.5-05:00", R"({"S":"2026-03-14T20:09:26.500000000Z"})"},
                     {"2025-12-31T23:30:00-0100", R"({"S":"2026-01-01T00:30:00.000000000Z"})"},
                     {"\x01 2026-03-14T15:09Z ", R"({"S":"2026-03-14T15:09:00.000000000Z"})"},  // quoted blanks
                 });
    check_rejects(typed(value_type::TIMESTAMP),
                  {
                      {"2026-13-01", reject_reason::INVALID_TIMESTAMP, "\"2026-13-01\" is not a timestamp: month 13"},
                      {"2026-02-29", reject_reason::INVALID_TIMESTAMP,
                       "\"2026-02-29\" is not a timestamp: day 29 of a 28-day month"},
                      // The encoder never assumes UTC: a feed's version column may (the loader's choice).
                      {"2026-03-14T15:09:26", reject_reason::INVALID_TIMESTAMP,
                       "\"2026-03-14T15:09:26\" is not a timestamp: no UTC offset: add Z or +hh:mm"},
                      {"2026-03-14T15:09:26.1234567891Z", reject_reason::INVALID_TIMESTAMP,
                       "\"2026-03-14T15:09:26.1234567891Z\" is not a timestamp: more than 9 fraction digits"},
                      {"14/03/2026", reject_reason::INVALID_TIMESTAMP,
                       "\"14/03/2026\" is not a timestamp: expected a date YYYY-MM-DD"},
                  });
    // A timestamp column cannot be a key (its cell would be stored as written, not canonical).
    auto bound = item_encoder::bind(typed(value_type::TIMESTAMP), key_schema{key_attribute{"V", key_type::S}, {}},
                                    std::vector<std::string>{"ID", "V"});
    ASSERT_FALSE(bound.has_value());
    EXPECT_EQ(bound.err().message, "column V (partition key V, type S) has conflicting type timestamp");
}

TEST(reject_reason, every_reason_has_a_distinct_name) {
    std::set<std::string> names;
    for (size_t idx = 0; idx < static_cast<size_t>(reject_reason::COUNT_); ++idx) {
        const std::string name = tarius::reject_reason_name(static_cast<reject_reason>(idx));
        EXPECT_NE(name, "unknown") << idx;
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_STREQ(tarius::reject_reason_name(reject_reason::INVALID_TIMESTAMP), "invalid_timestamp");
    EXPECT_STREQ(tarius::reject_reason_name(reject_reason::INVALID_VERSION), "invalid_version");
}

TEST(mapping_encoder, remove_names_the_emptied_attributes) {
    mapping m;
    m.defaults.empty = empty_policy::REMOVE;  // unmapped columns: Color
    column_rule size_rule;
    size_rule.column = "Size";
    size_rule.attribute = "size \"EU\"";  // named as a JSON string, escaped
    m.columns.push_back(size_rule);
    column_rule price_rule;
    price_rule.column = "Price";
    price_rule.type = value_type::NUMBER;
    m.columns.push_back(price_rule);
    column_rule note_rule;
    note_rule.column = "Note";
    note_rule.empty = empty_policy::OMIT;
    m.columns.push_back(note_rule);
    column_rule seen_rule;
    seen_rule.column = "Seen";
    seen_rule.type = value_type::TIMESTAMP;
    seen_rule.empty = empty_policy::NULL_VALUE;
    m.columns.push_back(seen_rule);
    auto encoder =
        item_encoder::bind(m, id_key(), std::vector<std::string>{"ID", "Color", "Size", "Price", "Note", "Seen"});
    ASSERT_TRUE(encoder.has_value()) << encoder.err().message;
    row_builder builder;
    encoded_item item;
    row_problem problem;
    struct case_t {
        std::vector<std::string> cells;
        const char* json;
        const char* removed;
    };
    const case_t cases[] = {
        {{"1", "", " ", "", "", ""}, R"({"ID":{"S":"1"},"Seen":{"NULL":true}})", R"("Color","size \"EU\"","Price")"},
        {{"2", "red", "", "\x01 ", "n", ""},
         R"({"ID":{"S":"2"},"Color":{"S":"red"},"Note":{"S":"n"},"Seen":{"NULL":true}})",
         R"("size \"EU\"","Price")"},  // quoted blanks around a number are not content
        {{"3", "red", "\x01 ", "5", "", "2026-03-14"},
         R"({"ID":{"S":"3"},"Color":{"S":"red"},"size \"EU\"":{"S":" "},"Price":{"N":"5"},)"
         R"("Seen":{"S":"2026-03-14T00:00:00.000000000Z"}})",
         ""},
        {{"4", "", "M", "5", "", ""},
         R"({"ID":{"S":"4"},"size \"EU\"":{"S":"M"},"Price":{"N":"5"},"Seen":{"NULL":true}})",
         R"("Color")"},
    };
    for (const auto& test_case : cases) {
        ASSERT_TRUE(encoder->encode(builder.make(test_case.cells), item, problem)) << problem.message;
        EXPECT_EQ(item.json, test_case.json);
        EXPECT_EQ(item.removed, test_case.removed) << test_case.cells[0];  // cleared from row to row
    }
    // The view-returning overload fills it too.
    std::string_view json;
    ASSERT_TRUE(encoder->encode(builder.make({"5", "", "", "", "", ""}), item, json, problem));
    EXPECT_EQ(item.removed, R"("Color","size \"EU\"","Price")");
    // encode_key reads no other column, so it names none.
    ASSERT_TRUE(encoder->encode_key(builder.make({"6", "", "", "", "", ""}), item, json, problem));
    EXPECT_EQ(json, R"({"ID":{"S":"6"}})");
    EXPECT_EQ(item.removed, "");
    // Removed attributes are not part of the item: neither its size nor its attribute count.
    ASSERT_TRUE(encoder->encode(builder.make({"7", "", "", "", "", "2026-03-14"}), item, problem));
    EXPECT_EQ(item.size, 2 + 1 + 4 + 30);
    EXPECT_EQ(item.attributes, 2U);
    // An empty key is still an empty key.
    ASSERT_FALSE(encoder->encode(builder.make({"", "", "", "", "", ""}), item, problem));
    EXPECT_EQ(problem.reason, reject_reason::EMPTY_KEY);
}

TEST(mapping_encoder, currency) {
    mapping m = typed(value_type::NUMBER);
    m.columns[0].currency = true;
    check_values(m, {
                        {"$1,299.00 ", R"({"N":"1299"})"},
                        {"-$5", R"({"N":"-5"})"},
                        {"$-5", R"({"N":"-5"})"},
                        {"€12.50", R"({"N":"12.5"})"},
                        {"£3.5", R"({"N":"3.5"})"},
                        {"¥1,000,000", R"({"N":"1000000"})"},
                        {"₹ 99", R"({"N":"99"})"},
                        {"₩500", R"({"N":"500"})"},
                        {"1,234,567.891", R"({"N":"1234567.891"})"},
                        {"42", R"({"N":"42"})"},
                        {"+$5.", R"({"N":"5"})"},
                    });
    check_rejects(m, {
                         {"$$5", reject_reason::INVALID_NUMBER,
                          "\"$$5\" is not a DynamoDB number: unexpected character '$' at offset 0; a number is "
                          "[+-]digits[.digits][e[+-]digits]"},
                         {"1,,2", reject_reason::INVALID_NUMBER,
                          "\"1,,2\" is not a DynamoDB number: malformed digit grouping: a first group of 1 to 3 "
                          "digits (no leading zero), then groups of three (1,234,567), or in Indian grouping groups "
                          "of two and a last group of three (12,34,567)"},
                         {"1.5,0", reject_reason::INVALID_NUMBER,
                          "\"1.5,0\" is not a DynamoDB number: unexpected character ',' at offset 3; a number is "
                          "[+-]digits[.digits][e[+-]digits]"},
                         {"5 USD", reject_reason::INVALID_NUMBER,
                          "\"5 USD\" is not a DynamoDB number: unexpected character ' ' at offset 1; a number is "
                          "[+-]digits[.digits][e[+-]digits]"},
                     });
}

TEST(mapping_encoder, currency_digit_grouping) {
    mapping m = typed(value_type::NUMBER);
    m.columns[0].currency = true;
    // Groups of three after a first group of 1 to 3 digits, or the Indian lakh/crore grouping.
    check_values(m, {
                        {"1,000", R"({"N":"1000"})"},
                        {"12,345", R"({"N":"12345"})"},
                        {"123,456", R"({"N":"123456"})"},
                        {"1,234,567", R"({"N":"1234567"})"},
                        {"-1,234,567.50", R"({"N":"-1234567.5"})"},
                        {"$1,234,567,890,123", R"({"N":"1234567890123"})"},
                        {"1,00,000", R"({"N":"100000"})"},
                        {"12,34,567", R"({"N":"1234567"})"},
                        {"1,23,45,67,890", R"({"N":"1234567890"})"},
                        {"₹ 1,00,000.75", R"({"N":"100000.75"})"},
                        {"-₹12,34,567", R"({"N":"-1234567"})"},
                        {"1234567", R"({"N":"1234567"})"},
                        {"1,234e3", R"({"N":"1234000"})"},
                    });
    const char* malformed[] = {
        "1,5",       "1,0",  "1,000,00",   ",100",   "1,,000",     "1,000,",   "1234,567",
        "12,3456",   "1,00", "0,50",       "0,100",  "01,000",     "12,34,56", "1,23,4567",
        "12,345,67", "$1,5", "-€1,000,00", "$ ,100", "1,234,56.7", "€12,50",
    };
    for (const char* cell : malformed) {
        check_rejects(m, {{cell, reject_reason::INVALID_NUMBER,
                           (std::string("\"") + cell +
                            "\" is not a DynamoDB number: malformed digit grouping: a first group of 1 to 3 digits (no "
                            "leading zero), then groups of three (1,234,567), or in Indian grouping groups of two and "
                            "a last group of three (12,34,567)")
                               .c_str()}});
    }
    // Number sets take the same rule per element (the set separator is then not a comma).
    mapping set = typed(value_type::NUMBER_SET);
    set.columns[0].currency = true;
    set.columns[0].separator = ";";
    check_values(set, {{"$1,000; 1,00,000", R"({"NS":["1000","100000"]})"}});
    check_rejects(set, {{"1,000;1,5", reject_reason::INVALID_NUMBER,
                         "element 2 \"1,5\" is not a DynamoDB number: malformed digit grouping: a first group of 1 "
                         "to 3 digits (no leading zero), then groups of three (1,234,567), or in Indian grouping "
                         "groups of two and a last group of three (12,34,567)"}});
    // Without currency: true a comma is never a separator.
    check_rejects(typed(value_type::NUMBER),
                  {{"1,000", reject_reason::INVALID_NUMBER,
                    "\"1,000\" is not a DynamoDB number: unexpected character ',' at offset 1; a number is "
                    "[+-]digits[.digits][e[+-]digits]"}});
}

TEST(mapping_encoder, bools_and_nulls) {
    check_values(typed(value_type::BOOL), {
                                              {"true", R"({"BOOL":true})"},
                                              {"TRUE", R"({"BOOL":true})"},
                                              {"Yes", R"({"BOOL":true})"},
                                              {"y", R"({"BOOL":true})"},
                                              {"1", R"({"BOOL":true})"},
                                              {"false", R"({"BOOL":false})"},
                                              {"No", R"({"BOOL":false})"},
                                              {"N", R"({"BOOL":false})"},
                                              {"0", R"({"BOOL":false})"},
                                              {" FaLsE ", R"({"BOOL":false})"},
                                          });
    check_rejects(
        typed(value_type::BOOL),
        {{"maybe", reject_reason::INVALID_BOOL, "\"maybe\" is not a bool (expected true/false, yes/no, y/n or 1/0)"},
         {"2", reject_reason::INVALID_BOOL, "\"2\" is not a bool (expected true/false, yes/no, y/n or 1/0)"}});
    check_values(typed(value_type::NULL_VALUE), {{"null", R"({"NULL":true})"}, {"NULL", R"({"NULL":true})"}});
    check_rejects(typed(value_type::NULL_VALUE), {{"x", reject_reason::INVALID_NULL,
                                                   "\"x\" is not null (a null column takes empty cells or \"null\")"}});
}

TEST(mapping_encoder, json_values) {
    check_values(typed(value_type::JSON),
                 {
                     {R"({"a":1,"b":[true,null,"x"]})",
                      R"({"M":{"a":{"N":"1"},"b":{"L":[{"BOOL":true},{"NULL":true},{"S":"x"}]}}})"},
                     {R"([1.50, -0, 1e3, 12345678901234567890123456789])",
                      R"({"L":[{"N":"1.5"},{"N":"0"},{"N":"1000"},{"N":"12345678901234567890123456789"}]})"},
                     {R"("text")", R"({"S":"text"})"},
                     {R"("q\"\u00e9\n")", R"({"S":"q\"é\n"})"},
                     {R"(42)", R"({"N":"42"})"},
                     {R"(true)", R"({"BOOL":true})"},
                     {R"(null)", R"({"NULL":true})"},
                     {R"({})", R"({"M":{}})"},
                     {R"([])", R"({"L":[]})"},
                     {R"( {"k\"ey": {"x": {}}} )", R"({"M":{"k\"ey":{"M":{"x":{"M":{}}}}}})"},
                 });
    check_rejects(
        typed(value_type::JSON),
        {
            {"{", reject_reason::INVALID_JSON, "\"{\": not valid JSON"},
            {"{\"a\":1} x", reject_reason::INVALID_JSON, "\"{\"a\":1} x\": not valid JSON"},
            {"[1] [2]", reject_reason::INVALID_JSON, "\"[1] [2]\": text after the JSON value"},
            {"[01]", reject_reason::INVALID_JSON, "\"[01]\": invalid JSON number"},
            {"[1e999]", reject_reason::INVALID_JSON,
             "\"[1e999]\": number \"1e999\": magnitude 1E+999 or more is over DynamoDB's maximum "
             "9.9999999999999999999999999999999999999E+125"},
            {"{\"a\":1,\"a\":2}", reject_reason::INVALID_JSON, "\"{\"a\":1,\"a\":2}\": duplicate key in a JSON object"},
            {"abc", reject_reason::INVALID_JSON, "\"abc\": not valid JSON"},
        });
}

TEST(mapping_encoder, json_nesting_limit_is_32) {
    const std::string ok_depth = std::string(32, '[') + std::string(32, ']');
    const std::string too_deep = std::string(33, '[') + std::string(33, ']');
    std::string expected;
    for (int level = 0; level < 32; ++level) expected += R"({"L":[)";
    for (int level = 0; level < 32; ++level) expected += "]}";
    check_values(typed(value_type::JSON), {{ok_depth.c_str(), expected.c_str()}});
    const auto res = encode_one(typed(value_type::JSON), id_key(), {"ID", "V"}, {"k", too_deep});
    ASSERT_FALSE(res.ok);
    EXPECT_EQ(res.problem.reason, reject_reason::INVALID_JSON);
    EXPECT_NE(res.problem.message.find("nested deeper than DynamoDB's 32 levels"), std::string::npos);
}

TEST(mapping_encoder, sets_and_lists) {
    mapping ss = typed(value_type::STRING_SET);
    check_values(ss, {
                         {"a,b,c", R"({"SS":["a","b","c"]})"},
                         {" a , b ,a,, b", R"({"SS":["a","b"]})"},
                         {",,, ,", nullptr},
                         {"x", R"({"SS":["x"]})"},
                     });
    ss.columns[0].separator = "|";
    check_values(ss, {{"a,b|c|a,b", R"({"SS":["a,b","c"]})"}});
    ss.columns[0].separator = "::";
    check_values(ss, {{"a::b:c::a", R"({"SS":["a","b:c"]})"}});
    check_values(typed(value_type::NUMBER_SET), {
                                                    {"1, 2, 01, 1.0, 2e0, 3", R"({"NS":["1","2","3"]})"},
                                                    {"-0,0", R"({"NS":["0"]})"},
                                                });
    check_rejects(typed(value_type::NUMBER_SET),
                  {{"1,x", reject_reason::INVALID_NUMBER,
                    "element 2 \"x\" is not a DynamoDB number: unexpected character 'x' at offset 0; a number is "
                    "[+-]digits[.digits][e[+-]digits]"}});
    check_values(typed(value_type::LIST), {
                                              {"b, a ,b", R"({"L":[{"S":"b"},{"S":"a"},{"S":"b"}]})"},
                                              {"x,,y", R"({"L":[{"S":"x"},{"S":"y"}]})"},
                                              {",", nullptr},
                                          });
    // Many elements take the sorting path of de-duplication; first occurrences keep their order.
    std::string many;
    std::string expected = R"({"SS":[)";
    for (int idx = 0; idx < 40; ++idx) {
        many += std::to_string(39 - idx) + "," + std::to_string(39 - idx) + ",";
        expected += (idx == 0 ? "\"" : ",\"") + std::to_string(39 - idx) + "\"";
    }
    expected += "]}";
    check_values(typed(value_type::STRING_SET), {{many.c_str(), expected.c_str()}});
}

TEST(mapping_encoder, auto_type) {
    check_values(typed(value_type::AUTO), {
                                              {"12.5", R"({"N":"12.5"})"},
                                              {"-3", R"({"N":"-3"})"},
                                              {"0", R"({"N":"0"})"},
                                              {"0012", R"({"S":"0012"})"},
                                              {"+5", R"({"S":"+5"})"},
                                              {"1e3", R"({"S":"1e3"})"},
                                              {"1.50", R"({"S":"1.50"})"},
                                              {"-0", R"({"S":"-0"})"},
                                              {"TRUE", R"({"BOOL":true})"},
                                              {"False", R"({"BOOL":false})"},
                                              {"yes", R"({"S":"yes"})"},
                                              {"abc", R"({"S":"abc"})"},
                                          });
}

TEST(mapping_encoder, keys) {
    const key_schema both{key_attribute{"ID", key_type::N}, key_attribute{"Sku", key_type::B}};
    auto res = encode_one(mapping{}, both, {"Sku", "ID"}, {"aGVsbG8=", "007.0"});
    ASSERT_TRUE(res.ok) << res.problem.message;
    EXPECT_EQ(res.json, R"({"Sku":{"B":"aGVsbG8="},"ID":{"N":"7"}})");
    EXPECT_EQ(res.size, 3 + 5 + 2 + 2);
    EXPECT_EQ(res.key, std::string("N7\0\x01", 4) + std::string("Bhello\0\x05", 8));

    struct case_t {
        key_schema keys;
        std::vector<std::string> cells;
        reject_reason reason;
        const char* message;
    };
    const key_schema s_both{key_attribute{"ID", key_type::S}, key_attribute{"Sku", key_type::S}};
    const case_t cases[] = {
        {s_both, {"", "x"}, reject_reason::EMPTY_KEY, "partition key ID is empty; DynamoDB key values cannot be empty"},
        {s_both,
         {"  ", "x"},
         reject_reason::EMPTY_KEY,
         "partition key ID is empty; DynamoDB key values cannot be empty"},
        {s_both, {"x", ""}, reject_reason::EMPTY_KEY, "sort key Sku is empty; DynamoDB key values cannot be empty"},
        {s_both,
         {std::string(2049, 'k'), "x"},
         reject_reason::KEY_TOO_LARGE,
         "partition key ID is 2049 bytes; DynamoDB allows at most 2048"},
        {s_both,
         {"x", std::string(1025, 's')},
         reject_reason::KEY_TOO_LARGE,
         "sort key Sku is 1025 bytes; DynamoDB allows at most 1024"},
        {both,
         {"x", "AA=="},
         reject_reason::INVALID_NUMBER,
         "partition key \"x\" is not a DynamoDB number: unexpected character 'x' at offset 0; a number is "
         "[+-]digits[.digits][e[+-]digits]"},
        {both,
         {"1", "AA="},
         reject_reason::INVALID_BINARY,
         "sort key \"AA=\" is not base64 (standard alphabet, padded with =)"},
    };
    for (const auto& test_case : cases) {
        const auto rejected = encode_one(mapping{}, test_case.keys, {"ID", "Sku"}, test_case.cells);
        ASSERT_FALSE(rejected.ok) << test_case.message;
        EXPECT_EQ(rejected.problem.reason, test_case.reason);
        EXPECT_EQ(rejected.problem.message, test_case.message);
    }
    // Limits are inclusive: 2048 / 1024 bytes are accepted; sizes are UTF-8 bytes.
    EXPECT_TRUE(encode_one(mapping{}, s_both, {"ID", "Sku"}, {std::string(2048, 'k'), std::string(1024, 's')}).ok);
    std::string euros;
    for (int idx = 0; idx < 342; ++idx) euros += "€";  // 1026 bytes
    EXPECT_FALSE(encode_one(mapping{}, s_both, {"ID", "Sku"}, {"k", euros}).ok);
    // Keys are never empty, whatever the empty policy, and are never omitted.
    mapping keep;
    keep.defaults.empty = empty_policy::NULL_VALUE;
    EXPECT_FALSE(encode_one(keep, id_key(), {"ID"}, {""}).ok);
}

TEST(mapping_encoder, key_bytes_identify_items) {
    const key_schema keys{key_attribute{"ID", key_type::N}, key_attribute{"S", key_type::S}};
    auto encoder = item_encoder::bind(mapping{}, keys, std::vector<std::string>{"ID", "S"});
    ASSERT_TRUE(encoder.has_value());
    row_builder builder;
    encoded_item first;
    encoded_item second;
    row_problem problem;
    ASSERT_TRUE(encoder->encode(builder.make({"1.0", "ab"}), first, problem));
    ASSERT_TRUE(encoder->encode(builder.make({"1", "ab"}), second, problem));
    EXPECT_EQ(first.key, second.key);  // same number value → same item
    EXPECT_EQ(first.key_hash, second.key_hash);
    ASSERT_TRUE(encoder->encode(builder.make({"1", "abc"}), second, problem));
    EXPECT_NE(first.key, second.key);
    EXPECT_NE(first.key_hash, second.key_hash);
}

TEST(mapping_encoder, item_size_and_limit) {
    // Name bytes + value bytes: "ID"(2) + "k"(1) + "Big"(3) + n.
    const size_t overhead = 2 + 1 + 3;
    auto fits = encode_one(mapping{}, id_key(), {"ID", "Big"}, {"k", std::string(MAX_ITEM_SIZE - overhead, 'x')});
    ASSERT_TRUE(fits.ok);
    EXPECT_EQ(fits.size, MAX_ITEM_SIZE);
    auto over = encode_one(mapping{}, id_key(), {"ID", "Big"}, {"k", std::string(MAX_ITEM_SIZE - overhead + 1, 'x')});
    ASSERT_FALSE(over.ok);
    EXPECT_EQ(over.problem.reason, reject_reason::ITEM_TOO_LARGE);
    EXPECT_EQ(over.problem.message,
              "the item is 409601 bytes by DynamoDB's sizing rules; the limit is 409600 (400 KB)");
    EXPECT_EQ(over.problem.column_index, -1);

    struct case_t {
        value_type type;
        const char* cell;
        size_t value_size;
    };
    const case_t cases[] = {
        {value_type::STRING, "héllo", 6},
        {value_type::NUMBER, "12345", 4},
        {value_type::NUMBER, "-1.5", 4},
        {value_type::NUMBER, "123.4", 4},
        {value_type::BOOL, "yes", 1},
        {value_type::NULL_VALUE, "", 1},
        {value_type::STRING_SET, "ab,c,ab", 3},
        {value_type::NUMBER_SET, "1,22,333", 2 + 2 + 3},
        {value_type::LIST, "ab,c", 3 + 1 + 2 + 1 + 1},
        {value_type::JSON, R"({"k":[1,"ab"]})", 3 + 1 + 1 + (3 + 1 + 2 + 1 + 2)},
        {value_type::AUTO, "12.5", 3},
        {value_type::AUTO, "-1.5", 4},
        {value_type::NUMBER_SET, "-1.5,12", 4 + 2},
        {value_type::JSON, "[-1.5]", 3 + 1 + 4},
        {value_type::TIMESTAMP, "2026-03-14", 30},  // as any S: the canonical text's 30 bytes
        {value_type::TIMESTAMP, "2026-03-14T15:09:26.5+02:00", 30},
    };
    for (const auto& test_case : cases) {
        const auto res = encode_one(typed(test_case.type), id_key(), {"ID", "V"}, {"k", test_case.cell});
        ASSERT_TRUE(res.ok) << test_case.cell;
        EXPECT_EQ(res.size, 2 + 1 + 1 + test_case.value_size) << test_case.cell;
    }
}

TEST(mapping_encoder, number_sizes_at_the_item_limit) {
    // An item at exactly 400 KB by the number rule (sign and digit pairs) is kept, one byte more is refused: the
    // padding is sized for each number's true size, so a rule that undercounts a shape passes the larger item.
    struct case_t {
        value_type type;
        const char* cell;
        size_t value_size;
    };
    const case_t cases[] = {
        {value_type::NUMBER, "7", 2},
        {value_type::NUMBER, "-7", 3},
        {value_type::NUMBER, "1.5", 3},
        {value_type::NUMBER, "-1.5", 4},
        {value_type::NUMBER, "-1.2345678901234567890123456789012345678", 22},
        {value_type::NUMBER_SET, "-1.5,-2.5,-3.5", 12},
        {value_type::AUTO, "-1.234", 5},
        {value_type::JSON, R"({"a":-1.5,"b":[-2.5]})", 3 + 2 + 1 + 4 + 1 + (3 + 1 + 4)},
    };
    for (const auto& test_case : cases) {
        SCOPED_TRACE(test_case.cell);
        // "ID"(2) + "k"(1) + "Pad"(3) + pad + "V"(1) + value.
        const size_t pad = MAX_ITEM_SIZE - (2 + 1 + 3 + 1 + test_case.value_size);
        const auto fits = encode_one(typed(test_case.type), id_key(), {"ID", "Pad", "V"},
                                     {"k", std::string(pad, 'x'), test_case.cell});
        ASSERT_TRUE(fits.ok) << fits.problem.message;
        EXPECT_EQ(fits.size, MAX_ITEM_SIZE);
        const auto over = encode_one(typed(test_case.type), id_key(), {"ID", "Pad", "V"},
                                     {"k", std::string(pad + 1, 'x'), test_case.cell});
        ASSERT_FALSE(over.ok);
        EXPECT_EQ(over.problem.reason, reject_reason::ITEM_TOO_LARGE);
    }
    // A numeric key counts the same way.
    const size_t pad = MAX_ITEM_SIZE - (2 + 4 + 3);
    EXPECT_TRUE(encode_one(mapping{}, id_key(key_type::N), {"ID", "Pad"}, {"-1.5", std::string(pad, 'x')}).ok);
    EXPECT_FALSE(encode_one(mapping{}, id_key(key_type::N), {"ID", "Pad"}, {"-1.5", std::string(pad + 1, 'x')}).ok);
}

TEST(mapping_encoder, renames_and_skips) {
    mapping m;
    column_rule rename;
    rename.column = "Price (USD)";
    rename.attribute = "price_usd";
    rename.type = value_type::NUMBER;
    rename.currency = true;
    column_rule skip;
    skip.column = "Internal";
    skip.skip = true;
    m.columns = {rename, skip};
    const auto res = encode_one(m, id_key(), {"ID", "Price (USD)", "Internal"}, {"1", "$1,299.00", "secret"});
    ASSERT_TRUE(res.ok);
    EXPECT_EQ(res.json, R"({"ID":{"S":"1"},"price_usd":{"N":"1299"}})");
}

TEST(mapping_encoder, bind_errors) {
    struct case_t {
        mapping m;
        key_schema keys;
        std::vector<std::string> header;
        tarius::errc code;
        const char* message;
    };
    auto rule = [](const char* column, const char* attribute, bool skip, std::optional<value_type> type) {
        column_rule r;
        r.column = column;
        r.attribute = attribute;
        r.skip = skip;
        r.type = type;
        return r;
    };
    auto with = [](std::vector<column_rule> rules) {
        mapping m;
        m.columns = std::move(rules);
        return m;
    };
    auto reserving = [](mapping m) {
        m.reserved_attributes = {"tarius_row"};
        return m;
    };
    const key_schema id_sku{key_attribute{"ID", key_type::S}, key_attribute{"Sku", key_type::S}};
    const case_t cases[] = {
        {mapping{},
         id_key(),
         {"Title", "Brand"},
         tarius::errc::CSV_FILE,
         "column ID (partition key) not in header: Title, Brand"},
        {mapping{}, id_sku, {"ID", "Brand"}, tarius::errc::CSV_FILE, "column Sku (sort key) not in header: ID, Brand"},
        {with({rule("Nope", "", false, std::nullopt)}),
         id_key(),
         {"ID", "A"},
         tarius::errc::CSV_FILE,
         "mapping rule for column Nope: no such column in header: ID, A"},
        {with({rule("A", "B", false, std::nullopt)}),
         id_key(),
         {"ID", "A", "B"},
         tarius::errc::CSV_FILE,
         "columns A and B both map to attribute B"},
        {reserving(mapping{}),
         id_key(),
         {"ID", "tarius_row"},
         tarius::errc::CSV_FILE,
         "column tarius_row maps to attribute tarius_row, which the loader sets on every item of this feed (its row "
         "marker): map the column to another attribute, or rename the marker (row_marker: NAME)"},
        {reserving(with({rule("Row", "tarius_row", false, std::nullopt)})),
         id_key(),
         {"ID", "Row"},
         tarius::errc::CSV_FILE,
         "column Row maps to attribute tarius_row, which the loader sets on every item of this feed (its row marker): "
         "map the column to another attribute, or rename the marker (row_marker: NAME)"},
        {with({rule("ID", "", true, std::nullopt)}),
         id_key(),
         {"ID", "A"},
         tarius::errc::CSV_FILE,
         "column ID (partition key) is skipped"},
        {with({rule("ID", "", false, value_type::NUMBER)}),
         id_key(),
         {"ID"},
         tarius::errc::CSV_FILE,
         "column ID (partition key ID, type S) has conflicting type number"},
        {with({rule("ID", "", false, value_type::STRING)}),
         id_key(key_type::N),
         {"ID"},
         tarius::errc::CSV_FILE,
         "column ID (partition key ID, type N) has conflicting type string"},
        {with({rule("Id", "ID", false, value_type::BOOL)}),
         id_key(),
         {"Id"},
         tarius::errc::CSV_FILE,
         "column Id (partition key ID, type S) has conflicting type bool"},
        {mapping{},
         key_schema{key_attribute{"ID", key_type::S}, key_attribute{"ID", key_type::S}},
         {"ID"},
         tarius::errc::INVALID_ARGUMENT,
         "the sort key ID is also the partition key"},
    };
    for (const auto& test_case : cases) {
        auto bound = item_encoder::bind(test_case.m, test_case.keys, test_case.header);
        ASSERT_FALSE(bound.has_value()) << test_case.message;
        EXPECT_EQ(bound.err().code, test_case.code);
        EXPECT_EQ(bound.err().message, test_case.message);
    }
    // Compatible rules: a renamed key column, number rules for N keys, auto for any key, skipped duplicates.
    EXPECT_TRUE(
        item_encoder::bind(with({rule("Id", "ID", false, std::nullopt)}), id_key(), std::vector<std::string>{"Id"})
            .has_value());
    EXPECT_TRUE(item_encoder::bind(with({rule("ID", "", false, value_type::NUMBER)}), id_key(key_type::N),
                                   std::vector<std::string>{"ID"})
                    .has_value());
    EXPECT_TRUE(item_encoder::bind(with({rule("ID", "", false, value_type::AUTO)}), id_key(key_type::B),
                                   std::vector<std::string>{"ID"})
                    .has_value());
    EXPECT_TRUE(
        item_encoder::bind(with({rule("A", "ID", true, std::nullopt)}), id_key(), std::vector<std::string>{"ID", "A"})
            .has_value());
    // A skipped column named like a reserved attribute is no attribute at all.
    EXPECT_TRUE(item_encoder::bind(reserving(with({rule("tarius_row", "", true, std::nullopt)})), id_key(),
                                   std::vector<std::string>{"ID", "tarius_row"})
                    .has_value());
}

TEST(mapping_encoder, reuses_item_without_growth) {
    auto encoder = item_encoder::bind(mapping{}, id_key(), std::vector<std::string>{"ID", "A"});
    ASSERT_TRUE(encoder.has_value());
    row_builder builder;
    encoded_item item;
    row_problem problem;
    ASSERT_TRUE(encoder->encode(builder.make({"1", std::string(1000, 'a')}), item, problem));
    const char* buffer = item.json.data();
    for (int idx = 0; idx < 100; ++idx) {
        ASSERT_TRUE(encoder->encode(builder.make({std::to_string(idx), "short"}), item, problem));
    }
    EXPECT_EQ(item.json.data(), buffer);  // cleared, not reallocated
    EXPECT_EQ(item.json, R"({"ID":{"S":"99"},"A":{"S":"short"}})");
    EXPECT_EQ(item.attributes, 2U);
}

}  // namespace
