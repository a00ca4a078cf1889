#pragma once
// Building the AWS clients and the load runner for the commands that talk to AWS (load, worker, loads).

#include <atomic>
#include <memory>
#include <string>

#include "args.hpp"
#include "tarius/aws/client.hpp"
#include "tarius/aws/sqs.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::cli {

/// The clients of one process.
struct aws_clients {
    std::shared_ptr<aws::client_context> context;
    std::shared_ptr<aws::s3_client> s3;
    std::shared_ptr<aws::dynamodb_client> ddb;
    std::shared_ptr<aws::sns_client> sns;
};

/// Creates the context (region, credentials chain) and the S3, DynamoDB and SNS clients.
[[nodiscard]] result<aws_clients> make_aws_clients();

/// A runner whose writers each get their own DynamoDB client (the async calls belong to one thread).
[[nodiscard]] std::unique_ptr<loader::load_runner> make_runner(const aws_clients& clients,
                                                               loader::loader_config config);

/// Set by SIGINT/SIGTERM once install_stop_signals() ran.
extern std::atomic<bool> stop_requested;
/// Installs SIGINT and SIGTERM handlers that set stop_requested (a second signal exits at once).
void install_stop_signals();

}  // namespace tarius::cli
