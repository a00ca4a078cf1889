// The string fast path of item_encoder (one room check, a fixed-size head copy, a wide copy of the text):
// every item it writes is read back with simdjson, an independent parser, and must give back the attribute
// names and cell texts exactly, whatever the lengths of names and cells and wherever escapes fall.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"

namespace {

using namespace tarius::mapping;

// Reads an item back: attribute name → (type tag, string value).
std::map<std::string, std::pair<std::string, std::string>> read_item(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
    std::map<std::string, std::pair<std::string, std::string>> out;
    simdjson::dom::object item;
    if (root.get_object().get(item) != simdjson::SUCCESS) return out;
    for (auto [name, value] : item) {
        simdjson::dom::object typed = value.get_object();
        for (auto [tag, inner] : typed) {
            std::string text;
            std::string_view view;
            if (inner.get_string().get(view) == simdjson::SUCCESS) text = std::string(view);
            out[std::string(name)] = {std::string(tag), text};
        }
    }
    return out;
}

std::string random_text(std::mt19937& rng, size_t len) {
    static const std::vector<std::string> pieces = {"a",    "Z", "0", " ", "\"", "\\", "\n",   "\t", "\x01",
                                                    "\x1f", "/", "é", "€", "日", "<",  "\x7f", ",",  "'"};
    std::string text;
    std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> clean(0, 9);
    while (text.size() < len) {
        // Mostly clean runs, so that the wide copies see both clean blocks and blocks with a hit.
        text += clean(rng) < 8 ? std::string(1, static_cast<char>('a' + text.size() % 26)) : pieces[pick(rng)];
    }
    return text;
}

TEST(encoder_strings, items_read_back_exactly) {
    std::mt19937 rng(20240611);
    // Attribute names from 1 to 60 bytes (heads below and above the fixed-size copy), some needing escapes.
    std::vector<std::string> header = {"ID"};
    for (size_t name_len : {1, 2, 7, 14, 20, 23, 24, 25, 26, 31, 32, 33, 45, 60}) {
        std::string name = "c" + std::to_string(name_len) + "_";
        while (name.size() < name_len) name.push_back(static_cast<char>('a' + name.size() % 26));
        name.resize(std::max<size_t>(name_len, 3));
        header.push_back(name);
    }
    header.push_back("quote\"name");
    header.push_back("back\\slash name that is long enough to take the slow head copy");
    mapping m;
    m.defaults.trim = false;  // cells come back byte for byte
    auto bound = item_encoder::bind(m, key_schema{key_attribute{"ID", key_type::S}, std::nullopt}, header);
    ASSERT_TRUE(bound) << bound.err().message;
    item_encoder encoder = std::move(bound).value();
    encoded_item item;
    std::uniform_int_distribution<size_t> length(0, 70);
    for (int row_idx = 0; row_idx < 3000; ++row_idx) {
        std::vector<std::string> cells;
        cells.push_back("id" + std::to_string(row_idx));
        for (size_t column_idx = 1; column_idx < header.size(); ++column_idx) {
            // Now and then a long cell, so the buffer grows in the middle of an item.
            const size_t len = row_idx % 500 == 7 && column_idx == 3 ? 200000 : length(rng);
            cells.push_back(random_text(rng, len));
        }
        std::vector<std::string_view> fields(cells.begin(), cells.end());
        std::vector<uint8_t> quoted(cells.size(), 0);
        tarius::csv::row r;
        r.fields = fields;
        r.quoted = quoted;
        tarius::row_problem problem;
        ASSERT_TRUE(encoder.encode(r, item, problem)) << problem.message;
        const auto back = read_item(item.json);
        size_t expected_attributes = 0;
        size_t expected_size = 0;
        for (size_t column_idx = 0; column_idx < header.size(); ++column_idx) {
            if (cells[column_idx].empty()) {
                EXPECT_EQ(back.count(header[column_idx]), 0u) << header[column_idx];
                continue;
            }
            ++expected_attributes;
            expected_size += header[column_idx].size() + cells[column_idx].size();
            const auto found = back.find(header[column_idx]);
            ASSERT_NE(found, back.end()) << header[column_idx] << " in " << item.json.substr(0, 200);
            EXPECT_EQ(found->second.first, "S");
            EXPECT_EQ(found->second.second, cells[column_idx]) << "row " << row_idx << " " << header[column_idx];
        }
        EXPECT_EQ(back.size(), expected_attributes);
        EXPECT_EQ(item.attributes, expected_attributes);
        EXPECT_EQ(item.size, expected_size);
    }
}

TEST(encoder_strings, fast_path_and_other_types_share_one_item) {
    // Strings written by the fast path between numbers, bools, sets, lists and JSON written by the others.
    const std::vector<std::string> header = {"ID", "S1", "Price", "S2", "Flag", "Tags", "S3", "Doc", "List", "S4"};
    mapping m;
    auto rule = [&](const char* column, value_type type) {
        column_rule r;
        r.column = column;
        r.type = type;
        m.columns.push_back(r);
    };
    rule("Price", value_type::NUMBER);
    rule("Flag", value_type::BOOL);
    rule("Tags", value_type::STRING_SET);
    rule("Doc", value_type::JSON);
    rule("List", value_type::LIST);
    auto bound = item_encoder::bind(m, key_schema{key_attribute{"ID", key_type::S}, std::nullopt}, header);
    ASSERT_TRUE(bound) << bound.err().message;
    item_encoder encoder = std::move(bound).value();
    const std::vector<std::string> cells = {"k\"1",
                                            "tab\there",
                                            "-0012.50",
                                            "x\\y",
                                            "yes",
                                            "b,a,b",
                                            "\x01"
                                            "ctl",
                                            "{\"a\":[1,\"q\\\"\"]}",
                                            "p,q",
                                            "last \"one\""};
    std::vector<std::string_view> fields(cells.begin(), cells.end());
    std::vector<uint8_t> quoted(fields.size(), 0);
    tarius::csv::row r;
    r.fields = fields;
    r.quoted = quoted;
    encoded_item item;
    tarius::row_problem problem;
    ASSERT_TRUE(encoder.encode(r, item, problem)) << problem.message;
    EXPECT_EQ(item.json, R"({"ID":{"S":"k\"1"},"S1":{"S":"tab\there"},"Price":{"N":"-12.5"},"S2":{"S":"x\\y"},)"
                         R"("Flag":{"BOOL":true},"Tags":{"SS":["b","a"]},"S3":{"S":"\u0001ctl"},)"
                         R"("Doc":{"M":{"a":{"L":[{"N":"1"},{"S":"q\""}]}}},"List":{"L":[{"S":"p"},{"S":"q"}]},)"
                         R"("S4":{"S":"last \"one\""}})");
    EXPECT_EQ(item.attributes, 10u);
}

}  // namespace
