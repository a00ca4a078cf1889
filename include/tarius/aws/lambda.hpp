#pragma once
/// Lambda Invoke with InvocationType=Event: the function hands the rest of a long file to itself.

#include <memory>
#include <string>

#include "tarius/aws/client.hpp"

namespace tarius::aws {

/// A Lambda client. Thread-safe.
class lambda_client {
public:
    [[nodiscard]] static result<std::unique_ptr<lambda_client>> create(std::shared_ptr<client_context> context);
    virtual ~lambda_client() = default;
    /// Invoke asynchronously (202 Accepted); `function` is a name or ARN (qualifier included when wanted).
    [[nodiscard]] virtual result<void> invoke_async(const std::string& function, const std::string& payload) = 0;
};

}  // namespace tarius::aws
