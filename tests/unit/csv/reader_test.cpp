// Tables of literal cases for the CSV reader. Each case is also fed in 1-byte chunks and split in two at every
// point (run_all_splits); every run must give the same events.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tarius/csv.hpp"
#include "unit/csv/reader_harness.hpp"

namespace tarius::csv {
namespace {

using testing::run_all_splits;
using testing::visible;

struct reader_case {
    std::string_view input;
    std::vector<std::string> expected;  // events, then stats or error
};

dialect with_delimiter(char c) {
    dialect d;
    d.delimiter = c;
    return d;
}

void check_cases(const dialect& d, const std::vector<reader_case>& cases) {
    for (const auto& c : cases) {
        EXPECT_EQ(run_all_splits(d, c.input), c.expected) << "input: " << visible(c.input);
    }
}

constexpr std::string_view HEADER_AB = "header [a] [b] delim=, raw=a,b\\n";

TEST(csv_reader, line_breaks_and_offsets) {
    check_cases(dialect{},
                {
                    {"a,b\n1,2\n",
                     {std::string(HEADER_AB), "ok L2 4-8 q00 raw=1,2\\n fields=1|2",
                      "stats bytes=8 rows=1 bad=0 blank=0 lines=2"}},
                    {"a,b\r\n1,2\r\n",
                     {"header [a] [b] delim=, raw=a,b\\r\\n", "ok L2 5-10 q00 raw=1,2\\r\\n fields=1|2",
                      "stats bytes=10 rows=1 bad=0 blank=0 lines=2"}},
                    {"a,b\r1,2\r3,4",
                     {"header [a] [b] delim=, raw=a,b\\r", "ok L2 4-8 q00 raw=1,2\\r fields=1|2",
                      "ok L3 8-11 q00 raw=3,4 fields=3|4", "stats bytes=11 rows=2 bad=0 blank=0 lines=3"}},
                    {"a,b\n1,2",
                     {std::string(HEADER_AB), "ok L2 4-7 q00 raw=1,2 fields=1|2",
                      "stats bytes=7 rows=1 bad=0 blank=0 lines=2"}},
                    {"a,b\n1,2\r",
                     {std::string(HEADER_AB), "ok L2 4-8 q00 raw=1,2\\r fields=1|2",
                      "stats bytes=8 rows=1 bad=0 blank=0 lines=2"}},
                    {"a,b", {"header [a] [b] delim=, raw=a,b", "stats bytes=3 rows=0 bad=0 blank=0 lines=1"}},
                    {"a,b\n\n1,2\r\n\r\n\r3,4\n\n",
                     {std::string(HEADER_AB), "ok L3 5-10 q00 raw=1,2\\r\\n fields=1|2",
                      "ok L6 13-17 q00 raw=3,4\\n fields=3|4", "stats bytes=18 rows=2 bad=0 blank=4 lines=7"}},
                    {"\n\r\na,b\n1,2\n",
                     {std::string(HEADER_AB), "ok L4 7-11 q00 raw=1,2\\n fields=1|2",
                      "stats bytes=11 rows=1 bad=0 blank=2 lines=4"}},
                    {"\xEF\xBB\xBF"
                     "a,b\n1,2\n",
                     {std::string(HEADER_AB), "ok L2 7-11 q00 raw=1,2\\n fields=1|2",
                      "stats bytes=11 rows=1 bad=0 blank=0 lines=2"}},
                    // A BOM anywhere else is data.
                    {"a,b\n\xEF\xBB\xBF"
                     "1,2\n",
                     {std::string(HEADER_AB), "ok L2 4-11 q00 raw=\\xEF\\xBB\\xBF1,2\\n fields=\\xEF\\xBB\\xBF1|2",
                      "stats bytes=11 rows=1 bad=0 blank=0 lines=2"}},
                });
}

TEST(csv_reader, quoting_like_python) {
    check_cases(
        dialect{},
        {
            {"a,b\n\"x,y\",\"q\"\"r\"\n",
             {std::string(HEADER_AB), "ok L2 4-17 q11 raw=\"x,y\",\"q\"\"r\"\\n fields=x,y|q\"r",
              "stats bytes=17 rows=1 bad=0 blank=0 lines=2"}},
            // Line breaks inside quotes: LF, CRLF and lone CR are data and count as lines.
            {"a,b\n\"1\n2\",\"3\r\n4\"\n\"5\r6\",x\n",
             {std::string(HEADER_AB), "ok L2 4-17 q11 raw=\"1\\n2\",\"3\\r\\n4\"\\n fields=1\\n2|3\\r\\n4",
              "ok L5 17-25 q10 raw=\"5\\r6\",x\\n fields=5\\r6|x", "stats bytes=25 rows=2 bad=0 blank=0 lines=6"}},
            // A quote inside an unquoted field is literal.
            {"a,b\nab\"c,d\"\n",
             {std::string(HEADER_AB), "ok L2 4-12 q00 raw=ab\"c,d\"\\n fields=ab\"c|d\"",
              "stats bytes=12 rows=1 bad=0 blank=0 lines=2"}},
            // Text after a closing quote is appended; quotes there are literal.
            {"a,b\n\"ab\"cd,\"x\"\"\"y\"z\n",
             {std::string(HEADER_AB), "ok L2 4-20 q11 raw=\"ab\"cd,\"x\"\"\"y\"z\\n fields=abcd|x\"y\"z",
              "stats bytes=20 rows=1 bad=0 blank=0 lines=2"}},
            // Empty fields, quoted and not; a field that is just "" is not a blank line.
            {"a,b\n,\n\"\",\n\"\"\n",
             {std::string(HEADER_AB), "ok L2 4-6 q00 raw=,\\n fields=|", "ok L3 6-10 q10 raw=\"\",\\n fields=|",
              "field_count col=-1@10 L4 10-13 q1 raw=\"\"\\n fields=", "stats bytes=13 rows=3 bad=1 blank=0 lines=4"}},
            // A space before a quote makes the field unquoted; fields are not trimmed.
            {"a,b\n \"x\" , y \n",
             {std::string(HEADER_AB), "ok L2 4-14 q00 raw= \"x\" , y \\n fields= \"x\" | y ",
              "stats bytes=14 rows=1 bad=0 blank=0 lines=2"}},
            // Closing quote right before CR, CRLF, end of input.
            {"a,b\n\"1\",\"2\"\r\"3\",\"4\"",
             {std::string(HEADER_AB), "ok L2 4-12 q11 raw=\"1\",\"2\"\\r fields=1|2",
              "ok L3 12-19 q11 raw=\"3\",\"4\" fields=3|4", "stats bytes=19 rows=2 bad=0 blank=0 lines=3"}},
            {"a,b\n1,\"\"",
             {std::string(HEADER_AB), "ok L2 4-8 q01 raw=1,\"\" fields=1|",
              "stats bytes=8 rows=1 bad=0 blank=0 lines=2"}},
            {"a,b\n1,",
             {std::string(HEADER_AB), "ok L2 4-6 q00 raw=1, fields=1|", "stats bytes=6 rows=1 bad=0 blank=0 lines=2"}},
            // NUL and other control bytes are data.
            {std::string_view("a,b\n\0,\x0b\n", 8),
             {std::string(HEADER_AB), "ok L2 4-8 q00 raw=\\x00,\\x0B\\n fields=\\x00|\\x0B",
              "stats bytes=8 rows=1 bad=0 blank=0 lines=2"}},
            // Quoted header names; names trimmed of spaces and tabs (only in the header).
            {"\" a \",\tb \n 1 ,2\n",
             {"header [a] [b] delim=, raw=\" a \",\\tb \\n", "ok L2 10-16 q00 raw= 1 ,2\\n fields= 1 |2",
              "stats bytes=16 rows=1 bad=0 blank=0 lines=2"}},
            // 4-byte UTF-8 in a field.
            {"a,b\n\xF0\x9F\x98\x80,\"\xC3\xA9\"\n",
             {std::string(HEADER_AB),
              "ok L2 4-14 q01 raw=\\xF0\\x9F\\x98\\x80,\"\\xC3\\xA9\"\\n fields=\\xF0\\x9F\\x98\\x80|\\xC3\\xA9",
              "stats bytes=14 rows=1 bad=0 blank=0 lines=2"}},
        });
}

TEST(csv_reader, bad_rows) {
    check_cases(dialect{},
                {
                    {"a,b\n1\n1,2,3\n4,5\n",
                     {std::string(HEADER_AB), "field_count col=-1@4 L2 4-6 q0 raw=1\\n fields=1",
                      "field_count col=-1@6 L3 6-12 q000 raw=1,2,3\\n fields=1|2|3",
                      "ok L4 12-16 q00 raw=4,5\\n fields=4|5", "stats bytes=16 rows=3 bad=2 blank=0 lines=4"}},
                    // A lone space is a row with one field, not a blank line.
                    {"a,b\n \n",
                     {std::string(HEADER_AB), "field_count col=-1@4 L2 4-6 q0 raw= \\n fields= ",
                      "stats bytes=6 rows=1 bad=1 blank=0 lines=2"}},
                    {"a,b\n1,\"abc\n",
                     {std::string(HEADER_AB), "unterminated_quote col=1@6 L2 4-11 q01 raw=1,\"abc\\n fields=1|abc\\n",
                      "stats bytes=11 rows=1 bad=1 blank=0 lines=2"}},
                    {"a,b\n1,2\n\"x\"\"",
                     {std::string(HEADER_AB), "ok L2 4-8 q00 raw=1,2\\n fields=1|2",
                      "unterminated_quote col=0@8 L3 8-12 q1 raw=\"x\"\" fields=x\"",
                      "stats bytes=12 rows=2 bad=1 blank=0 lines=3"}},
                    // Invalid UTF-8: offset of the bad sequence's first byte, its column; no fields.
                    {"a,b\n1,x\xFFy\n2,3\n",
                     {std::string(HEADER_AB), "invalid_utf8 col=1@7 L2 4-10 q raw=1,x\\xFFy\\n fields=",
                      "ok L3 10-14 q00 raw=2,3\\n fields=2|3", "stats bytes=14 rows=2 bad=1 blank=0 lines=3"}},
                    {"a,b\n\xC3\xA9\xE2\x82,1\n",
                     {std::string(HEADER_AB), "invalid_utf8 col=0@6 L2 4-11 q raw=\\xC3\\xA9\\xE2\\x82,1\\n fields=",
                      "stats bytes=11 rows=1 bad=1 blank=0 lines=2"}},
                    {"a,b\n1,\"\xED\xA0\x80\"\n",
                     {std::string(HEADER_AB), "invalid_utf8 col=1@7 L2 4-12 q raw=1,\"\\xED\\xA0\\x80\"\\n fields=",
                      "stats bytes=12 rows=1 bad=1 blank=0 lines=2"}},
                });
}

TEST(csv_reader, delimiters) {
    check_cases(with_delimiter('\t'),
                {
                    {"a\tb\n1,2\t\"x\ty\"\n",
                     {"header [a] [b] delim=\\t raw=a\\tb\\n", "ok L2 4-14 q01 raw=1,2\\t\"x\\ty\"\\n fields=1,2|x\\ty",
                      "stats bytes=14 rows=1 bad=0 blank=0 lines=2"}},
                });
    check_cases(with_delimiter('|'),
                {
                    {"a|b\n1,2|3;4\n",
                     {"header [a] [b] delim=| raw=a|b\\n", "ok L2 4-12 q00 raw=1,2|3;4\\n fields=1,2|3;4",
                      "stats bytes=12 rows=1 bad=0 blank=0 lines=2"}},
                });
    check_cases(with_delimiter(';'),
                {
                    {"a;b\n\"1;2\";3,4\n",
                     {"header [a] [b] delim=; raw=a;b\\n", "ok L2 4-14 q10 raw=\"1;2\";3,4\\n fields=1;2|3,4",
                      "stats bytes=14 rows=1 bad=0 blank=0 lines=2"}},
                });
    dialect sniff;
    sniff.sniff_delimiter = true;
    check_cases(sniff, {
                           {"a;b;c\n1;2;3\n",
                            {"header [a] [b] [c] delim=; raw=a;b;c\\n", "ok L2 6-12 q000 raw=1;2;3\\n fields=1|2|3",
                             "stats bytes=12 rows=1 bad=0 blank=0 lines=2"}},
                           {"\xEF\xBB\xBF\r\n\"x|y\"\t\"z\"\n1\t2\n",
                            {"header [x|y] [z] delim=\\t raw=\"x|y\"\\t\"z\"\\n",
                             "ok L3 15-19 q00 raw=1\\t2\\n fields=1|2", "stats bytes=19 rows=1 bad=0 blank=1 lines=3"}},
                           {"abc\n1\n",
                            {"header [abc] delim=, raw=abc\\n", "ok L2 4-6 q0 raw=1\\n fields=1",
                             "stats bytes=6 rows=1 bad=0 blank=0 lines=2"}},
                       });
}

TEST(csv_reader, sniffing_does_not_depend_on_chunks) {
    // Fuzz regression (fuzz/corpus/fuzz_csv_reader/regression_sniff_chunking): with a header longer than
    // max_row_size the sniffed text depended on the first chunk's size. Now it is the first max_row_size + 4 bytes.
    dialect d;
    d.sniff_delimiter = true;
    d.max_row_size = 4;
    check_cases(d, {
                       {"ab;cd;ef,gh,ij,kl\n",
                        {"error csv_file: line 1: header: the header line is over the 4-byte row limit "
                         "(is this a CSV file?)"}},
                   });
    d.max_row_size = 8;
    d.has_header = false;
    d.header_list = {"x", "y", "z"};
    check_cases(
        d, {
               {"1;2;3\n4,5",
                {"header [x] [y] [z] delim=; raw=", "ok L1 0-6 q000 raw=1;2;3\\n fields=1|2|3",
                 "field_count col=-1@6 L2 6-9 q0 raw=4,5 fields=4,5", "stats bytes=9 rows=2 bad=1 blank=0 lines=2"}},
           });
    d.max_row_size = 4;  // the sniffed text is "a;b;c;d," although the whole line has more commas
    check_cases(d, {
                       {"a;b;c;d,e,f,g,h,i\n",
                        {"header [x] [y] [z] delim=; raw=", "row_too_large col=-1@0 L1 0-18 q raw=a;b;... fields=",
                         "stats bytes=18 rows=1 bad=1 blank=0 lines=1"}},
                   });
}

// Excel's `sep=X` first line names the delimiter and is no row (Excel hides it). Python's csv module knows no
// such line (it would read `sep=;` as a one-field row), so these follow Excel; the line numbers and byte offsets
// still count the line, and the header's raw bytes start with it so that a rejects file reads the same way.
TEST(csv_reader, excel_sep_line_names_the_delimiter) {
    const dialect not_given;  // the default ',' was not chosen by anyone: the file's line decides
    check_cases(not_given,
                {
                    {"sep=;\na;b\n1;2\n",
                     {"header [a] [b] delim=; raw=sep=;\\na;b\\n", "ok L3 10-14 q00 raw=1;2\\n fields=1|2",
                      "stats bytes=14 rows=1 bad=0 blank=0 lines=3"}},
                    {"sep=|\r\na|b\r\n1|2\r\n",
                     {"header [a] [b] delim=| raw=sep=|\\r\\na|b\\r\\n", "ok L3 12-17 q00 raw=1|2\\r\\n fields=1|2",
                      "stats bytes=17 rows=1 bad=0 blank=0 lines=3"}},
                    {"sep=;\ra;b\r1;2",
                     {"header [a] [b] delim=; raw=sep=;\\ra;b\\r", "ok L3 10-13 q00 raw=1;2 fields=1|2",
                      "stats bytes=13 rows=1 bad=0 blank=0 lines=3"}},
                    {"\xEF\xBB\xBFSEP=\t\na\tb\n1\t2\n",
                     {"header [a] [b] delim=\\t raw=SEP=\\t\\na\\tb\\n", "ok L3 13-17 q00 raw=1\\t2\\n fields=1|2",
                      "stats bytes=17 rows=1 bad=0 blank=0 lines=3"}},
                    {"sep=,\n\r\n\"a\",b\n1,2\n",
                     {"header [a] [b] delim=, raw=sep=,\\n\\r\\n\"a\",b\\n", "ok L4 14-18 q00 raw=1,2\\n fields=1|2",
                      "stats bytes=18 rows=1 bad=0 blank=1 lines=4"}},
                    {"sep=;\na;b\n1;2;3\n4,5\n",
                     {"header [a] [b] delim=; raw=sep=;\\na;b\\n",
                      "field_count col=-1@10 L3 10-16 q000 raw=1;2;3\\n fields=1|2|3",
                      "field_count col=-1@16 L4 16-20 q0 raw=4,5\\n fields=4,5",
                      "stats bytes=20 rows=2 bad=2 blank=0 lines=4"}},
                    {"sep=;\na;;b\n",
                     {"error csv_file: line 2: header: empty header name in column 2 (column names must be unique "
                      "and non-empty)"}},
                    {"sep=;\n", {"error csv_file: file is empty: no header line"}},
                    {"sep=;", {"error csv_file: file is empty: no header line"}},
                    {"sep=:\na:b\n",
                     {"error csv_file: line 1: the Excel sep= line names ':' as the delimiter; tarius reads , ; | "
                      "and tab only"}},
                    {"sep=;;\na;b\n",
                     {"error csv_file: line 1: the line starts with sep= but does not name one delimiter character "
                      "(Excel's form is sep=; sep=, sep=| or sep= and a tab)"}},
                    {"sep=\na\n",
                     {"error csv_file: line 1: the line starts with sep= but does not name one delimiter character "
                      "(Excel's form is sep=; sep=, sep=| or sep= and a tab)"}},
                    // Lines that only start like it are headers.
                    {"sep,b\n1,2\n",
                     {"header [sep] [b] delim=, raw=sep,b\\n", "ok L2 6-10 q00 raw=1,2\\n fields=1|2",
                      "stats bytes=10 rows=1 bad=0 blank=0 lines=2"}},
                    {"se\n1\n",
                     {"header [se] delim=, raw=se\\n", "ok L2 3-5 q0 raw=1\\n fields=1",
                      "stats bytes=5 rows=1 bad=0 blank=0 lines=2"}},
                });
    // The witness: with auto, the sniffer took `sep=;` for the header ("empty header name in column 2").
    dialect sniff;
    sniff.sniff_delimiter = true;
    check_cases(sniff, {
                           {"sep=;\nID;Name\n1;a\n",
                            {"header [ID] [Name] delim=; raw=sep=;\\nID;Name\\n",
                             "ok L3 14-18 q00 raw=1;a\\n fields=1|a", "stats bytes=18 rows=1 bad=0 blank=0 lines=3"}},
                       });
    // A delimiter given explicitly must agree with the line.
    auto semicolon = parse_delimiter(";", dialect{});
    ASSERT_TRUE(semicolon);
    check_cases(*semicolon, {
                                {"sep=;\na;b\n1;2\n",
                                 {"header [a] [b] delim=; raw=sep=;\\na;b\\n", "ok L3 10-14 q00 raw=1;2\\n fields=1|2",
                                  "stats bytes=14 rows=1 bad=0 blank=0 lines=3"}},
                            });
    auto comma = parse_delimiter(",", dialect{});
    ASSERT_TRUE(comma);
    check_cases(*comma, {
                            {"sep=;\na;b\n1;2\n",
                             {"error csv_file: line 1: the Excel sep= line names ';' as the delimiter, but the "
                              "delimiter given is ',': give ';' or auto, or leave the delimiter out"}},
                            {"sep=\t\na\tb\n",
                             {"error csv_file: line 1: the Excel sep= line names 'tab' as the delimiter, but the "
                              "delimiter given is ',': give 'tab' or auto, or leave the delimiter out"}},
                        });
    // With header_list the line is still no row: the data starts on line 2.
    dialect listed;
    listed.has_header = false;
    listed.header_list = {"x", "y"};
    check_cases(listed, {
                            {"sep=;\n1;2\n3;4",
                             {"header [x] [y] delim=; raw=sep=;\\n", "ok L2 6-10 q00 raw=1;2\\n fields=1|2",
                              "ok L3 10-13 q00 raw=3;4 fields=3|4", "stats bytes=13 rows=2 bad=0 blank=0 lines=3"}},
                        });
    // The header's raw bytes, the line included, are held to max_row_size like any row.
    dialect small;
    small.max_row_size = 9;
    check_cases(small, {
                           {"sep=;\na;b\n1;2\n",
                            {"error csv_file: line 2: header: the header line is over the 9-byte row limit (is this a "
                             "CSV file?)"}},
                       });
}

TEST(csv_reader, header_list_makes_line_one_data) {
    dialect d;
    d.has_header = false;
    d.header_list = {" x ", "y"};
    check_cases(d, {
                       {"1,2\n3,4",
                        {"header [x] [y] delim=, raw=", "ok L1 0-4 q00 raw=1,2\\n fields=1|2",
                         "ok L2 4-7 q00 raw=3,4 fields=3|4", "stats bytes=7 rows=2 bad=0 blank=0 lines=2"}},
                       {"", {"header [x] [y] delim=, raw=", "stats bytes=0 rows=0 bad=0 blank=0 lines=0"}},
                       {"\xEF\xBB\xBF"
                        "1,2\n",
                        {"header [x] [y] delim=, raw=", "ok L1 3-7 q00 raw=1,2\\n fields=1|2",
                         "stats bytes=7 rows=1 bad=0 blank=0 lines=1"}},
                   });
    d.header_list = {"x", "x"};
    EXPECT_EQ(run_all_splits(d, "1,2\n").back(),
              "error csv_file: header_list: duplicate header names: \"x\" in columns 1 and 2 "
              "(column names must be unique and non-empty)");
    d.header_list = {};
    EXPECT_EQ(run_all_splits(d, "1,2\n").back(),
              "error csv_file: no header: the file has no header line and header_list is empty");
}

TEST(csv_reader, header_errors) {
    const std::vector<std::pair<std::string_view, std::string>> cases = {
        {"", "error csv_file: file is empty: no header line"},
        {"\xEF\xBB\xBF", "error csv_file: file is empty: no header line"},
        {"\n\r\n\r", "error csv_file: file is empty: no header line"},
        {"a,a,b\n1,2,3\n",
         "error csv_file: line 1: header: duplicate header names: \"a\" in columns 1 and 2 "
         "(column names must be unique and non-empty)"},
        {"id, id ,x,id\n",
         "error csv_file: line 1: header: duplicate header names: \"id\" in columns 1 and 2 and 4 "
         "(column names must be unique and non-empty)"},
        {"a,,b, \n",
         "error csv_file: line 1: header: empty header name in columns 2, 4 "
         "(column names must be unique and non-empty)"},
        {"\n\na,b,a,\n",
         "error csv_file: line 3: header: duplicate header names: \"a\" in columns 1 and 3; empty "
         "header name in column 4 (column names must be unique and non-empty)"},
        {"\x89PNG\r\n\x1A\n\x00\x00",
         "error csv_file: line 1: header: not valid UTF-8 at byte offset 0 "
         "(is this a CSV file? re-encode it as UTF-8)"},
        {"a,b\xC3\n",
         "error csv_file: line 1: header: not valid UTF-8 at byte offset 3 "
         "(is this a CSV file? re-encode it as UTF-8)"},
        {"a,\"b\n", "error csv_file: line 1: header: a quoted name is not closed before end of input"},
    };
    for (const auto& [input, expected] : cases) {
        const auto events = run_all_splits(dialect{}, input);
        ASSERT_FALSE(events.empty());
        EXPECT_EQ(events.back(), expected) << visible(input);
        EXPECT_EQ(events.size(), 1U) << visible(input);  // no header, no row before the error
    }
}

TEST(csv_reader, limits) {
    dialect field_limit;
    field_limit.max_field_size = 3;
    check_cases(
        field_limit,
        {
            // The limit applies to the unescaped value: "a""b" is 3 bytes.
            {"a,b\n1,abcd\n1,\"a\"\"b\"\n1,abc\n",
             {std::string(HEADER_AB), "field_too_large col=1@6 L2 4-11 q00 raw=1,abcd\\n fields=1|abcd",
              "ok L3 11-20 q01 raw=1,\"a\"\"b\"\\n fields=1|a\"b", "ok L4 20-26 q00 raw=1,abc\\n fields=1|abc",
              "stats bytes=26 rows=3 bad=1 blank=0 lines=4"}},
            {"abcd,i\n", {"error csv_file: line 1: header: the name of column 1 is over the 3-byte field limit"}},
        });
    dialect row_limit;
    row_limit.max_row_size = 8;
    check_cases(row_limit,
                {
                    // Over max_row_size: raw cut at 8 bytes, no fields; the next row is read normally.
                    {"a,b\n1,2,3,4,5,6\n9,9\n",
                     {std::string(HEADER_AB), "row_too_large col=-1@4 L2 4-16 q raw=1,2,3,4,... fields=",
                      "ok L3 16-20 q00 raw=9,9\\n fields=9|9", "stats bytes=20 rows=2 bad=1 blank=0 lines=3"}},
                    // Exactly the limit (line break included) is fine.
                    {"a,b\n1,23456\n",
                     {std::string(HEADER_AB), "ok L2 4-12 q00 raw=1,23456\\n fields=1|23456",
                      "stats bytes=12 rows=1 bad=0 blank=0 lines=2"}},
                    {"a,b\n\"x\ny\nz\",2\n3,4\n",
                     {std::string(HEADER_AB), "row_too_large col=-1@4 L2 4-14 q raw=\"x\\ny\\nz\",... fields=",
                      "ok L5 14-18 q00 raw=3,4\\n fields=3|4", "stats bytes=18 rows=2 bad=1 blank=0 lines=5"}},
                    // An open quote at end of input wins over the size limit; raw is cut likewise.
                    {"a,b\n1,\"23456789\n0",
                     {std::string(HEADER_AB), "unterminated_quote col=-1@4 L2 4-17 q raw=1,\"23456... fields=",
                      "stats bytes=17 rows=1 bad=1 blank=0 lines=3"}},
                    {"abcdefgh,i\n1,2\n",
                     {"error csv_file: line 1: header: the header line is over the 8-byte row limit "
                      "(is this a CSV file?)"}},
                });
}

TEST(csv_reader, resume_at_skips_rows_before_offset) {
    const std::string_view input = "a,b\n1,2\n3,4\n\n5,6\n";
    // offsets: header 0-4, "1,2" 4-8, "3,4" 8-12, blank 12-13, "5,6" 13-17
    EXPECT_EQ(run_all_splits(dialect{}, input, 8, 3),
              (std::vector<std::string>{std::string(HEADER_AB), "ok L3 8-12 q00 raw=3,4\\n fields=3|4",
                                        "ok L5 13-17 q00 raw=5,6\\n fields=5|6",
                                        "stats bytes=17 rows=2 bad=0 blank=1 lines=5"}));
    EXPECT_EQ(run_all_splits(dialect{}, input, 12, 4),
              (std::vector<std::string>{std::string(HEADER_AB), "ok L5 13-17 q00 raw=5,6\\n fields=5|6",
                                        "stats bytes=17 rows=1 bad=0 blank=1 lines=5"}));
    // The checkpoint's line number is taken as given at the offset.
    EXPECT_EQ(run_all_splits(dialect{}, input, 8, 30),
              (std::vector<std::string>{std::string(HEADER_AB), "ok L30 8-12 q00 raw=3,4\\n fields=3|4",
                                        "ok L32 13-17 q00 raw=5,6\\n fields=5|6",
                                        "stats bytes=17 rows=2 bad=0 blank=1 lines=5"}));
    EXPECT_EQ(run_all_splits(dialect{}, input, 17, 6),
              (std::vector<std::string>{std::string(HEADER_AB), "stats bytes=17 rows=0 bad=0 blank=1 lines=5"}));
}

TEST(csv_reader, sink_error_stops_the_reader) {
    class failing_sink final : public row_sink {
    public:
        result<void> on_header(const header&) override { return ok(); }
        result<void> on_row(const row&) override { return make_error(errc::CANCELLED, "stop"); }
        result<void> on_bad_row(const row&, const row_problem&) override { return ok(); }
    };
    failing_sink sink;
    reader rd(dialect{}, sink);
    const auto outcome = rd.write("a\n1\n2\n");
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.err().code, errc::CANCELLED);
}

TEST(csv_reader, one_byte_chunks_of_a_huge_row_are_linear) {
    // A 4 MiB row fed one byte at a time: quadratic re-scanning would take minutes.
    for (const bool quoted : {false, true}) {
        std::string input = "a,b\n1,";
        if (quoted) input += '"';
        input.append(size_t{4} << 20, 'x');
        if (quoted) input += "\"\"\n\"";
        input += "\n2,3\n";
        dialect d;
        d.max_row_size = size_t{8} << 20;
        d.max_field_size = d.max_row_size;
        testing::recording_sink sink;
        reader rd(d, sink);
        const auto started = std::chrono::steady_clock::now();
        for (const char c : input) ASSERT_TRUE(rd.write(std::string_view(&c, 1)));
        ASSERT_TRUE(rd.finish());
        const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        EXPECT_LT(seconds, 20.0);
        EXPECT_EQ(rd.stats().rows, 2U);
        EXPECT_EQ(rd.stats().bad_rows, 0U);
        EXPECT_EQ(sink.events.size(), 3U);
    }
}

TEST(csv_reader, oversized_row_in_small_chunks_keeps_memory_bounded) {
    // 64 MiB of one unterminated-quote row through a 1 KiB limit: the reader keeps at most the cut raw.
    dialect d;
    d.max_row_size = 1024;
    testing::recording_sink sink;
    reader rd(d, sink);
    ASSERT_TRUE(rd.write("a\n\""));
    const std::string block(size_t{1} << 20, ',');
    for (int block_idx = 0; block_idx < 64; ++block_idx) ASSERT_TRUE(rd.write(block));
    ASSERT_TRUE(rd.finish());
    ASSERT_EQ(sink.events.size(), 2U);
    const std::string expected =
        "unterminated_quote col=-1@2 L2 2-" + std::to_string(3 + (size_t{64} << 20)) + " q raw=\"";
    EXPECT_EQ(sink.events[1].substr(0, expected.size()), expected);
    EXPECT_EQ(sink.events[1].size(), expected.size() + 1023 + 3 + 8);  // 1024 raw bytes, "...", " fields="
    EXPECT_EQ(rd.stats().bad_rows, 1U);
}

TEST(csv_dialect, parse_delimiter) {
    const std::vector<std::pair<std::string_view, char>> good = {{",", ','},    {"comma", ','},    {"\t", '\t'},
                                                                 {"tab", '\t'}, {"|", '|'},        {"pipe", '|'},
                                                                 {";", ';'},    {"semicolon", ';'}};
    for (const auto& [text, expected] : good) {
        const auto parsed = parse_delimiter(text, dialect{});
        ASSERT_TRUE(parsed) << text;
        EXPECT_EQ(parsed->delimiter, expected) << text;
        EXPECT_FALSE(parsed->sniff_delimiter);
        EXPECT_TRUE(parsed->delimiter_given);
    }
    const auto sniff = parse_delimiter("auto", dialect{});
    ASSERT_TRUE(sniff);
    EXPECT_TRUE(sniff->sniff_delimiter);
    EXPECT_FALSE(sniff->delimiter_given);
    EXPECT_FALSE(dialect{}.delimiter_given);
    for (const std::string_view bad : {"", ":", "colon", ",,", "AUTO"}) {
        const auto parsed = parse_delimiter(bad, dialect{});
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.err().code, errc::INVALID_ARGUMENT);
    }
}

TEST(csv_dialect, find_sep_line) {
    using status = sep_line::status;
    const struct {
        std::string_view text;
        bool at_end;
        status found;
        char delimiter;
        size_t length;
    } cases[] = {
        {"sep=;\nID", false, status::FOUND, ';', 6},  {"Sep=|\r\nID", false, status::FOUND, '|', 7},
        {"sep=,\rID", false, status::FOUND, ',', 6},  {"sep=;", true, status::FOUND, ';', 5},
        {"sep=;\r", true, status::FOUND, ';', 6},     {"sep=;\r", false, status::NEED_MORE, 0, 0},
        {"sep=;", false, status::NEED_MORE, 0, 0},    {"se", false, status::NEED_MORE, 0, 0},
        {"", false, status::NEED_MORE, 0, 0},         {"se", true, status::NONE, 0, 0},
        {"sex=;\n", false, status::NONE, 0, 0},       {"ID,sep=;\n", false, status::NONE, 0, 0},
        {"sep=;;\n", false, status::MALFORMED, 0, 0}, {"sep=\n", false, status::MALFORMED, 0, 0},
        {"sep=", true, status::MALFORMED, 0, 0},      {"sep=\t\n", false, status::FOUND, '\t', 6},
    };
    for (const auto& c : cases) {
        const sep_line got = find_sep_line(c.text, c.at_end);
        EXPECT_EQ(got.found, c.found) << visible(c.text);
        if (c.found != status::FOUND) continue;
        EXPECT_EQ(got.delimiter, c.delimiter) << visible(c.text);
        EXPECT_EQ(got.length, c.length) << visible(c.text);
    }
}

TEST(csv_dialect, sniff_delimiter) {
    const std::vector<std::pair<std::string_view, char>> cases = {
        {"a,b,c", ','},        {"a;b;c", ';'},        {"a\tb\tc", '\t'}, {"a|b|c", '|'}, {"abc", ','}, {"", ','},
        {"\"a;b;c\",d", ','},                          // candidates inside quotes do not count
        {"a|b;c|d;e|f", '|'},                          // most frequent wins
        {"a,b;c", ','},                                // a tie goes to the earlier candidate: , \t | ;
        {"a;b|c", '|'},        {"a;b\nc,d,e,f", ';'},  // only the first line counts
        {"\"x\ny\";z\n", ';'},                         // a quoted line break does not end the line
    };
    for (const auto& [line, expected] : cases) EXPECT_EQ(sniff_delimiter(line), expected) << visible(line);
}

}  // namespace
}  // namespace tarius::csv
