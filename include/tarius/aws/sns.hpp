#pragma once
/// SNS Publish (query protocol), with MessageStructure=json and message attributes.

#include <map>
#include <memory>
#include <string>

#include "tarius/aws/client.hpp"

namespace tarius::aws {

/// One message to publish.
struct sns_message {
    std::string topic_arn;        ///< TopicArn
    std::string subject;          ///< Subject (e-mail subject line; ≤ 100 ASCII chars), optional
    std::string message;          ///< Message; with `json_structure` a JSON object with at least "default"
    bool json_structure = false;  ///< MessageStructure=json: per-protocol messages ("default", "email", "sqs", ...)
    std::map<std::string, std::string> string_attributes;  ///< MessageAttributes of DataType String
};

/// An SNS client. Thread-safe.
class sns_client {
public:
    [[nodiscard]] static result<std::unique_ptr<sns_client>> create(std::shared_ptr<client_context> context);
    virtual ~sns_client() = default;
    /// Publish; returns the MessageId.
    [[nodiscard]] virtual result<std::string> publish(const sns_message& message) = 0;
};

}  // namespace tarius::aws
