#include "tarius/aws/sqs.hpp"

#include <simdjson.h>

#include <utility>

#include "aws/service_call.hpp"
#include "json/writer.hpp"

namespace tarius::aws {

namespace {

error decode_error(std::string_view operation, std::string_view what) {
    return make_error(errc::SERVICE, "sqs " + std::string(operation) + ": unexpected response: " + std::string(what));
}

result<simdjson::dom::object> parse_object(simdjson::dom::parser& parser, std::string_view body,
                                           std::string_view operation) {
    simdjson::dom::element doc;
    simdjson::dom::object object;
    // An empty body (some operations answer "{}" or nothing) is an empty object.
    if (body.empty()) body = "{}";
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(object) != simdjson::SUCCESS) {
        return decode_error(operation, "not a JSON object");
    }
    return object;
}

class sqs_client_impl final : public sqs_client {
public:
    explicit sqs_client_impl(std::unique_ptr<detail::service_core> core) : core_(std::move(core)) {}

    result<std::vector<sqs_message>> receive_message(const std::string& queue_url,
                                                     const sqs_receive_options& options) override {
        std::string body;
        json::writer w(body);
        w.begin_object().key("QueueUrl").value(queue_url);
        w.key("MaxNumberOfMessages").value(options.max_messages);
        w.key("WaitTimeSeconds").value(options.wait_seconds);
        if (options.visibility_timeout >= 0) w.key("VisibilityTimeout").value(options.visibility_timeout);
        // Both names: AttributeNames is deprecated in favour of MessageSystemAttributeNames, older endpoints
        // (and emulators) only know the former.
        w.key("AttributeNames").begin_array().value("All").end_array();
        w.key("MessageSystemAttributeNames").begin_array().value("All").end_array();
        w.end_object();
        auto req = request("ReceiveMessage", std::move(body));
        // Long polling holds the request open for wait_seconds: allow that plus the usual margin.
        req.timeout = std::chrono::milliseconds((options.wait_seconds + 30) * 1000);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        simdjson::dom::parser parser;
        TARIUS_ASSIGN_OR_RETURN(simdjson::dom::object object,
                                parse_object(parser, response.response.body, "ReceiveMessage"));
        std::vector<sqs_message> out;
        simdjson::dom::array messages;
        if (object["Messages"].get_array().get(messages) != simdjson::SUCCESS) return out;
        for (simdjson::dom::element m : messages) {
            sqs_message message;
            std::string_view text;
            if (m["MessageId"].get_string().get(text) == simdjson::SUCCESS) message.message_id = text;
            if (m["ReceiptHandle"].get_string().get(text) == simdjson::SUCCESS) message.receipt_handle = text;
            if (m["Body"].get_string().get(text) == simdjson::SUCCESS) message.body = text;
            simdjson::dom::object attributes;
            if (m["Attributes"].get_object().get(attributes) == simdjson::SUCCESS) {
                for (auto field : attributes) {
                    if (field.value.get_string().get(text) == simdjson::SUCCESS) {
                        message.attributes.emplace(std::string(field.key), std::string(text));
                    }
                }
            }
            out.push_back(std::move(message));
        }
        return out;
    }

    result<std::vector<sqs_batch_failure>> delete_message_batch(
        const std::string& queue_url, const std::vector<std::string>& receipt_handles) override {
        if (receipt_handles.empty() || receipt_handles.size() > 10) {
            return make_error(errc::INVALID_ARGUMENT, "sqs DeleteMessageBatch: 1 to 10 receipt handles, got " +
                                                          std::to_string(receipt_handles.size()));
        }
        std::string body;
        json::writer w(body);
        w.begin_object().key("QueueUrl").value(queue_url).key("Entries").begin_array();
        for (size_t idx = 0; idx < receipt_handles.size(); ++idx) {
            w.begin_object().key("Id").value(std::to_string(idx)).key("ReceiptHandle").value(receipt_handles[idx]);
            w.end_object();
        }
        w.end_array().end_object();
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response,
                                core_->call(request("DeleteMessageBatch", std::move(body))));
        simdjson::dom::parser parser;
        TARIUS_ASSIGN_OR_RETURN(simdjson::dom::object object,
                                parse_object(parser, response.response.body, "DeleteMessageBatch"));
        std::vector<sqs_batch_failure> out;
        simdjson::dom::array failed;
        if (object["Failed"].get_array().get(failed) != simdjson::SUCCESS) return out;
        for (simdjson::dom::element f : failed) {
            sqs_batch_failure failure;
            std::string_view text;
            if (f["Id"].get_string().get(text) == simdjson::SUCCESS) failure.id = text;
            if (f["Code"].get_string().get(text) == simdjson::SUCCESS) failure.code = text;
            if (f["Message"].get_string().get(text) == simdjson::SUCCESS) failure.message = text;
            out.push_back(std::move(failure));
        }
        return out;
    }

    result<void> change_message_visibility(const std::string& queue_url, const std::string& receipt_handle,
                                           int visibility_timeout_seconds) override {
        std::string body;
        json::writer(body)
            .begin_object()
            .key("QueueUrl")
            .value(queue_url)
            .key("ReceiptHandle")
            .value(receipt_handle)
            .key("VisibilityTimeout")
            .value(visibility_timeout_seconds)
            .end_object();
        TARIUS_TRY(core_->call(request("ChangeMessageVisibility", std::move(body))));
        return ok();
    }

    result<std::string> send_message(const std::string& queue_url, const std::string& message_body,
                                     int delay_seconds) override {
        std::string body;
        json::writer w(body);
        w.begin_object().key("QueueUrl").value(queue_url).key("MessageBody").value(message_body);
        if (delay_seconds > 0) w.key("DelaySeconds").value(delay_seconds);
        w.end_object();
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(request("SendMessage", std::move(body))));
        simdjson::dom::parser parser;
        TARIUS_ASSIGN_OR_RETURN(simdjson::dom::object object,
                                parse_object(parser, response.response.body, "SendMessage"));
        std::string_view id;
        if (object["MessageId"].get_string().get(id) != simdjson::SUCCESS) {
            return decode_error("SendMessage", "no MessageId");
        }
        return std::string(id);
    }

private:
    detail::call_request request(std::string_view operation, std::string body) const {
        detail::call_request out;
        out.operation = operation;
        out.method = "POST";
        out.url = core_->service_endpoint().url() + "/";
        out.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
        out.headers.push_back({"X-Amz-Target", "AmazonSQS." + std::string(operation)});
        out.body = std::move(body);
        return out;
    }

    std::unique_ptr<detail::service_core> core_;
};

}  // namespace

result<std::unique_ptr<sqs_client>> sqs_client::create(std::shared_ptr<client_context> context) {
    detail::core_options options;
    options.service = "sqs";
    TARIUS_ASSIGN_OR_RETURN(auto core, detail::service_core::create(std::move(context), std::move(options)));
    return std::unique_ptr<sqs_client>(new sqs_client_impl(std::move(core)));
}

}  // namespace tarius::aws
