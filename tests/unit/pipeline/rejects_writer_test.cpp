#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "tarius/pipeline/rejects.hpp"

namespace {

using tarius::reject_reason;
using tarius::row_problem;
using tarius::pipeline::rejects_writer;
using tarius::pipeline::string_sink;

row_problem problem(reject_reason reason, uint64_t line, uint64_t offset, int64_t column_index, std::string column,
                    std::string message) {
    return row_problem{reason, line, offset, column_index, std::move(column), std::move(message)};
}

TEST(rejects_writer, csv_holds_header_and_original_rows_unchanged) {
    const struct {
        const char* header;
        std::vector<std::string> raws;
        const char* expected_csv;
    } cases[] = {
        {"ID,Name\n", {"1,\"a,b\"\n", "2,x\n"}, "ID,Name\n1,\"a,b\"\n2,x\n"},
        {"ID,Name\r\n", {"1,a\r\n", "2,b"}, "ID,Name\r\n1,a\r\n2,b\r\n"},  // missing final break added, CRLF style
        {"ID,Name", {"1,a"}, "ID,Name\n1,a\n"},                            // header-only file without a break
        {"", {"1,a\n"}, "1,a\n"},                                          // --header-list: no header line
        {"ID\n", {"\"multi\nline\"\n"}, "ID\n\"multi\nline\"\n"},
    };
    for (const auto& c : cases) {
        string_sink csv, reasons;
        rejects_writer w(csv, reasons);
        w.set_header(c.header);
        uint64_t line = 2;
        for (const auto& raw : c.raws) {
            ASSERT_TRUE(w.reject(problem(reject_reason::FIELD_COUNT, line++, 0, -1, "", "m"), raw, true));
        }
        ASSERT_TRUE(w.finish());
        EXPECT_EQ(csv.data(), c.expected_csv);
        EXPECT_TRUE(csv.finished());
        EXPECT_TRUE(reasons.finished());
    }
}

TEST(rejects_writer, no_rejects_writes_empty_outputs) {
    string_sink csv, reasons;
    rejects_writer w(csv, reasons);
    w.set_header("ID\n");
    ASSERT_TRUE(w.finish());
    EXPECT_EQ(csv.data(), "");
    EXPECT_EQ(reasons.data(), "");
}

TEST(rejects_writer, reasons_are_json_lines_with_position_column_and_reason) {
    string_sink csv, reasons;
    rejects_writer w(csv, reasons, 1);  // flush on every write
    w.set_header("ID,Price\n");
    ASSERT_TRUE(
        w.reject(problem(reject_reason::INVALID_NUMBER, 7, 123, 1, "Price", "not a \"number\""), "x,y\n", true));
    ASSERT_TRUE(w.reject(problem(reject_reason::ROW_TOO_LARGE, 9, 456, -1, "", "row too large"), "cut...", false));
    ASSERT_TRUE(w.finish());
    EXPECT_EQ(csv.data(), "ID,Price\nx,y\n");  // the cut row is in the reasons only
    EXPECT_EQ(w.csv_rows(), 1u);
    EXPECT_EQ(w.reasons(), 2u);

    simdjson::dom::parser parser;
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < reasons.data().size()) {
        size_t end = reasons.data().find('\n', start);
        lines.push_back(reasons.data().substr(start, end - start));
        start = end + 1;
    }
    ASSERT_EQ(lines.size(), 2u);
    simdjson::dom::element first = parser.parse(lines[0]);
    EXPECT_EQ(uint64_t(first["line"]), 7u);
    EXPECT_EQ(uint64_t(first["byte_offset"]), 123u);
    EXPECT_EQ(std::string_view(first["column"]), "Price");
    EXPECT_EQ(std::string_view(first["reason"]), "invalid_number");
    EXPECT_EQ(std::string_view(first["message"]), "not a \"number\"");
    simdjson::dom::element second = parser.parse(lines[1]);
    EXPECT_EQ(std::string_view(second["reason"]), "row_too_large");
    EXPECT_TRUE(second["column"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_FALSE(bool(second["row_in_rejects_csv"]));
}

}  // namespace
