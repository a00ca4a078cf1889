#pragma once
/// The SQS calls of the worker (JSON protocol): ReceiveMessage with long polling, DeleteMessageBatch,
/// ChangeMessageVisibility, SendMessage.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tarius/aws/client.hpp"

namespace tarius::aws {

/// A received message.
struct sqs_message {
    std::string message_id;                         ///< MessageId
    std::string receipt_handle;                     ///< ReceiptHandle (needed to delete or extend)
    std::string body;                               ///< Body
    std::map<std::string, std::string> attributes;  ///< system attributes, e.g. ApproximateReceiveCount
};

/// Options of ReceiveMessage.
struct sqs_receive_options {
    int max_messages = 10;        ///< 1..10
    int wait_seconds = 20;        ///< long polling, 0..20
    int visibility_timeout = -1;  ///< seconds; -1 = the queue's default
};

/// One entry that DeleteMessageBatch could not delete.
struct sqs_batch_failure {
    std::string id;       ///< the entry id (index in the request)
    std::string code;     ///< error code
    std::string message;  ///< error message
};

/// An SQS client. Thread-safe.
class sqs_client {
public:
    [[nodiscard]] static result<std::unique_ptr<sqs_client>> create(std::shared_ptr<client_context> context);
    virtual ~sqs_client() = default;

    /// ReceiveMessage (all system attributes asked for).
    [[nodiscard]] virtual result<std::vector<sqs_message>> receive_message(const std::string& queue_url,
                                                                           const sqs_receive_options& options) = 0;
    /// DeleteMessageBatch of up to 10 receipt handles; returns the entries that failed.
    [[nodiscard]] virtual result<std::vector<sqs_batch_failure>> delete_message_batch(
        const std::string& queue_url, const std::vector<std::string>& receipt_handles) = 0;
    /// ChangeMessageVisibility.
    [[nodiscard]] virtual result<void> change_message_visibility(const std::string& queue_url,
                                                                 const std::string& receipt_handle,
                                                                 int visibility_timeout_seconds) = 0;
    /// SendMessage; returns the MessageId.
    [[nodiscard]] virtual result<std::string> send_message(const std::string& queue_url, const std::string& body,
                                                           int delay_seconds = 0) = 0;
};

}  // namespace tarius::aws
