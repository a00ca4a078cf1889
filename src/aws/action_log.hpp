#pragma once
// A record of every AWS action the service clients call, and of the resource each one was called on, so that an
// IAM policy can be proved against the calls the code makes (tests/python/test_iam_actions.py): moto and dynalite
// enforce no IAM, so a missing grant would otherwise surface only in a real account.
//
// Off unless TARIUS_RECORD_ACTIONS names a file: then each call appends one JSON line to it,
//   {"action":"dynamodb:BatchWriteItem","resources":["product"],"params":[],"kms_key_id":""}
// The variable is read once per process; when it is unset a call costs one branch on a cached flag.

#include <string>
#include <string_view>
#include <vector>

#include "aws/service_call.hpp"
#include "tarius/aws/endpoints.hpp"

namespace tarius::aws::detail {

/// One call as IAM sees it: the API action and what it was called on.
struct action_record {
    std::string action;                  ///< "service:Operation" as called, e.g. "s3:GetObject", "lambda:Invoke"
    std::vector<std::string> resources;  ///< DynamoDB table names, S3 "bucket/key", SQS queue URL, SNS topic ARN,
                                         ///< Lambda function name or ARN; empty when the request names none
    std::vector<std::string> params;     ///< names of the URL's query parameters (S3: versionId, uploadId, ...)
    std::string kms_key_id;              ///< the SSE-KMS key an S3 write asks for; empty otherwise
};

/// Describes `request`, sent by the `service` client ("s3", "dynamodb", "sqs", "sns", "lambda") to `ep`.
/// Pure: reads the URL, the body and the headers only.
[[nodiscard]] action_record describe_action(std::string_view service, const endpoint& ep, const call_request& request);

/// Returns `record` as one JSON object followed by '\n'.
[[nodiscard]] std::string action_record_json(const action_record& record);

/// Appends the record of `request` to the file named by TARIUS_RECORD_ACTIONS; does nothing when the variable is
/// unset or empty, or when the file cannot be opened (recording must never fail a call). Thread-safe: each record
/// is one append-mode write.
void record_action(std::string_view service, const endpoint& ep, const call_request& request);

}  // namespace tarius::aws::detail
