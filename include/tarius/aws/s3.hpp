#pragma once
/// The S3 calls Tarius needs: GetObject (streamed, ranged, pinned), HeadObject, PutObject (SSE-KMS), multipart
/// uploads, and upload_file() which streams a local file up in parts.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
    /// User metadata sent as x-amz-meta-<name>: <value>. Names are lower-case ASCII; values must be ASCII (the
    /// caller percent-encodes anything else).
    std::vector<std::pair<std::string, std::string>> metadata;
};

/// Result of PutObject.
struct s3_put_result {
    std::string etag;        ///< without quotes
    std::string version_id;  ///< when versioned
};

/// One uploaded part of a multipart upload, as CompleteMultipartUpload lists it.
struct s3_completed_part {
    int part_number = 0;  ///< 1 to 10,000
    std::string etag;     ///< the ETag UploadPart answered, without quotes
};

/// S3's multipart limits: every part but the last is at least 5 MiB, at most 10,000 parts.
inline constexpr uint64_t S3_MIN_PART_SIZE = 5ull * 1024 * 1024;
/// The most parts one upload may have.
inline constexpr int S3_MAX_PARTS = 10000;

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
    /// DeleteObject (of the current version; a missing object is no error, as in S3).
    [[nodiscard]] virtual result<void> delete_object(const std::string& bucket, const std::string& key) = 0;

    /// CreateMultipartUpload (POST ?uploads) with the options' Content-Type and SSE-KMS headers; returns the
    /// upload id. The default implementation fails with errc::INTERNAL (clients without multipart support).
    [[nodiscard]] virtual result<std::string> create_multipart_upload(const std::string& bucket, const std::string& key,
                                                                      const s3_put_options& options = {});
    /// UploadPart (PUT ?partNumber=N&uploadId=ID) of one part; returns its ETag without quotes.
    /// Precondition: 1 ≤ part_number ≤ 10,000; every part but the last is at least S3_MIN_PART_SIZE bytes.
    [[nodiscard]] virtual result<std::string> upload_part(const std::string& bucket, const std::string& key,
                                                          const std::string& upload_id, int part_number,
                                                          std::string body);
    /// CompleteMultipartUpload (POST ?uploadId=ID) with the parts in ascending order. An error document in a 200
    /// answer (S3 sends one when the completion fails after the headers went out) is an error like any other.
    [[nodiscard]] virtual result<s3_put_result> complete_multipart_upload(const std::string& bucket,
                                                                          const std::string& key,
                                                                          const std::string& upload_id,
                                                                          const std::vector<s3_completed_part>& parts);
    /// AbortMultipartUpload (DELETE ?uploadId=ID): frees the parts uploaded so far.
    [[nodiscard]] virtual result<void> abort_multipart_upload(const std::string& bucket, const std::string& key,
                                                              const std::string& upload_id);
};

/// Uploads the local file at `path` to s3://bucket/key without holding it in memory: a file of at most
/// `part_size` bytes with one PutObject, a larger one with a multipart upload of `part_size` parts (raised to
/// S3_MIN_PART_SIZE, and further when the file would need more than 10,000 parts) read one at a time, so memory
/// stays at a few parts' worth; the upload is aborted when any step fails. The options' Content-Type and SSE-KMS
/// settings apply either way. A local read failure is errc::IO; S3 errors keep their codes (and retryable flags).
/// `stop`, asked before each part, abandons a multipart upload (aborted, errc::CANCELLED) when it returns true:
/// a deadline that comes while a large file goes up.
[[nodiscard]] result<s3_put_result> upload_file(s3_client& s3, const std::string& bucket, const std::string& key,
                                                const std::string& path, const s3_put_options& options = {},
                                                uint64_t part_size = S3_MIN_PART_SIZE,
                                                const std::function<bool()>& stop = {});

}  // namespace tarius::aws
