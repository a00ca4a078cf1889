#pragma once
/// The AWS clients and the load runner of one process, built once and shared by the CLI, the worker and the
/// Lambda function (where they live for the whole execution environment).

#include <memory>
#include <string>

#include "tarius/aws/client.hpp"
#include "tarius/aws/config.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/aws/sns.hpp"
#include "tarius/loader/load_job.hpp"

namespace tarius::loader {

/// The clients of one process. All thread-safe.
struct aws_clients {
    std::shared_ptr<aws::client_context> context;  ///< region, credentials chain, HTTP settings
    std::shared_ptr<aws::s3_client> s3;            ///< objects, rejects, reports, mappings
    std::shared_ptr<aws::dynamodb_client> ddb;     ///< DescribeTable and the ledger
    std::shared_ptr<aws::sns_client> sns;          ///< notifications
};

/// Creates the context (region, credentials chain) and the S3, DynamoDB and SNS clients.
[[nodiscard]] result<aws_clients> make_aws_clients();

/// A runner whose writers each get their own DynamoDB client (the async calls belong to one thread).
[[nodiscard]] std::unique_ptr<load_runner> make_runner(const aws_clients& clients, loader_config config);

/// Reads a document named by a variable: an s3://bucket/key URI is fetched, a path to a readable file is read,
/// anything else is the document itself. `what` names the variable in errors.
[[nodiscard]] result<std::string> read_document(const std::string& value, const char* what, aws::s3_client& s3);

/// Reads the loader configuration from the environment (loader_config_from_env) and, when TARIUS_MAPPING is an
/// s3:// URI, fetches and parses that object.
[[nodiscard]] result<loader_config> loader_config_from_env_and_s3(const aws::env_lookup& env, aws::s3_client& s3);

class feed_router;

/// The feeds of a service deployment, routed: TARIUS_FEEDS (a feeds document, inline, a file or s3://) on top of
/// the loader configuration (ledger, topic, KMS key, budget...), else the one feed of the single-feed variables
/// (TARIUS_TABLE, TARIUS_MAPPING, TARIUS_LANDING_*).
[[nodiscard]] result<std::unique_ptr<feed_router>> feed_router_from_env(const aws::env_lookup& env,
                                                                        const aws_clients& clients);

}  // namespace tarius::loader
