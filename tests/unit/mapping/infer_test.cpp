// tarius infer: a type per column, empty cells, key candidates, the sample's limits, and the document written.
#include "tarius/infer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapping/doc_tree.hpp"

namespace {

using namespace tarius::mapping;

sample_profile profile_of(const std::string& csv, uint64_t max_rows = DEFAULT_SAMPLE_ROWS) {
    sample_options options;
    options.max_rows = max_rows;
    auto profiled = profile_bytes(csv, options);
    EXPECT_TRUE(profiled.has_value()) << (profiled ? "" : profiled.err().message) << "\n" << csv;
    return profiled ? std::move(profiled).value() : sample_profile{};
}

std::string type_name(const column_profile& col) {
    return value_type_name(col.type);
}

TEST(infer, a_type_per_column) {
    const struct {
        const char* csv;  // one column V (and a key column K so that the key does not change V)
        const char* type;
        uint64_t empty;
    } cases[] = {
        // number: every non-empty cell written as DynamoDB stores it
        {"V\n1\n-2\n3.25\n0\n", "number", 0},
        {"V\n12345678901234567890123456789012345678\n", "number", 0},  // 38 digits
        {"V\n1\n\n2\n", "number", 1},                                  // an empty cell is not evidence
        {"V\n1\n   \n2\n", "number", 1},                               // blanks around nothing: empty
        {"V\n 5 \n", "number", 0},                                     // unquoted blanks are trimmed by any column
        // ... and nothing else: the spellings DynamoDB would rewrite stay strings
        {"V\n007\n", "string", 0},
        {"V\n+5\n", "string", 0},
        {"V\n1.50\n", "string", 0},
        {"V\n1.0\n", "string", 0},
        {"V\n1e3\n", "string", 0},
        {"V\n1\n1.0e500\n", "string", 0},  // out of DynamoDB's range: no number at all
        {"V\n.5\n", "string", 0},
        {"V\n5.\n", "string", 0},
        {"V\n-0\n", "string", 0},
        {"V\n\" 5\"\n", "string", 0},                                   // quoted blanks are content
        {"V\n123456789012345678901234567890123456789\n", "string", 0},  // 39 digits: DynamoDB keeps 38
        {"V\n1\n2\nthree\n", "string", 0},
        {"V\n\"1,000\"\n", "string", 0},
        {"V\nNaN\n", "string", 0},
        // bool: the encoder's spellings, any case; 0/1 alone are numbers (the first rule)
        {"V\ntrue\nFALSE\nYes\nno\nY\nn\n", "bool", 0},
        {"V\ntrue\n1\n0\n", "bool", 0},
        {"V\n1\n0\n1\n", "number", 0},
        {"V\ntrue\n\nfalse\n", "bool", 1},
        {"V\ntrue\nmaybe\n", "string", 0},
        {"V\nt\nf\n", "string", 0},
        // json: objects and arrays the encoder takes
        {"V\n\"{\"\"a\"\": 1}\"\n\"[1, \"\"x\"\"]\"\n[]\n", "json", 0},
        {"V\n\"{\"\"a\"\": {\"\"b\"\": [true, null]}}\"\n\n", "json", 1},
        {"V\n\"{\"\"a\"\": 1}\"\n\"\"\"just a string\"\"\"\n", "string", 0},  // a JSON string is not a container
        {"V\n\"{\"\"a\"\": 1}\"\n{oops\n", "string", 0},
        {"V\n[1e400]\n", "string", 0},  // a number DynamoDB cannot store
        {"V\n[1] [2]\n", "string", 0},  // text after the value
        // nothing but empty cells: no evidence, a string
        {"V\n\n\"\"\n", "string", 2},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.csv);
        // A key column in front keeps every row a row (a line of nothing but an empty cell is a blank line).
        std::string csv;
        const std::string text = c.csv;
        size_t start = 0;
        uint64_t row = 0;
        while (start < text.size()) {
            const size_t end = text.find('\n', start);
            const std::string line = text.substr(start, end - start);
            csv += (row == 0 ? "K" : "k" + std::to_string(row)) + "," + line + "\n";
            ++row;
            start = end + 1;
        }
        const sample_profile p = profile_of(csv);
        ASSERT_EQ(p.columns.size(), 2u);
        EXPECT_EQ(type_name(p.columns[1]), c.type);
        EXPECT_EQ(p.columns[1].empty, c.empty);
    }
}

TEST(infer, hints_for_numbers_kept_as_strings) {
    const struct {
        const char* csv;
        bool has_hint;
        bool currency;
        const char* cell;
        const char* stored;
        uint64_t line;
    } cases[] = {
        {"V\n1\n007\n1.50\n", true, false, "007", "7", 3},
        {"V\n+5\n", true, false, "+5", "5", 2},
        {"V\n12.5\n\"$1,299.00\"\n", true, true, "$1,299.00", "1299", 3},
        {"V\n$12.99 \n$28.93 \n", true, true, "$12.99", "12.99", 2},
        {"V\n007\nabc\n", false, false, "", "", 0},
        {"V\nabc\n", false, false, "", "", 0},
        {"V\n1\n2\n", false, false, "", "", 0},  // a number: nothing to hint
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.csv);
        const sample_profile p = profile_of(c.csv);
        ASSERT_EQ(p.columns.size(), 1u);
        const column_profile& col = p.columns[0];
        ASSERT_EQ(col.hint.has_value(), c.has_hint);
        if (!c.has_hint) continue;
        EXPECT_EQ(col.type, value_type::STRING);
        EXPECT_EQ(col.hint->currency, c.currency);
        EXPECT_EQ(col.hint->cell, c.cell);
        EXPECT_EQ(col.hint->stored, c.stored);
        EXPECT_EQ(col.hint->line, c.line);
    }
}

TEST(infer, counts_empty_and_distinct_cells) {
    const sample_profile p = profile_of("A,B,C\nx,1,\nx,2,\" \"\ny,, \n");
    ASSERT_EQ(p.columns.size(), 3u);
    EXPECT_EQ(p.rows, 3u);
    EXPECT_EQ(p.columns[0].values, 3u);
    EXPECT_EQ(p.columns[0].distinct, 2u);
    EXPECT_EQ(p.columns[1].empty, 1u);
    EXPECT_EQ(p.columns[1].distinct, 2u);
    EXPECT_EQ(p.columns[2].empty, 2u);  // the quoted blank is content for a string column
    EXPECT_EQ(p.columns[2].values, 1u);
    EXPECT_EQ(p.columns[1].max_bytes, 1u);
}

TEST(infer, flags_and_names) {
    const sample_profile p = profile_of(
        "Flag,ProductId,paid,SKU,order_key,1,true,zip_code\n"
        "1,a,x,s,k,5,yes,z1\n"
        "0,b,y,t,l,6,no,z2\n");
    ASSERT_EQ(p.columns.size(), 8u);
    EXPECT_TRUE(p.columns[0].only_zero_one);
    EXPECT_FALSE(p.columns[0].named_like_key);
    EXPECT_TRUE(p.columns[1].named_like_key);
    EXPECT_FALSE(p.columns[2].named_like_key);  // "paid" ends in "id" but is not the word id
    EXPECT_TRUE(p.columns[3].named_like_key);
    EXPECT_TRUE(p.columns[4].named_like_key);
    EXPECT_TRUE(p.columns[5].name_looks_like_value);  // a header "1" over numbers: line 1 may be data
    EXPECT_TRUE(p.columns[6].name_looks_like_value);  // "true" over bools
    EXPECT_FALSE(p.columns[7].named_like_key);        // a code is not always an identifier (zip, country, currency)
    EXPECT_FALSE(p.columns[1].name_looks_like_value);
}

std::string key_names(const sample_profile& p) {
    std::string out = p.columns[p.keys.partition].name;
    if (p.keys.sort) out += "+" + p.columns[*p.keys.sort].name;
    return out;
}

std::string candidate_names(const sample_profile& p) {
    std::string out;
    for (const size_t idx : p.keys.candidates) out += (out.empty() ? "" : ",") + p.columns[idx].name;
    return out;
}

TEST(infer, key_candidates) {
    const struct {
        const char* csv;
        key_basis basis;
        const char* key;         // partition[+sort]
        const char* candidates;  // best first
    } cases[] = {
        // unique and non-empty; named like a key first, then leftmost
        {"Name,ID,Url\na,1,u1\nb,2,u2\n", key_basis::UNIQUE_COLUMN, "ID", "ID,Name,Url"},
        {"Name,Url\na,u1\nb,u2\n", key_basis::UNIQUE_COLUMN, "Name", "Name,Url"},
        {"Name,SellerId\na,s\nb,s\n", key_basis::UNIQUE_COLUMN, "Name", "Name"},  // SellerId repeats
        {"A,B\n1,x\n,y\n", key_basis::UNIQUE_COLUMN, "B", "B"},                   // A has an empty cell
        {"A,B\n1,x\n1.0,y\n", key_basis::UNIQUE_COLUMN, "A", "A,B"},              // distinct as text (a string column)
        // bool and json columns are not keys
        {"Flag,Name\ntrue,a\nfalse,a\n", key_basis::NOT_UNIQUE, "Name", ""},
        // no single column: a pair, the one with fewer distinct values as partition key
        {"store,sku,qty\ns1,a,1\ns1,b,1\ns2,a,2\n", key_basis::UNIQUE_PAIR, "store+sku", ""},
        {"ts,sensor,v\n1,a,0\n2,a,0\n1,b,0\n3,b,0\n", key_basis::UNIQUE_PAIR, "sensor+ts", ""},
        // nothing unique: the most distinct values, never empty preferred
        {"A,B\nx,1\nx,2\ny,2\ny,1\nx,1\n", key_basis::NOT_UNIQUE, "A", ""},
        {"A,B\n,1\nb,1\nc,1\nd,2\nd,2\n", key_basis::NOT_UNIQUE, "B", ""},
        {"A,B\nx,1\nx,2\nx,3\nx,3\n", key_basis::NOT_UNIQUE, "B", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.csv);
        const sample_profile p = profile_of(c.csv);
        EXPECT_EQ(p.keys.basis, c.basis);
        EXPECT_EQ(key_names(p), c.key);
        EXPECT_EQ(candidate_names(p), c.candidates);
    }
}

TEST(infer, long_values_are_not_partition_keys) {
    const std::string long_value(2049, 'x');
    const sample_profile p = profile_of("A,B\n" + long_value + "a,1\n" + long_value + "b,1x\n");
    EXPECT_EQ(candidate_names(p), "B");
}

TEST(infer, the_sample_stops_after_max_rows) {
    const struct {
        uint64_t max_rows;
        bool whole_file;
        uint64_t rows;
    } cases[] = {{1, false, 1}, {2, false, 2}, {3, true, 3}, {100, true, 3}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.max_rows);
        const sample_profile p = profile_of("A\n1\n2\nx\n", c.max_rows);
        EXPECT_EQ(p.whole_file, c.whole_file);
        EXPECT_EQ(p.rows, c.rows);
        EXPECT_EQ(type_name(p.columns[0]), c.rows < 3 ? "number" : "string");
    }
}

TEST(infer, dialect_and_malformed_rows) {
    const struct {
        const char* csv;
        char delimiter;
        bool sep_line;
        uint64_t header_line;
        uint64_t rows;
        uint64_t malformed;
    } cases[] = {
        {"a;b\n1;2\n", ';', false, 1, 1, 0},     {"a\tb\n1\t2\n", '\t', false, 1, 1, 0},
        {"a|b|c\n1|2|3\n", '|', false, 1, 1, 0}, {"sep=;\na;b\n1;2\n", ';', true, 2, 1, 0},
        {"a,b\r\n1,2\r\n", ',', false, 1, 1, 0}, {"a,b\n1,2\n3\n4,5,6\n7,8\n", ',', false, 1, 2, 2},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.csv);
        const sample_profile p = profile_of(c.csv);
        EXPECT_EQ(p.delimiter, c.delimiter);
        EXPECT_EQ(p.sep_line, c.sep_line);
        EXPECT_EQ(p.header_line, c.header_line);
        EXPECT_EQ(p.rows, c.rows);
        EXPECT_EQ(p.malformed, c.malformed);
        EXPECT_EQ(p.first_malformed.size(), c.malformed);
    }
}

TEST(infer, files_without_rows_are_errors) {
    const struct {
        const char* csv;
        const char* message;
    } cases[] = {
        {"", "file is empty: no header line"},
        {"\xEF\xBB\xBF", "file is empty: no header line"},
        {"a,b\n", "no rows after the header (line 1)"},
        {"a,b", "no rows after the header (line 1)"},
        {"sep=;\na;b\n\n\n", "no rows after the header (line 2)"},
        {"a,b\n1\n2,3,4\n", "every sampled row is malformed (2 rows; line 2: "},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.csv);
        auto profiled = profile_bytes(c.csv, sample_options{});
        ASSERT_FALSE(profiled.has_value());
        EXPECT_EQ(profiled.err().code, tarius::errc::CSV_FILE);
        EXPECT_NE(profiled.err().message.find(c.message), std::string::npos) << profiled.err().message;
    }
}

TEST(infer, yaml_scalars) {
    const struct {
        const char* text;
        const char* yaml;
    } cases[] = {
        {"ID", "ID"},
        {"seller_id", "seller_id"},
        {"a.b-c", "a.b-c"},
        {"Price (USD)", "\"Price (USD)\""},
        {"two words", "\"two words\""},
        {"", "\"\""},
        {"true", "\"true\""},
        {"No", "\"No\""},
        {"y", "\"y\""},
        {"null", "\"null\""},
        {"123", "\"123\""},
        {"1e3", "\"1e3\""},
        {"-x", "\"-x\""},
        {"#tag", "\"#tag\""},
        {"a: b", "\"a: b\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"line\nbreak", "\"line\\nbreak\""},
        {"tab\there", "\"tab\\there\""},
        {"bell\x07", "\"bell\\u0007\""},
        {"del\x7F", "\"del\\u007F\""},
        {"nel\xC2\x85", "\"nel\\u0085\""},
        {"ls\xE2\x80\xA8", "\"ls\\u2028\""},
        {"Caf\xC3\xA9", "\"Caf\xC3\xA9\""},  // printable: kept as UTF-8
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        EXPECT_EQ(yaml_scalar(c.text), c.yaml);
    }
}

TEST(infer, feed_names) {
    const struct {
        const char* path;
        const char* name;
    } cases[] = {
        {"products.csv", "products"},
        {"/work/shared/seed-data/products.csv", "products"},
        {"data/My Prices 2024.CSV.gz", "my_prices_2024"},
        {"stock.tsv.zst", "stock"},
        {"x.csv.gz.csv", "x"},
        {"-", "feed"},
        {".csv", "csv"},  // a hidden file named csv
        {"__a__b__.csv", "a_b"},
        {"dir.csv/file", "file"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.path);
        EXPECT_EQ(feed_name_for(c.path), c.name);
    }
    EXPECT_EQ(starter_for("ab.csv", 10).table, "ab_table");
    EXPECT_EQ(starter_for("ab.csv", 10).prefix, "raw-data/ab/");
    EXPECT_EQ(starter_for("abc.csv", 10).table, "abc");
}

// The document's mapping, read back by the mapping interpreter that parse_feeds uses.
mapping mapping_of(const std::string& document, const std::string& feed) {
    auto root = detail::parse_document("feeds", document);
    EXPECT_TRUE(root.has_value()) << (root ? "" : root.err().message) << "\n" << document;
    if (!root) return {};
    const detail::doc_node* node = &*root;
    for (const std::string& field : {std::string("feeds"), feed, std::string("mapping")}) {
        const detail::doc_node* next = nullptr;
        for (const auto& entry : node->entries) {
            if (entry.first == field) next = &entry.second;
        }
        EXPECT_NE(next, nullptr) << field << "\n" << document;
        if (next == nullptr) return {};
        node = next;
    }
    auto m = detail::interpret_mapping(*node, "feeds." + feed + ".mapping");
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.err().message) << "\n" << document;
    return m ? std::move(m).value() : mapping{};
}

TEST(infer, the_document_reads_back) {
    const std::string csv =
        "ID,\"Price (USD)\",in stock,attrs,7,Notes\n"
        "1,$1.00,yes,\"{\"\"a\"\":1}\",1,\"x\ny\"\n"
        "2,$2.00,no,[],0,\n";
    const sample_profile p = profile_of(csv);
    for (const bool as_json : {false, true}) {
        SCOPED_TRACE(as_json);
        const starter_feed feed = starter_for("dir/My File.csv", 100);
        const std::string doc = as_json ? render_feed_json(p, feed) : render_feed_yaml(p, feed);
        const mapping m = mapping_of(doc, "my_file");
        ASSERT_TRUE(m.keys.has_value()) << doc;
        EXPECT_EQ(m.keys->partition.name, "ID");
        EXPECT_EQ(m.keys->partition.type, key_type::N);
        EXPECT_FALSE(m.keys->sort.has_value());
        std::string rules;
        for (const auto& rule : m.columns) rules += rule.column + "=" + value_type_name(*rule.type) + ";";
        EXPECT_EQ(rules, "in stock=bool;attrs=json;7=number;") << doc;
        if (as_json) continue;
        EXPECT_NE(doc.find("      partition_key: ID:N\n"), std::string::npos) << doc;
        EXPECT_NE(doc.find("        \"in stock\": {type: bool}\n"), std::string::npos) << doc;
        EXPECT_NE(doc.find("    match: {prefix: \"raw-data/my_file/\"}\n"), std::string::npos) << doc;
        EXPECT_NE(doc.find("{type: number, currency: true} would store \"$1.00\" (line 2) as 1"), std::string::npos)
            << doc;
        EXPECT_NE(doc.find("Warning: the names \"7\" look like values"), std::string::npos) << doc;
        EXPECT_NE(doc.find("# Delimiter: \",\" (comma), sniffed from the header line.\n"), std::string::npos) << doc;
    }
}

TEST(infer, names_that_need_quoting_read_back) {
    const std::string csv =
        "\"key: one\",\"#n\",\"y\",\"a \"\"q\"\"\",\"x\ty\"\n"
        "k1,1,true,{},1\n"
        "k2,2,false,[],2\n";
    const sample_profile p = profile_of(csv);
    for (const bool as_json : {false, true}) {
        SCOPED_TRACE(as_json);
        const std::string doc =
            as_json ? render_feed_json(p, starter_for("q.csv", 10)) : render_feed_yaml(p, starter_for("q.csv", 10));
        const mapping m = mapping_of(doc, "q");
        ASSERT_TRUE(m.keys.has_value()) << doc;
        EXPECT_EQ(m.keys->partition.name, "key: one");
        std::string rules;
        for (const auto& rule : m.columns) rules += rule.column + "=" + value_type_name(*rule.type) + ";";
        EXPECT_EQ(rules, "#n=number;y=bool;a \"q\"=json;x\ty=number;") << doc;
    }
}

TEST(infer, a_pair_key_reads_back) {
    const sample_profile p = profile_of("store,sku,qty\ns1,a,1\ns1,b,1\ns2,a,2\n");
    const mapping m = mapping_of(render_feed_yaml(p, starter_for("stock.csv", 10)), "stock");
    ASSERT_TRUE(m.keys.has_value());
    EXPECT_EQ(m.keys->partition.name, "store");
    ASSERT_TRUE(m.keys->sort.has_value());
    EXPECT_EQ(m.keys->sort->name, "sku");
}

}  // namespace
