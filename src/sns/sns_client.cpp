#include "tarius/aws/sns.hpp"

#include <utility>

#include "aws/service_call.hpp"
#include "aws/xml.hpp"

namespace tarius::aws {

namespace {

void append_param(std::string& body, std::string_view name, std::string_view value) {
    body.push_back('&');
    body += detail::query_encode(name);
    body.push_back('=');
    body += detail::query_encode(value);
}

class sns_client_impl final : public sns_client {
public:
    explicit sns_client_impl(std::unique_ptr<detail::service_core> core) : core_(std::move(core)) {}

    result<std::string> publish(const sns_message& message) override {
        std::string body = "Action=Publish&Version=2010-03-31";
        append_param(body, "TopicArn", message.topic_arn);
        append_param(body, "Message", message.message);
        if (!message.subject.empty()) append_param(body, "Subject", message.subject);
        if (message.json_structure) append_param(body, "MessageStructure", "json");
        size_t index = 0;
        for (const auto& [name, value] : message.string_attributes) {
            const std::string prefix = "MessageAttributes.entry." + std::to_string(++index) + ".";
            append_param(body, prefix + "Name", name);
            append_param(body, prefix + "Value.DataType", "String");
            append_param(body, prefix + "Value.StringValue", value);
        }
        detail::call_request req;
        req.operation = "Publish";
        req.method = "POST";
        req.url = core_->service_endpoint().url() + "/";
        req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
        req.body = std::move(body);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        auto root = detail::parse_xml(response.response.body);
        const detail::xml_element* id = root ? root->descendant("MessageId") : nullptr;
        if (id == nullptr || id->text.empty()) {
            return make_error(errc::SERVICE, "sns Publish: unexpected response: no MessageId");
        }
        return id->text;
    }

private:
    std::unique_ptr<detail::service_core> core_;
};

}  // namespace

result<std::unique_ptr<sns_client>> sns_client::create(std::shared_ptr<client_context> context) {
    detail::core_options options;
    options.service = "sns";
    TARIUS_ASSIGN_OR_RETURN(auto core, detail::service_core::create(std::move(context), std::move(options)));
    return std::unique_ptr<sns_client>(new sns_client_impl(std::move(core)));
}

}  // namespace tarius::aws
