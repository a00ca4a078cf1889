#include "aws/action_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <simdjson.h>

#include "aws/uri.hpp"
#include "json/writer.hpp"

namespace tarius::aws::detail {

namespace {

// The value of parameter `name` of a form-encoded body or query (a=1&b=2), decoded; empty when absent.
std::string form_value(std::string_view form, std::string_view name) {
    while (!form.empty()) {
        const size_t amp = form.find('&');
        const std::string_view pair = form.substr(0, amp);
        const size_t eq = pair.find('=');
        if (uri_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? std::string() : uri_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        form.remove_prefix(amp + 1);
    }
    return {};
}

// The names of the query's parameters, decoded, in order.
std::vector<std::string> query_names(std::string_view query) {
    std::vector<std::string> names;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (!pair.empty()) names.push_back(uri_decode(pair.substr(0, pair.find('='))));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return names;
}

// The URL path without the endpoint's base path (a custom endpoint may sit under a prefix).
std::string_view path_below_base(std::string_view path, const endpoint& ep) {
    if (!ep.base_path.empty() && path.substr(0, ep.base_path.size()) == ep.base_path) {
        path.remove_prefix(ep.base_path.size());
    }
    return path;
}

// Table names a DynamoDB request body names: TableName, the keys of RequestItems (batch calls), or the
// TableName of each TransactItems entry.
std::vector<std::string> dynamodb_tables(const std::string& body) {
    std::vector<std::string> tables;
    simdjson::dom::parser parser;
    simdjson::dom::object doc;
    if (parser.parse(body).get_object().get(doc) != simdjson::SUCCESS) return tables;
    std::string_view name;
    if (doc["TableName"].get_string().get(name) == simdjson::SUCCESS) tables.emplace_back(name);
    simdjson::dom::object items;
    if (doc["RequestItems"].get_object().get(items) == simdjson::SUCCESS) {
        for (auto field : items) tables.emplace_back(field.key);
    }
    simdjson::dom::array transact;
    if (doc["TransactItems"].get_array().get(transact) == simdjson::SUCCESS) {
        for (simdjson::dom::element entry : transact) {
            simdjson::dom::object op;
            if (entry.get_object().get(op) != simdjson::SUCCESS) continue;
            for (auto field : op) {
                if (field.value["TableName"].get_string().get(name) == simdjson::SUCCESS) tables.emplace_back(name);
            }
        }
    }
    return tables;
}

// The queue URL of an SQS request: QueueUrl of a JSON-protocol body, else of a form-encoded one.
std::string sqs_queue(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::object doc;
    std::string_view url;
    if (parser.parse(body).get_object().get(doc) == simdjson::SUCCESS &&
        doc["QueueUrl"].get_string().get(url) == simdjson::SUCCESS) {
        return std::string(url);
    }
    return form_value(body, "QueueUrl");
}

// "bucket/key" of an S3 request URL, path-style (<endpoint>/bucket/key) or virtual-hosted (bucket.<endpoint host>).
std::string s3_object(const url_parts& url, const endpoint& ep) {
    std::string_view path = path_below_base(url.path, ep);
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    const std::string host = host_header_value(url);
    const std::string endpoint_host = ep.host_header();
    if (host == endpoint_host || host.size() <= endpoint_host.size() + 1) return uri_decode(path);
    std::string out = host.substr(0, host.size() - endpoint_host.size() - 1);
    out.push_back('/');
    out += uri_decode(path);
    return out;
}

// The function name (or ARN) of a Lambda request: /2015-03-31/functions/<name>/invocations.
std::string lambda_function(std::string_view path) {
    constexpr std::string_view MARKER = "/functions/";
    const size_t at = path.find(MARKER);
    if (at == std::string_view::npos) return {};
    path.remove_prefix(at + MARKER.size());
    return uri_decode(path.substr(0, path.find('/')));
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t char_idx = 0; char_idx < a.size(); ++char_idx) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[char_idx]) != lower(b[char_idx])) return false;
    }
    return true;
}

void append_string_array(std::string& out, const std::vector<std::string>& values) {
    out.push_back('[');
    for (size_t value_idx = 0; value_idx < values.size(); ++value_idx) {
        if (value_idx > 0) out.push_back(',');
        json::append_string(out, values[value_idx]);
    }
    out.push_back(']');
}

// The record file, opened once per process; -1 when recording is off.
int record_fd() {
    static const int FD = [] {
        const char* path = std::getenv("TARIUS_RECORD_ACTIONS");
        if (path == nullptr || *path == '\0') return -1;
        return ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }();
    return FD;
}

}  // namespace

action_record describe_action(std::string_view service, const endpoint& ep, const call_request& request) {
    action_record out;
    out.action = std::string(service) + ":" + request.operation;
    url_parts url;
    if (!split_url(request.url, url)) return out;
    out.params = query_names(url.query);
    std::string resource;
    if (service == "dynamodb") {
        out.resources = dynamodb_tables(request.body);
    } else if (service == "s3") {
        resource = s3_object(url, ep);
        for (const http_header& header : request.headers) {
            if (iequals(header.name, "x-amz-server-side-encryption-aws-kms-key-id")) out.kms_key_id = header.value;
        }
    } else if (service == "sqs") {
        resource = sqs_queue(request.body);
    } else if (service == "sns") {
        resource = form_value(request.body, "TopicArn");
    } else if (service == "lambda") {
        resource = lambda_function(path_below_base(url.path, ep));
    }
    if (!resource.empty()) out.resources.push_back(std::move(resource));
    return out;
}

std::string action_record_json(const action_record& record) {
    std::string out = "{\"action\":";
    json::append_string(out, record.action);
    out += ",\"resources\":";
    append_string_array(out, record.resources);
    out += ",\"params\":";
    append_string_array(out, record.params);
    out += ",\"kms_key_id\":";
    json::append_string(out, record.kms_key_id);
    out += "}\n";
    return out;
}

void record_action(std::string_view service, const endpoint& ep, const call_request& request) {
    const int fd = record_fd();
    if (fd < 0) return;
    const std::string line = action_record_json(describe_action(service, ep, request));
    // One write per record: O_APPEND keeps the lines of concurrent threads and processes whole.
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

}  // namespace tarius::aws::detail
