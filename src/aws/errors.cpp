#include "tarius/aws/errors.hpp"

#include <simdjson.h>

#include <array>
#include <charconv>

#include "aws/xml.hpp"
#include "tarius/aws/retry.hpp"

namespace tarius::aws {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

// "aws.protocoltests#FooError:http://internal.amazon.com/..." -> "FooError": the part after '#' names the
// shape, anything after ':' is a URI some services append.
std::string sanitize_code(std::string_view code) {
    code = trim(code);
    auto colon = code.find(':');
    if (colon != std::string_view::npos) code = code.substr(0, colon);
    auto hash = code.rfind('#');
    if (hash != std::string_view::npos) code = code.substr(hash + 1);
    return std::string(code);
}

void parse_json_body(std::string_view body, service_error& out) {
    // One per thread: conditional writes make an error answer (ConditionalCheckFailed) an everyday one.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) return;
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return;
    std::string_view text;
    if (out.code.empty()) {
        if (object["__type"].get_string().get(text) == simdjson::SUCCESS ||
            object["code"].get_string().get(text) == simdjson::SUCCESS ||
            object["Code"].get_string().get(text) == simdjson::SUCCESS) {
            out.code = sanitize_code(text);
        }
    }
    if (object["message"].get_string().get(text) == simdjson::SUCCESS ||
        object["Message"].get_string().get(text) == simdjson::SUCCESS ||
        object["errorMessage"].get_string().get(text) == simdjson::SUCCESS) {
        out.message = std::string(text);
    }
}

void parse_xml_body(std::string_view body, service_error& out) {
    auto parsed = detail::parse_xml(body);
    if (!parsed) return;
    const detail::xml_element& root = *parsed;
    // <ErrorResponse><Error>..</Error><RequestId/></ErrorResponse> (query protocol), <Error>..</Error> (S3),
    // <Response><Errors><Error>..</Error></Errors><RequestID/></Response> (EC2).
    const detail::xml_element* error_element = root.name == "Error" ? &root : root.descendant("Error");
    if (error_element != nullptr) {
        if (const auto* code = error_element->child("Code"); code != nullptr && out.code.empty()) {
            out.code = sanitize_code(code->text);
        }
        if (const auto* message = error_element->child("Message"); message != nullptr) {
            out.message = std::string(trim(message->text));
        }
    }
    if (out.request_id.empty()) {
        const auto* id = root.descendant("RequestId");
        if (id == nullptr) id = root.descendant("RequestID");
        if (id != nullptr) out.request_id = std::string(trim(id->text));
    }
}

constexpr std::array<std::string_view, 14> AUTH_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "AuthFailure",
    "RequestExpired",
    "InvalidToken",
};

}  // namespace

std::optional<std::string_view> find_header(const http_response& response, std::string_view name) {
    for (const auto& header : response.headers) {
        if (iequals(header.name, name)) return std::string_view(header.value);
    }
    return std::nullopt;
}

service_error parse_service_error(std::string_view service, std::string_view operation, const http_response& response) {
    service_error out;
    out.service = std::string(service);
    out.operation = std::string(operation);
    out.http_status = response.status;
    // Header codes come first, as in botocore: they are set by the service front end and are not ambiguous.
    if (auto type = find_header(response, "x-amzn-ErrorType"); type && !type->empty()) {
        out.code = sanitize_code(*type);
    } else if (auto query = find_header(response, "x-amzn-query-error"); query && !query->empty()) {
        // "AWS.SimpleQueueService.NonExistentQueue;Sender": the awsQuery-compatible code before ';'.
        out.code = sanitize_code(query->substr(0, query->find(';')));
    }
    if (auto id = find_header(response, "x-amzn-RequestId"); id && !id->empty()) {
        out.request_id = std::string(*id);
    } else if (auto s3_id = find_header(response, "x-amz-request-id"); s3_id && !s3_id->empty()) {
        out.request_id = std::string(*s3_id);
    }
    std::string_view body = trim(response.body);
    if (!body.empty()) {
        if (body.front() == '{') {
            parse_json_body(body, out);
        } else if (body.front() == '<') {
            parse_xml_body(body, out);
        }
    }
    out.throttling = !out.code.empty() && is_throttling_code(out.code);
    attempt_outcome outcome;
    outcome.http_status = out.http_status;
    outcome.error_code = out.code;
    out.retryable = classify(outcome) != retry_kind::NONE;
    return out;
}

std::string service_error::describe() const {
    std::string text = service;
    if (!operation.empty()) text += " " + operation;
    text += ": ";
    text += code.empty() ? std::string("error") : code;
    text += " (HTTP " + std::to_string(http_status) + ")";
    if (!message.empty()) text += ": " + message;
    if (!request_id.empty()) text += " [request id " + request_id + "]";
    return text;
}

error service_error::to_error() const {
    errc kind = errc::SERVICE;
    bool auth_code = false;
    for (auto candidate : AUTH_CODES) auth_code = auth_code || code == candidate;
    if (auth_code || http_status == 401 || http_status == 403) {
        kind = errc::AUTH;
    } else if (http_status == 404 || code.ends_with("NotFound") || code.ends_with("NotFoundException") ||
               code == "NoSuchKey" || code == "NoSuchBucket" || code == "NonExistentQueue" ||
               code == "AWS.SimpleQueueService.NonExistentQueue") {
        kind = errc::NOT_FOUND;
    } else if (code == "ConditionalCheckFailedException" || code == "TransactionConflictException" ||
               http_status == 412) {
        kind = errc::CONFLICT;
    }
    if (retryable) kind = errc::SERVICE;
    error out = make_error(kind, describe(), retryable);
    out.service = std::make_shared<const service_detail>(service_detail{service, code, message, http_status});
    return out;
}

result<void> verify_dynamodb_crc32(const http_response& response) {
    auto header = find_header(response, "x-amz-crc32");
    if (!header) return ok();
    std::string_view digits = trim(*header);
    uint64_t expected = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expected);
    if (ec != std::errc() || end != digits.data() + digits.size() || expected > 0xFFFFFFFFULL) {
        return make_error(errc::NETWORK, "dynamodb: unparseable x-amz-crc32 header '" + std::string(digits) + "'",
                          true);
    }
    uint32_t actual = crc32(response.body);
    if (actual != expected) {
        return make_error(errc::NETWORK,
                          "dynamodb: response body crc32 " + std::to_string(actual) + " does not match x-amz-crc32 " +
                              std::to_string(expected) + " (" + std::to_string(response.body.size()) + " bytes)",
                          true);
    }
    return ok();
}

}  // namespace tarius::aws
