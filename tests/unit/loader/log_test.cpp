// TARIUS_LOG_LEVEL parsing.
#include "tarius/loader/log.hpp"

#include <gtest/gtest.h>

namespace {

using tarius::loader::log_level;
using tarius::loader::parse_log_level;

TEST(log_level, parses_the_documented_names_in_any_case) {
    EXPECT_EQ(*parse_log_level("debug"), log_level::DEBUG);
    EXPECT_EQ(*parse_log_level("INFO"), log_level::INFO);
    EXPECT_EQ(*parse_log_level("Warn"), log_level::WARN);
    EXPECT_EQ(*parse_log_level("warning"), log_level::WARN);
    EXPECT_EQ(*parse_log_level("error"), log_level::ERROR);
}

TEST(log_level, rejects_anything_else_naming_the_variable) {
    for (const char* bad : {"", "verbose", "info ", "3"}) {
        auto parsed = parse_log_level(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_NE(parsed.err().message.find("TARIUS_LOG_LEVEL"), std::string::npos);
    }
}

TEST(log_level, levels_order_from_least_to_most_severe) {
    EXPECT_LT(log_level::DEBUG, log_level::INFO);
    EXPECT_LT(log_level::INFO, log_level::WARN);
    EXPECT_LT(log_level::WARN, log_level::ERROR);
}

}  // namespace
