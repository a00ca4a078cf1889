// One classification of failures into outcomes, code by code: what each AWS error means for the work that met
// it (retry, reject the item, fail the record, stop everything).

#include "tarius/aws/error_class.hpp"

#include <gtest/gtest.h>

#include "tarius/aws/errors.hpp"
#include "tarius/aws/retry.hpp"

namespace tarius::aws {
namespace {

error answered(const char* service, long status, const char* code) {
    service_error e;
    e.service = service;
    e.operation = "Op";
    e.http_status = status;
    e.code = code;
    attempt_outcome outcome;
    outcome.http_status = status;
    outcome.error_code = code;
    e.throttling = is_throttling_code(code);
    e.retryable = classify(outcome) != retry_kind::NONE;
    return e.to_error();
}

TEST(error_class, aws_codes_by_service) {
    const struct {
        const char* service;
        long status;
        const char* code;
        call_scope scope;
        error_class expected;
    } cases[] = {
        // DynamoDB writes: throttling slows down, a refused item is the item's, a missing table the record's.
        {"dynamodb", 400, "ProvisionedThroughputExceededException", call_scope::ITEM_WRITE, error_class::THROTTLED},
        {"dynamodb", 400, "ThrottlingException", call_scope::ITEM_WRITE, error_class::THROTTLED},
        {"dynamodb", 400, "RequestLimitExceeded", call_scope::ITEM_WRITE, error_class::THROTTLED},
        {"dynamodb", 400, "ValidationException", call_scope::ITEM_WRITE, error_class::ITEM},
        {"dynamodb", 400, "ItemCollectionSizeLimitExceededException", call_scope::ITEM_WRITE, error_class::ITEM},
        {"dynamodb", 400, "SerializationException", call_scope::ITEM_WRITE, error_class::ITEM},
        {"dynamodb", 400, "ResourceNotFoundException", call_scope::ITEM_WRITE, error_class::RECORD},
        // A false condition of a conditional write is the row's fate (skipped), never an error of the load.
        {"dynamodb", 400, "ConditionalCheckFailedException", call_scope::ITEM_WRITE, error_class::CONDITION},
        {"dynamodb", 400, "ConditionalCheckFailedException", call_scope::OTHER, error_class::RECORD},
        {"dynamodb", 400, "AccessDeniedException", call_scope::ITEM_WRITE, error_class::FATAL},
        {"dynamodb", 400, "TransactionConflictException", call_scope::ITEM_WRITE, error_class::TRANSIENT},
        {"dynamodb", 500, "InternalServerError", call_scope::ITEM_WRITE, error_class::TRANSIENT},
        {"dynamodb", 503, "ServiceUnavailable", call_scope::ITEM_WRITE, error_class::TRANSIENT},
        {"dynamodb", 400, "SomethingNewException", call_scope::ITEM_WRITE, error_class::RECORD},
        // Errors about the whole request never single out an item (AWS's common errors, BatchWriteItem's own).
        {"dynamodb", 400, "NotAuthorized", call_scope::ITEM_WRITE, error_class::FATAL},
        {"dynamodb", 403, "OptInRequired", call_scope::ITEM_WRITE, error_class::FATAL},
        {"dynamodb", 400, "RequestExpired", call_scope::ITEM_WRITE, error_class::TRANSIENT},
        {"dynamodb", 421, "InvalidEndpointException", call_scope::ITEM_WRITE, error_class::TRANSIENT},
        {"dynamodb", 403, "", call_scope::ITEM_WRITE, error_class::FATAL},
        {"dynamodb", 400, "", call_scope::ITEM_WRITE, error_class::RECORD},
        // The same codes outside a write of items (DescribeTable, the ledger): the call itself was wrong.
        {"dynamodb", 400, "ValidationException", call_scope::OTHER, error_class::RECORD},
        {"dynamodb", 400, "ResourceNotFoundException", call_scope::OTHER, error_class::RECORD},
        {"dynamodb", 400, "SomethingNewException", call_scope::OTHER, error_class::RECORD},
        // Credentials and signatures: nothing can succeed.
        {"dynamodb", 400, "UnrecognizedClientException", call_scope::ITEM_WRITE, error_class::FATAL},
        {"dynamodb", 400, "InvalidSignatureException", call_scope::OTHER, error_class::FATAL},
        {"dynamodb", 400, "ExpiredTokenException", call_scope::OTHER, error_class::FATAL},
        {"s3", 403, "SignatureDoesNotMatch", call_scope::OTHER, error_class::FATAL},
        {"s3", 403, "InvalidAccessKeyId", call_scope::OTHER, error_class::FATAL},
        {"sqs", 403, "InvalidClientTokenId", call_scope::OTHER, error_class::FATAL},
        // S3: the object or its bucket.
        {"s3", 404, "NoSuchKey", call_scope::OTHER, error_class::RECORD},
        {"s3", 404, "NoSuchBucket", call_scope::OTHER, error_class::RECORD},
        {"s3", 404, "NoSuchVersion", call_scope::OTHER, error_class::RECORD},
        {"s3", 403, "AccessDenied", call_scope::OTHER, error_class::RECORD},
        {"s3", 400, "KeyTooLongError", call_scope::OTHER, error_class::RECORD},
        {"s3", 403, "InvalidObjectState", call_scope::OTHER, error_class::RECORD},
        {"s3", 416, "InvalidRange", call_scope::OTHER, error_class::RECORD},
        {"s3", 400, "KMS.DisabledException", call_scope::OTHER, error_class::RECORD},
        {"s3", 404, "", call_scope::OTHER, error_class::RECORD},  // HEAD: no body, no code
        {"s3", 403, "", call_scope::OTHER, error_class::RECORD},
        {"s3", 503, "SlowDown", call_scope::OTHER, error_class::THROTTLED},
        {"s3", 500, "InternalError", call_scope::OTHER, error_class::TRANSIENT},
        {"s3", 400, "RequestTimeout", call_scope::OTHER, error_class::TRANSIENT},
        // SNS and SQS.
        {"sns", 404, "NotFound", call_scope::OTHER, error_class::RECORD},
        {"sns", 403, "AuthorizationError", call_scope::OTHER, error_class::RECORD},
        {"sns", 400, "InvalidParameter", call_scope::OTHER, error_class::RECORD},
        {"sns", 400, "KMSDisabled", call_scope::OTHER, error_class::RECORD},
        {"sns", 400, "Throttling", call_scope::OTHER, error_class::THROTTLED},
        {"sns", 500, "InternalError", call_scope::OTHER, error_class::TRANSIENT},
        {"sqs", 400, "AWS.SimpleQueueService.NonExistentQueue", call_scope::OTHER, error_class::RECORD},
        {"sqs", 400, "QueueDoesNotExist", call_scope::OTHER, error_class::RECORD},
        {"sqs", 403, "AccessDenied", call_scope::OTHER, error_class::RECORD},
        {"sqs", 400, "KmsAccessDenied", call_scope::OTHER, error_class::RECORD},
        {"sqs", 400, "RequestThrottled", call_scope::OTHER, error_class::THROTTLED},
        // Lambda (the continuation's Invoke).
        {"lambda", 404, "ResourceNotFoundException", call_scope::OTHER, error_class::RECORD},
        {"lambda", 413, "RequestTooLargeException", call_scope::OTHER, error_class::RECORD},
        {"lambda", 429, "TooManyRequestsException", call_scope::OTHER, error_class::THROTTLED},
        {"lambda", 500, "ServiceException", call_scope::OTHER, error_class::TRANSIENT},
        // A code one service uses says nothing about another's.
        {"sns", 400, "ResourceNotFoundException", call_scope::OTHER, error_class::RECORD},
        {"s3", 429, "", call_scope::OTHER, error_class::THROTTLED},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(classify(answered(c.service, c.status, c.code), c.scope), c.expected)
            << c.service << " " << c.status << " " << c.code << " → " << error_class_name(c.expected);
    }
}

TEST(error_class, errors_without_an_answer_by_kind) {
    const struct {
        error e;
        error_class expected;
    } cases[] = {
        {make_error(errc::NETWORK, "connection refused", true), error_class::TRANSIENT},
        {make_error(errc::NETWORK, "timed out", true), error_class::TRANSIENT},
        {make_error(errc::NETWORK, "SSL certificate problem: unable to get local issuer certificate"),
         error_class::FATAL},
        {make_error(errc::AUTH, "no credentials found"), error_class::FATAL},
        {make_error(errc::IO, "no such file"), error_class::RECORD},
        {make_error(errc::CSV_FILE, "no header"), error_class::RECORD},
        {make_error(errc::DECODE, "truncated gzip"), error_class::RECORD},
        {make_error(errc::LIMIT, "too many rejects"), error_class::RECORD},
        {make_error(errc::INVALID_ARGUMENT, "bad mapping"), error_class::RECORD},
        {make_error(errc::SERVICE, "unexpected answer", true), error_class::TRANSIENT},
        {make_error(errc::SERVICE, "no row written for 300 s", true), error_class::TRANSIENT},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(classify(c.e), c.expected) << c.e.message;
        EXPECT_EQ(classify(c.e, call_scope::ITEM_WRITE), c.expected) << c.e.message;
    }
}

TEST(error_class, names) {
    EXPECT_STREQ(error_class_name(error_class::THROTTLED), "throttled");
    EXPECT_STREQ(error_class_name(error_class::TRANSIENT), "transient");
    EXPECT_STREQ(error_class_name(error_class::ITEM), "item");
    EXPECT_STREQ(error_class_name(error_class::RECORD), "record");
    EXPECT_STREQ(error_class_name(error_class::FATAL), "fatal");
}

}  // namespace
}  // namespace tarius::aws
