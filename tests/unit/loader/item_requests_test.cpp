// The request bodies of single-item writes, literally: what DynamoDB receives for insert, newer and merge rows;
// and what a false condition tells about a row sent again.

#include "loader/item_requests.hpp"
#include "tarius/loader/write_strategy.hpp"

#include <gtest/gtest.h>

using namespace tarius::loader::detail;

namespace {

tarius::mapping::key_schema keys_id() {
    tarius::mapping::key_schema keys;
    keys.partition = {"ID", tarius::mapping::key_type::S};
    return keys;
}

}  // namespace

TEST(item_requests, the_row_marker_names_the_load_and_the_line) {
    EXPECT_EQ(row_marker("0123456789abcdef0123", 12), "0123456789abcdef:12");
    EXPECT_EQ(row_marker("abc", 7), "abc:7");
}

TEST(item_requests, an_insert_puts_only_when_the_key_is_absent_or_the_stored_item_is_this_row) {
    std::string body;
    insert_body(body, "products", "ID", R"({"ID":{"S":"P1"},"Title":{"S":"Lamp"}})", "tarius_row", "l0ad:3");
    EXPECT_EQ(
        body,
        R"({"TableName":"products","Item":{"ID":{"S":"P1"},"Title":{"S":"Lamp"},"tarius_row":{"S":"l0ad:3"}},)"
        R"("ExpressionAttributeNames":{"#k":"ID","#m":"tarius_row"},"ExpressionAttributeValues":{":m":{"S":"l0ad:3"}},)"
        R"("ConditionExpression":"attribute_not_exists(#k) OR #m = :m","ReturnConsumedCapacity":"TOTAL"})");
    insert_body(body, "products", "ID", R"({"ID":{"S":"P1"}})", "", "");
    EXPECT_EQ(body, R"({"TableName":"products","Item":{"ID":{"S":"P1"}},"ExpressionAttributeNames":{"#k":"ID"},)"
                    R"J("ConditionExpression":"attribute_not_exists(#k)","ReturnConsumedCapacity":"TOTAL"})J");
}

TEST(item_requests, a_newer_row_puts_only_over_a_lower_or_absent_version) {
    std::string body;
    newer_body(body, "t", R"({"ID":{"S":"P1"},"v":{"N":"3"}})", "v", R"({"N":"3"})", "m", "x:2");
    EXPECT_EQ(body, R"({"TableName":"t","Item":{"ID":{"S":"P1"},"v":{"N":"3"},"m":{"S":"x:2"}},)"
                    R"("ExpressionAttributeNames":{"#v":"v","#m":"m"},"ExpressionAttributeValues":{":v":{"N":"3"},)"
                    R"(":m":{"S":"x:2"}},"ConditionExpression":"attribute_not_exists(#v) OR #v < :v OR )"
                    R"J((#v = :v AND #m = :m)","ReturnConsumedCapacity":"TOTAL"})J");
    newer_body(body, "t", R"({"ID":{"S":"P1"},"updated at":{"S":"2026"}})", "updated at", R"({"S":"2026"})", "", "");
    EXPECT_EQ(body, R"({"TableName":"t","Item":{"ID":{"S":"P1"},"updated at":{"S":"2026"}},)"
                    R"("ExpressionAttributeNames":{"#v":"updated at"},"ExpressionAttributeValues":{":v":{"S":"2026"}},)"
                    R"("ConditionExpression":"attribute_not_exists(#v) OR #v < :v","ReturnConsumedCapacity":"TOTAL"})");
}

TEST(item_requests, a_merge_sets_the_rows_attributes_and_removes_the_emptied_ones_never_the_key) {
    std::string body;
    std::string why;
    ASSERT_TRUE(merge_body(body, "t", keys_id(), R"J({"ID":{"S":"P1"},"Price (USD)":{"N":"12.5"},"name":{"S":"x"}})J",
                           R"("color","size")", why));
    EXPECT_EQ(body,
              R"({"TableName":"t","Key":{"ID":{"S":"P1"}},)"
              R"("UpdateExpression":"SET #a0 = :a0, #a1 = :a1 REMOVE #r0, #r1",)"
              R"J("ExpressionAttributeNames":{"#a0":"Price (USD)","#a1":"name","#r0":"color","#r1":"size"},)J"
              R"("ExpressionAttributeValues":{":a0":{"N":"12.5"},":a1":{"S":"x"}},"ReturnConsumedCapacity":"TOTAL"})");
    // Only removals: no values (DynamoDB refuses unused ones). Only the key: no expression at all.
    ASSERT_TRUE(merge_body(body, "t", keys_id(), R"({"ID":{"S":"P1"}})", R"("color")", why));
    EXPECT_EQ(body, R"({"TableName":"t","Key":{"ID":{"S":"P1"}},"UpdateExpression":"REMOVE #r0",)"
                    R"("ExpressionAttributeNames":{"#r0":"color"},"ReturnConsumedCapacity":"TOTAL"})");
    ASSERT_TRUE(merge_body(body, "t", keys_id(), R"({"ID":{"S":"P1"}})", "", why));
    EXPECT_EQ(body, R"({"TableName":"t","Key":{"ID":{"S":"P1"}},"ReturnConsumedCapacity":"TOTAL"})");
}

TEST(item_requests, a_merge_keeps_both_key_attributes_out_of_set) {
    auto keys = keys_id();
    keys.sort = tarius::mapping::key_attribute{"Sku", tarius::mapping::key_type::N};
    std::string body;
    std::string why;
    ASSERT_TRUE(merge_body(body, "t", keys, R"({"ID":{"S":"P1"},"Sku":{"N":"7"},"a":{"BOOL":true}})", "", why));
    EXPECT_EQ(body, R"({"TableName":"t","Key":{"ID":{"S":"P1"},"Sku":{"N":"7"}},"UpdateExpression":"SET #a0 = :a0",)"
                    R"("ExpressionAttributeNames":{"#a0":"a"},"ExpressionAttributeValues":{":a0":{"BOOL":true}},)"
                    R"("ReturnConsumedCapacity":"TOTAL"})");
}

TEST(item_requests, a_merge_whose_expression_passes_4_kb_is_refused_before_sending) {
    std::string item = R"({"ID":{"S":"P1"})";
    for (int n = 0; n < 600; ++n) item += R"(,"c)" + std::to_string(n) + R"(":{"S":"v"})";
    item += "}";
    std::string body;
    std::string why;
    EXPECT_FALSE(merge_body(body, "t", keys_id(), item, "", why));
    EXPECT_NE(why.find("4096"), std::string::npos) << why;
    // Placeholders count in base 36, so 300 attributes still fit.
    item = R"({"ID":{"S":"P1"})";
    for (int n = 0; n < 300; ++n) item += R"(,"c)" + std::to_string(n) + R"(":{"S":"v"})";
    item += "}";
    EXPECT_TRUE(merge_body(body, "t", keys_id(), item, "", why)) << why;
    EXPECT_NE(body.find("#a8b = :a8b"), std::string::npos);  // 299 in base 36
}

// When a false condition on a row sent again still tells its fate (else the writer counts it resent_uncertain).
TEST(write_strategy, a_false_condition_after_a_resend_is_certain_only_where_the_marker_decides_it) {
    struct expectation {
        tarius::loader::write_method method;
        bool marker;
        bool certain_in_this_run;
        bool certain_after_a_stopped_run;
    };
    using tarius::loader::write_method;
    for (const expectation& e :
         {expectation{write_method::INSERT, true, true, true}, expectation{write_method::INSERT, false, false, false},
          expectation{write_method::NEWER, true, true, false}, expectation{write_method::NEWER, false, false, false}}) {
        tarius::loader::write_settings settings;
        settings.method = e.method;
        settings.version_attribute = "v";
        if (!e.marker) settings.marker_attribute.clear();
        auto strategy = tarius::loader::make_write_strategy(settings, "t", keys_id(), "0123456789abcdef");
        SCOPED_TRACE(std::string(e.method == write_method::INSERT ? "insert" : "newer") +
                     (e.marker ? "" : " no marker"));
        EXPECT_EQ(strategy->skip_is_certain_after_resend(false), e.certain_in_this_run);
        EXPECT_EQ(strategy->skip_is_certain_after_resend(true), e.certain_after_a_stopped_run);
    }
}
