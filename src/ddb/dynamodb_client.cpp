#include "tarius/aws/dynamodb.hpp"

#include <simdjson.h>

#include <utility>

#include "aws/service_call.hpp"
#include "json/writer.hpp"

namespace tarius::aws {

namespace {

constexpr std::string_view TARGET_PREFIX = "DynamoDB_20120810.";

// An answer that cannot be read (cut off, mangled by a proxy): sending the request again may get a good one.
error decode_error(std::string_view operation, std::string_view what) {
    return make_error(errc::SERVICE,
                      "dynamodb " + std::string(operation) + ": unexpected response: " + std::string(what), true);
}

result<mapping::key_type> key_type_of(std::string_view text) {
    if (text == "S") return mapping::key_type::S;
    if (text == "N") return mapping::key_type::N;
    if (text == "B") return mapping::key_type::B;
    return decode_error("DescribeTable", "key attribute type '" + std::string(text) + "'");
}

result<table_description> parse_table(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) {
        return decode_error("DescribeTable", "not JSON");
    }
    simdjson::dom::object table;
    if (doc["Table"].get_object().get(table) != simdjson::SUCCESS) return decode_error("DescribeTable", "no Table");
    table_description out;
    std::string_view text;
    if (table["TableName"].get_string().get(text) == simdjson::SUCCESS) out.name = text;
    if (table["TableArn"].get_string().get(text) == simdjson::SUCCESS) out.arn = text;
    if (table["TableStatus"].get_string().get(text) == simdjson::SUCCESS) out.status = text;

    simdjson::dom::array definitions;
    simdjson::dom::array schema;
    if (table["AttributeDefinitions"].get_array().get(definitions) != simdjson::SUCCESS ||
        table["KeySchema"].get_array().get(schema) != simdjson::SUCCESS) {
        return decode_error("DescribeTable", "no KeySchema/AttributeDefinitions");
    }
    auto type_of = [&](std::string_view name) -> result<mapping::key_type> {
        for (simdjson::dom::element def : definitions) {
            std::string_view def_name;
            std::string_view def_type;
            if (def["AttributeName"].get_string().get(def_name) == simdjson::SUCCESS && def_name == name &&
                def["AttributeType"].get_string().get(def_type) == simdjson::SUCCESS) {
                return key_type_of(def_type);
            }
        }
        return decode_error("DescribeTable", "key attribute '" + std::string(name) + "' has no definition");
    };
    bool has_hash = false;
    for (simdjson::dom::element key : schema) {
        std::string_view name;
        std::string_view kind;
        if (key["AttributeName"].get_string().get(name) != simdjson::SUCCESS ||
            key["KeyType"].get_string().get(kind) != simdjson::SUCCESS) {
            return decode_error("DescribeTable", "malformed KeySchema entry");
        }
        TARIUS_ASSIGN_OR_RETURN(mapping::key_type type, type_of(name));
        mapping::key_attribute attribute{std::string(name), type};
        if (kind == "HASH") {
            out.keys.partition = std::move(attribute);
            has_hash = true;
        } else if (kind == "RANGE") {
            out.keys.sort = std::move(attribute);
        }
    }
    if (!has_hash) return decode_error("DescribeTable", "no HASH key");

    out.billing_mode = "PROVISIONED";  // tables created before on-demand existed have no BillingModeSummary
    if (table["BillingModeSummary"]["BillingMode"].get_string().get(text) == simdjson::SUCCESS) {
        out.billing_mode = text;
    }
    uint64_t wcu = 0;
    if (table["ProvisionedThroughput"]["WriteCapacityUnits"].get_uint64().get(wcu) == simdjson::SUCCESS) {
        out.write_capacity = out.billing_mode == "PAY_PER_REQUEST" ? 0 : wcu;
    }
    return out;
}

result<batch_write_result> parse_batch(std::string_view body) {
    batch_write_result out;
    // One per thread: item writes answer once per row, and a parser allocates its buffers on first use.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) {
        return decode_error("BatchWriteItem", "not JSON");
    }
    simdjson::dom::object unprocessed;
    if (doc["UnprocessedItems"].get_object().get(unprocessed) == simdjson::SUCCESS) {
        for (auto field : unprocessed) {
            simdjson::dom::array requests;
            if (field.value.get_array().get(requests) != simdjson::SUCCESS) {
                return decode_error("BatchWriteItem", "UnprocessedItems entry is not an array");
            }
            out.unprocessed_count += requests.size();
        }
        if (out.unprocessed_count > 0) {
            // Byte-exact: the caller sends these again, so nothing may be lost or altered by a re-serialisation.
            out.unprocessed_items = std::string(detail::raw_json_member(body, "UnprocessedItems"));
            if (out.unprocessed_items.empty()) return decode_error("BatchWriteItem", "UnprocessedItems unreadable");
        }
    }
    simdjson::dom::array consumed;
    if (doc["ConsumedCapacity"].get_array().get(consumed) == simdjson::SUCCESS) {
        for (simdjson::dom::element entry : consumed) {
            double units = 0;
            if (entry["CapacityUnits"].get_double().get(units) == simdjson::SUCCESS) out.consumed_capacity += units;
        }
    }
    return out;
}

// The answer of a PutItem / UpdateItem / DeleteItem: what it consumed ({"ConsumedCapacity":{"CapacityUnits":1}}).
result<batch_write_result> parse_item_write(std::string_view operation, std::string_view body) {
    batch_write_result out;
    // One per thread: item writes answer once per row, and a parser allocates its buffers on first use.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) {
        return decode_error(operation, "not JSON");
    }
    double units = 0;
    if (doc["ConsumedCapacity"]["CapacityUnits"].get_double().get(units) == simdjson::SUCCESS) {
        out.consumed_capacity = units;
    }
    return out;
}

class dynamodb_client_impl final : public dynamodb_client {
public:
    dynamodb_client_impl(std::unique_ptr<detail::service_core> core, std::chrono::milliseconds attempt_timeout)
        : core_(std::move(core)), attempt_timeout_(attempt_timeout) {}

    result<table_description> describe_table(const std::string& table) override {
        std::string body;
        json::writer(body).begin_object().key("TableName").value(table).end_object();
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(request("DescribeTable", std::move(body))));
        return parse_table(response.response.body);
    }

    result<batch_write_result> batch_write_item(std::string body) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response,
                                core_->call(request("BatchWriteItem", std::move(body))));
        return to_batch_result(response);
    }

    void batch_write_item_async(std::string body, batch_write_callback done) override {
        core_->call_async(request("BatchWriteItem", std::move(body)),
                          [done = std::move(done)](result<detail::call_response> response) {
                              if (!response) {
                                  done(std::move(response).err());
                                  return;
                              }
                              done(to_batch_result(*response));
                          });
    }

    void write_item_async(std::string operation, std::string body, batch_write_callback done) override {
        core_->call_async(request(operation, std::move(body)),
                          [done = std::move(done), operation](result<detail::call_response> response) {
                              if (!response) {
                                  done(std::move(response).err());
                                  return;
                              }
                              auto answer = parse_item_write(operation, response->response.body);
                              if (answer) {
                                  answer->attempts = response->attempts;
                                  answer->throttled_attempts = response->throttled_attempts;
                              }
                              done(std::move(answer));
                          });
    }

    size_t poll(std::chrono::milliseconds wait) override { return core_->poll(wait); }

    result<std::string> call(const std::string& operation, std::string body) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(request(operation, std::move(body))));
        return std::move(response.response.body);
    }

private:
    static result<batch_write_result> to_batch_result(const detail::call_response& response) {
        TARIUS_ASSIGN_OR_RETURN(batch_write_result out, parse_batch(response.response.body));
        out.attempts = response.attempts;
        out.throttled_attempts = response.throttled_attempts;
        return out;
    }

    detail::call_request request(const std::string& operation, std::string body) const {
        detail::call_request out;
        out.operation = operation;
        out.method = "POST";
        out.url = core_->service_endpoint().url() + "/";
        out.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
        out.headers.push_back({"X-Amz-Target", std::string(TARGET_PREFIX) + operation});
        out.body = std::move(body);
        out.timeout = attempt_timeout_;
        return out;
    }

    std::unique_ptr<detail::service_core> core_;
    std::chrono::milliseconds attempt_timeout_;
};

}  // namespace

result<std::unique_ptr<dynamodb_client>> dynamodb_client::create(std::shared_ptr<client_context> context,
                                                                 bool caller_retries,
                                                                 std::chrono::milliseconds attempt_timeout) {
    detail::core_options options;
    options.service = "dynamodb";
    options.verify_crc32 = true;
    options.caller_retries = caller_retries;
    TARIUS_ASSIGN_OR_RETURN(auto core, detail::service_core::create(std::move(context), std::move(options)));
    return std::unique_ptr<dynamodb_client>(new dynamodb_client_impl(std::move(core), attempt_timeout));
}

}  // namespace tarius::aws
