#pragma once
/// The S3 calls Tarius needs: GetObject (streamed, ranged, pinned), HeadObject, PutObject (SSE-KMS).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tarius/aws/client.hpp"
#include "tarius/stream.hpp"

namespace tarius::aws {

/// Metadata of an object.
struct s3_object_info {
    uint64_t size = 0;             ///< Content-Length of the whole object (HEAD) or of the part returned (GET)
    std::string etag;              ///< without quotes
    std::string version_id;        ///< empty when the bucket is not versioned
    std::string content_type;      ///< Content-Type
    std::string content_encoding;  ///< Content-Encoding
    std::string last_modified;     ///< Last-Modified as sent
};

/// Options of GetObject / HeadObject.
struct s3_get_options {
    std::string version_id;             ///< read this version (?versionId=)
    std::string if_match;               ///< ETag the object must still have (If-Match); 412 → errc::CONFLICT
    uint64_t range_start = 0;           ///< first byte (Range: bytes=start-end) when has_range
    std::optional<uint64_t> range_end;  ///< last byte, inclusive; open-ended when unset
    bool has_range = false;             ///< send a Range header
};

/// Options of PutObject.
struct s3_put_options {
    std::string content_type = "application/octet-stream";  ///< Content-Type
    std::string sse_kms_key_id;  ///< when set: x-amz-server-side-encryption: aws:kms + this key id/ARN
    bool bucket_key = true;      ///< x-amz-server-side-encryption-bucket-key-enabled with SSE-KMS
};

/// Result of PutObject.
struct s3_put_result {
    std::string etag;        ///< without quotes
    std::string version_id;  ///< when versioned
};

/// An S3 client. Path style on custom endpoints, virtual-hosted on AWS (see endpoints.hpp). Thread-safe.
class s3_client {
public:
    /// Creates a client for the context's region and S3 endpoint.
    [[nodiscard]] static result<std::unique_ptr<s3_client>> create(std::shared_ptr<client_context> context);
    virtual ~s3_client() = default;

    /// HeadObject. A missing object is errc::NOT_FOUND.
    [[nodiscard]] virtual result<s3_object_info> head_object(const std::string& bucket, const std::string& key,
                                                             const s3_get_options& options = {}) = 0;
    /// GetObject, the body streamed into `body` (write() only; the caller finishes it) as it arrives. A body cut
    /// off before its Content-Length is a retryable errc::NETWORK error naming the offset reached; it is not
    /// retried here because bytes were already delivered (the caller resumes with a Range).
    [[nodiscard]] virtual result<s3_object_info> get_object(const std::string& bucket, const std::string& key,
                                                            const s3_get_options& options, byte_sink& body) = 0;
    /// PutObject of an in-memory body.
    [[nodiscard]] virtual result<s3_put_result> put_object(const std::string& bucket, const std::string& key,
                                                           std::string body, const s3_put_options& options = {}) = 0;
};

}  // namespace tarius::aws
