#include "tarius/aws/s3.hpp"

#include <charconv>
#include <utility>

#include "aws/service_call.hpp"
#include "aws/uri.hpp"
#include "aws/xml.hpp"
#include "tarius/aws/endpoints.hpp"
#include "tarius/aws/errors.hpp"

namespace tarius::aws {

namespace {

std::string unquote(std::string_view etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return std::string(etag);
}

std::string header_or_empty(const http_response& response, std::string_view name) {
    auto value = response.header(name);
    return value ? std::string(*value) : std::string();
}

s3_object_info object_info(const http_response& response) {
    s3_object_info info;
    if (auto length = response.header("Content-Length")) {
        uint64_t size = 0;
        auto [ptr, ec] = std::from_chars(length->data(), length->data() + length->size(), size);
        if (ec == std::errc() && ptr == length->data() + length->size()) info.size = size;
    } else {
        info.size = response.body_bytes;
    }
    info.etag = unquote(header_or_empty(response, "ETag"));
    info.version_id = header_or_empty(response, "x-amz-version-id");
    if (info.version_id == "null") info.version_id.clear();  // unversioned objects in a versioned bucket
    info.content_type = header_or_empty(response, "Content-Type");
    info.content_encoding = header_or_empty(response, "Content-Encoding");
    info.last_modified = header_or_empty(response, "Last-Modified");
    return info;
}

void add_put_headers(detail::call_request& req, const s3_put_options& options) {
    req.headers.push_back({"Content-Type", options.content_type});
    if (!options.sse_kms_key_id.empty()) {
        req.headers.push_back({"x-amz-server-side-encryption", "aws:kms"});
        req.headers.push_back({"x-amz-server-side-encryption-aws-kms-key-id", options.sse_kms_key_id});
        if (options.bucket_key) req.headers.push_back({"x-amz-server-side-encryption-bucket-key-enabled", "true"});
    }
    for (const auto& [name, value] : options.metadata) req.headers.push_back({"x-amz-meta-" + name, value});
}

// Escapes the five XML special characters for element text.
void append_xml_text(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out.push_back(c);
        }
    }
}

// S3 may answer CompleteMultipartUpload (and CopyObject) with 200 and an <Error> document when the work failed
// after the status line was sent; classify it like the same error with a 5xx status.
std::optional<error> error_in_ok_body(std::string_view operation, const http_response& response) {
    auto doc = detail::parse_xml(response.body);
    if (!doc || doc->name != "Error") return std::nullopt;
    http_response as_error = response;
    as_error.status = 500;
    return parse_service_error("s3", operation, as_error).to_error();
}

class s3_client_impl final : public s3_client {
public:
    s3_client_impl(std::unique_ptr<detail::service_core> core, s3_addressing addressing)
        : core_(std::move(core)), addressing_(addressing) {}

    result<s3_object_info> head_object(const std::string& bucket, const std::string& key,
                                       const s3_get_options& options) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, read_request("HeadObject", "HEAD", bucket, key, options));
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        return object_info(response.response);
    }

    result<s3_object_info> get_object(const std::string& bucket, const std::string& key, const s3_get_options& options,
                                      byte_sink& body) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, read_request("GetObject", "GET", bucket, key, options));
        req.body_sink = &body;
        req.sink_base_offset = options.has_range ? options.range_start : 0;
        // No deadline for the whole download (a large object takes long); the transport still fails a stall.
        req.timeout = std::chrono::milliseconds(-1);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        return object_info(response.response);
    }

    result<s3_put_result> put_object(const std::string& bucket, const std::string& key, std::string body,
                                     const s3_put_options& options) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, base_request("PutObject", "PUT", bucket, key, ""));
        add_put_headers(req, options);
        req.body = std::move(body);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        s3_put_result out;
        out.etag = unquote(header_or_empty(response.response, "ETag"));
        out.version_id = header_or_empty(response.response, "x-amz-version-id");
        return out;
    }

    result<std::string> create_multipart_upload(const std::string& bucket, const std::string& key,
                                                const s3_put_options& options) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req,
                                base_request("CreateMultipartUpload", "POST", bucket, key, "uploads="));
        add_put_headers(req, options);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        auto doc = detail::parse_xml(response.response.body);
        const detail::xml_element* id = doc ? doc->find({"UploadId"}) : nullptr;
        if (!id || id->text.empty()) {
            return make_error(errc::SERVICE, "s3 CreateMultipartUpload: the answer holds no UploadId", true);
        }
        return id->text;
    }

    result<std::string> upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                    int part_number, std::string body) override {
        if (part_number < 1 || part_number > S3_MAX_PARTS || upload_id.empty()) {
            return make_error(errc::INVALID_ARGUMENT, "s3 UploadPart: part number " + std::to_string(part_number) +
                                                          " outside 1-10000 or no upload id");
        }
        TARIUS_ASSIGN_OR_RETURN(
            detail::call_request req,
            base_request("UploadPart", "PUT", bucket, key,
                         "partNumber=" + std::to_string(part_number) + "&uploadId=" + detail::query_encode(upload_id)));
        req.body = std::move(body);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        std::string etag = unquote(header_or_empty(response.response, "ETag"));
        if (etag.empty()) return make_error(errc::SERVICE, "s3 UploadPart: the answer holds no ETag", true);
        return etag;
    }

    result<s3_put_result> complete_multipart_upload(const std::string& bucket, const std::string& key,
                                                    const std::string& upload_id,
                                                    const std::vector<s3_completed_part>& parts) override {
        if (upload_id.empty() || parts.empty()) {
            return make_error(errc::INVALID_ARGUMENT, "s3 CompleteMultipartUpload: no upload id or no parts");
        }
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, base_request("CompleteMultipartUpload", "POST", bucket, key,
                                                                       "uploadId=" + detail::query_encode(upload_id)));
        req.headers.push_back({"Content-Type", "application/xml"});
        std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
        for (const s3_completed_part& part : parts) {
            body += "<Part><PartNumber>" + std::to_string(part.part_number) + "</PartNumber><ETag>";
            append_xml_text(body, "\"" + part.etag + "\"");
            body += "</ETag></Part>";
        }
        body += "</CompleteMultipartUpload>";
        req.body = std::move(body);
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        if (auto failed = error_in_ok_body("CompleteMultipartUpload", response.response)) return *failed;
        s3_put_result out;
        auto doc = detail::parse_xml(response.response.body);
        if (const detail::xml_element* etag = doc ? doc->find({"ETag"}) : nullptr) out.etag = unquote(etag->text);
        out.version_id = header_or_empty(response.response, "x-amz-version-id");
        return out;
    }

    result<void> delete_object(const std::string& bucket, const std::string& key) override {
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, base_request("DeleteObject", "DELETE", bucket, key, ""));
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        (void)response;
        return ok();
    }

    result<void> abort_multipart_upload(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id) override {
        if (upload_id.empty()) return make_error(errc::INVALID_ARGUMENT, "s3 AbortMultipartUpload: no upload id");
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req, base_request("AbortMultipartUpload", "DELETE", bucket, key,
                                                                       "uploadId=" + detail::query_encode(upload_id)));
        TARIUS_ASSIGN_OR_RETURN(detail::call_response response, core_->call(req));
        (void)response;
        return ok();
    }

private:
    result<detail::call_request> base_request(std::string operation, std::string method, const std::string& bucket,
                                              const std::string& key, const std::string& query) const {
        if (bucket.empty() || key.empty()) {
            return make_error(errc::INVALID_ARGUMENT, "s3 " + operation + ": bucket and key must not be empty");
        }
        TARIUS_ASSIGN_OR_RETURN(s3_target target, s3_request_target(core_->service_endpoint(), bucket,
                                                                    detail::uri_encode(key, true), addressing_));
        detail::call_request req;
        req.operation = std::move(operation);
        req.method = std::move(method);
        req.url = std::move(target.url);
        if (!query.empty()) req.url += "?" + query;
        return req;
    }

    result<detail::call_request> read_request(std::string operation, std::string method, const std::string& bucket,
                                              const std::string& key, const s3_get_options& options) const {
        std::string query;
        if (!options.version_id.empty()) query = "versionId=" + detail::query_encode(options.version_id);
        TARIUS_ASSIGN_OR_RETURN(detail::call_request req,
                                base_request(std::move(operation), std::move(method), bucket, key, query));
        if (options.has_range) {
            std::string range = "bytes=" + std::to_string(options.range_start) + "-";
            if (options.range_end) range += std::to_string(*options.range_end);
            req.headers.push_back({"Range", std::move(range)});
        }
        if (!options.if_match.empty()) {
            std::string etag = options.if_match;
            if (etag.front() != '"') etag = "\"" + etag + "\"";
            req.headers.push_back({"If-Match", std::move(etag)});
        }
        return req;
    }

    std::unique_ptr<detail::service_core> core_;
    s3_addressing addressing_;
};

}  // namespace

result<std::unique_ptr<s3_client>> s3_client::create(std::shared_ptr<client_context> context) {
    if (!context) return make_error(errc::INVALID_ARGUMENT, "s3 client: no client context");
    s3_addressing addressing = resolve_s3_addressing(context->config);
    detail::core_options options;
    options.service = "s3";
    options.s3_signing = true;
    TARIUS_ASSIGN_OR_RETURN(auto core, detail::service_core::create(std::move(context), std::move(options)));
    return std::unique_ptr<s3_client>(new s3_client_impl(std::move(core), addressing));
}

}  // namespace tarius::aws
