#include "tarius/aws/error_class.hpp"

#include "tarius/aws/retry.hpp"

namespace tarius::aws {
namespace {

struct code_rule {
    std::string_view service;  // "" = any service
    std::string_view code;
    error_class what;
};

// Codes whose meaning the status alone does not give. Throttling and transient codes come from the retry rules
// (retry.cpp), so both places agree; these are the permanent ones, and the auth codes that stop everything.
// Sources: the API references' error lists of each operation, and botocore's retry handlers.
constexpr code_rule RULES[] = {
    // Credentials, signatures, authorisation of the caller: nothing this deployment sends can succeed until it is
    // fixed, and the file is not to blame.
    {"", "UnrecognizedClientException", error_class::FATAL},
    {"", "InvalidClientTokenId", error_class::FATAL},
    {"", "InvalidAccessKeyId", error_class::FATAL},
    {"", "SignatureDoesNotMatch", error_class::FATAL},
    {"", "InvalidSignatureException", error_class::FATAL},
    {"", "IncompleteSignature", error_class::FATAL},
    {"", "IncompleteSignatureException", error_class::FATAL},
    {"", "MissingAuthenticationToken", error_class::FATAL},
    {"", "MissingAuthenticationTokenException", error_class::FATAL},
    {"", "ExpiredToken", error_class::FATAL},
    {"", "ExpiredTokenException", error_class::FATAL},
    {"", "InvalidToken", error_class::FATAL},
    {"", "AuthFailure", error_class::FATAL},
    {"", "NotAuthorized", error_class::FATAL},
    {"", "OptInRequired", error_class::FATAL},
    {"dynamodb", "AccessDeniedException", error_class::FATAL},
    {"dynamodb", "InvalidEndpointException", error_class::TRANSIENT},
    // A request signed too long ago (a clock that jumped): signed afresh, it goes through.
    {"", "RequestExpired", error_class::TRANSIENT},
    // DynamoDB: a table that is missing fails the record; a refused item only itself. These are the only codes
    // that make a write's failure one item's: anything else about a write concerns the whole request.
    {"dynamodb", "ResourceNotFoundException", error_class::RECORD},
    {"dynamodb", "ValidationException", error_class::ITEM},
    {"dynamodb", "ItemCollectionSizeLimitExceededException", error_class::ITEM},
    {"dynamodb", "SerializationException", error_class::ITEM},
    {"dynamodb", "ConditionalCheckFailedException", error_class::CONDITION},
    {"dynamodb", "TransactionConflictException", error_class::TRANSIENT},
    {"dynamodb", "ReplicatedWriteConflictException", error_class::TRANSIENT},
    {"dynamodb", "ResourceInUseException", error_class::TRANSIENT},
    // S3: the object or its bucket cannot be read or written as asked.
    {"s3", "NoSuchKey", error_class::RECORD},
    {"s3", "NoSuchBucket", error_class::RECORD},
    {"s3", "NoSuchVersion", error_class::RECORD},
    {"s3", "NoSuchUpload", error_class::RECORD},
    {"s3", "AccessDenied", error_class::RECORD},
    {"s3", "AllAccessDisabled", error_class::RECORD},
    {"s3", "KeyTooLongError", error_class::RECORD},
    {"s3", "InvalidObjectState", error_class::RECORD},
    {"s3", "InvalidRange", error_class::RECORD},
    {"s3", "InvalidBucketName", error_class::RECORD},
    {"s3", "EntityTooLarge", error_class::RECORD},
    {"s3", "MethodNotAllowed", error_class::RECORD},
    {"s3", "KMS.DisabledException", error_class::RECORD},
    {"s3", "KMS.KMSInvalidStateException", error_class::RECORD},
    {"s3", "KMS.NotFoundException", error_class::RECORD},
    // SNS and SQS: a topic or queue that is missing, not ours, or refuses the message.
    {"sns", "NotFound", error_class::RECORD},
    {"sns", "AuthorizationError", error_class::RECORD},
    {"sns", "InvalidParameter", error_class::RECORD},
    {"sns", "KMSAccessDenied", error_class::RECORD},
    {"sns", "KMSDisabled", error_class::RECORD},
    {"sqs", "QueueDoesNotExist", error_class::RECORD},
    {"sqs", "AWS.SimpleQueueService.NonExistentQueue", error_class::RECORD},
    {"sqs", "AccessDenied", error_class::RECORD},
    {"sqs", "KmsAccessDenied", error_class::RECORD},
    {"sqs", "KmsDisabled", error_class::RECORD},
    {"sqs", "ReceiptHandleIsInvalid", error_class::RECORD},
    // Lambda (the continuation's Invoke).
    {"lambda", "ResourceNotFoundException", error_class::RECORD},
    {"lambda", "AccessDeniedException", error_class::RECORD},
    {"lambda", "RequestTooLargeException", error_class::RECORD},
    {"lambda", "InvalidRequestContentException", error_class::RECORD},
};

}  // namespace

const char* error_class_name(error_class c) noexcept {
    switch (c) {
        case error_class::THROTTLED: return "throttled";
        case error_class::TRANSIENT: return "transient";
        case error_class::ITEM: return "item";
        case error_class::CONDITION: return "condition";
        case error_class::RECORD: return "record";
        case error_class::FATAL: return "fatal";
    }
    return "unknown";
}

error_class classify(std::string_view service, std::string_view code, long http_status, errc kind, bool retryable,
                     call_scope scope) {
    if (!code.empty()) {
        if (is_throttling_code(code)) return error_class::THROTTLED;
        if (is_transient_code(code)) return error_class::TRANSIENT;
        for (const code_rule& rule : RULES) {
            if (rule.code != code || (!rule.service.empty() && rule.service != service)) continue;
            // A refusal is the item's only on a write of items; elsewhere (the ledger, DescribeTable) the call
            // itself was wrong, and so is everything the record would do with it.
            const bool items_only = rule.what == error_class::ITEM || rule.what == error_class::CONDITION;
            if (items_only && scope != call_scope::ITEM_WRITE) return error_class::RECORD;
            return rule.what;
        }
    }
    if (http_status == 429) return error_class::THROTTLED;
    if (http_status >= 500) return error_class::TRANSIENT;
    if (http_status >= 400) {
        if (retryable) return error_class::TRANSIENT;  // a code the retry rules know (e.g. RequestTimeout)
        // An unknown refusal of the caller (a proxy's, a VPC endpoint policy's) is the deployment's; S3 answers a
        // HEAD of an object it will not show with a bare 403, which is that object's.
        if ((http_status == 401 || http_status == 403) && service != "s3") return error_class::FATAL;
        // An unknown 4xx: the request is wrong, so sending it again cannot help; it is never one item's (only
        // the codes above single out an item).
        return error_class::RECORD;
    }
    // No answer from a service: the error's kind decides.
    switch (kind) {
        // A refused certificate (or CA bundle) fails the same way every time: the deployment's, never retried.
        case errc::NETWORK: return retryable ? error_class::TRANSIENT : error_class::FATAL;
        case errc::AUTH: return retryable ? error_class::TRANSIENT : error_class::FATAL;
        case errc::SERVICE: return retryable ? error_class::TRANSIENT : error_class::RECORD;
        case errc::CANCELLED: return error_class::TRANSIENT;
        default: return retryable ? error_class::TRANSIENT : error_class::RECORD;
    }
}

error_class classify(const error& e, call_scope scope) {
    if (!e.service) return classify({}, {}, 0, e.code, e.retryable, scope);
    return classify(e.service->service, e.service->code, e.service->http_status, e.code, e.retryable, scope);
}

}  // namespace tarius::aws
