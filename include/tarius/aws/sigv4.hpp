#pragma once
/// AWS Signature Version 4, header form (Authorization header), for the JSON, query and REST (S3) protocols.
///
/// A service client describes its request with a `signing_request` (views only, nothing copied), picks the
/// rules with `signing_params`, and gets back every intermediate step plus the headers to add. The derived
/// signing key is cached per (secret, date, region, service), so a request costs one SHA-256 of the payload
/// (unless its hash is given), one of the canonical request and one HMAC.

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/aws/credentials.hpp"
#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

/// One query parameter, decoded (not percent-encoded); the signer encodes it.
struct query_param {
    std::string_view name;   ///< the decoded name
    std::string_view value;  ///< the decoded value; empty for "name" and "name="
};

/// The payload hash to sign instead of a body hash when the body is not signed (S3 over TLS).
inline constexpr std::string_view UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/// A request to sign, as views into the caller's data (which must outlive the `sign` call).
struct signing_request {
    std::string_view method = "GET";  ///< HTTP method, upper-case: GET, PUT, POST, HEAD, DELETE
    /// The URI path as sent on the wire, i.e. already percent-encoded ("/my%20key"); "" means "/". When
    /// `path_is_raw`, the unencoded path instead ("/my key"), which the signer encodes once itself.
    std::string_view path = "/";
    bool path_is_raw = false;  ///< `path` is not percent-encoded yet (see `path`)
    /// Decoded query parameters in any order; when non-empty, `query` is ignored.
    std::span<const query_param> query_params;
    /// The query string as sent on the wire (without '?'), used when `query_params` is empty; each pair is
    /// decoded and re-encoded, so "%7E" and "~" sign alike.
    std::string_view query;
    /// Request headers in order; names compare case-insensitively, duplicates are joined with ','.
    /// Authorization, X-Amz-Date and any header the signer adds itself are ignored here, as are hop-by-hop
    /// headers (connection, expect, transfer-encoding, ...), user-agent and x-amzn-trace-id.
    std::span<const http_header> headers;
    /// The Host header value, signed when `headers` has no Host (the transport adds Host itself).
    std::string_view host;
    std::string_view payload;  ///< the body, hashed unless `payload_hash` is set or the payload is unsigned
    /// Lower-case hex SHA-256 of the body when already known (avoids hashing it again); "" = compute it.
    std::string_view payload_hash;
};

/// How to sign: scope, time and the per-service rules.
struct signing_params {
    std::string_view service;                    ///< signing name, e.g. "dynamodb", "s3", "sqs", "sns", "sts"
    std::string_view region;                     ///< e.g. "eu-west-1"
    std::chrono::system_clock::time_point time;  ///< signing time (X-Amz-Date), normally now
    /// Percent-encode the wire path once more for the canonical URI (every service but S3).
    bool double_encode = true;
    /// Remove "." and ".." segments and empty segments from the path first (every service but S3).
    bool normalize_path = true;
    /// Add and sign X-Amz-Content-Sha256 with the payload hash (always for S3).
    bool content_sha256_header = false;
    /// Sign the literal UNSIGNED-PAYLOAD instead of the body hash (implies the X-Amz-Content-Sha256 header).
    bool unsigned_payload = false;
    /// Add X-Amz-Security-Token after signing instead of signing it (a few services require this).
    bool omit_session_token = false;

    /// Switches to the S3 rules: path encoded once and never normalised, X-Amz-Content-Sha256 always sent.
    signing_params& s3_rules() noexcept {
        double_encode = false;
        normalize_path = false;
        content_sha256_header = true;
        return *this;
    }
};

/// The outcome of signing: every intermediate step and the headers to add to the request.
struct signing_result {
    std::string canonical_request;  ///< step 1, exactly as hashed
    std::string string_to_sign;     ///< step 2
    std::string signature;          ///< step 3, lower-case hex
    std::string authorization;      ///< the Authorization header value
    std::string amz_date;           ///< the X-Amz-Date value, e.g. "20150830T123600Z"
    std::string payload_hash;       ///< the payload hash that was signed (hex or UNSIGNED-PAYLOAD)
    std::string signed_headers;     ///< the SignedHeaders list, e.g. "host;x-amz-date"
    /// Headers to add, in this order: X-Amz-Date, X-Amz-Security-Token (when a token is set),
    /// X-Amz-Content-Sha256 (when required), Authorization.
    std::vector<http_header> headers;
};

/// Formats `time` as the ISO 8601 basic timestamp SigV4 uses, e.g. "20150830T123600Z".
[[nodiscard]] std::string format_amz_date(std::chrono::system_clock::time_point time);

/// Derives the SigV4 signing key kSigning for `date` (YYYYMMDD); uncached.
[[nodiscard]] result<std::array<uint8_t, 32>> derive_signing_key(std::string_view secret_access_key,
                                                                 std::string_view date, std::string_view region,
                                                                 std::string_view service);

/// Signs requests with SigV4, caching derived signing keys. Thread-safe; one per client is enough.
class sigv4_signer {
public:
    /// Signs `request` with `creds` under `params` into `out`, reusing `out`'s buffers. Fails with
    /// `errc::AUTH` when the access key or secret is empty and `errc::INVALID_ARGUMENT` when the service,
    /// region or method is empty or no Host is known.
    [[nodiscard]] result<void> sign(const signing_request& request, const credentials& creds,
                                    const signing_params& params, signing_result& out);

    /// Signs `request` and returns the result (see the overload above).
    [[nodiscard]] result<signing_result> sign(const signing_request& request, const credentials& creds,
                                              const signing_params& params);

    /// Signs an HTTP request in place: splits its URL (path and query already encoded), signs its headers
    /// and body, removes stale Authorization/X-Amz-* signing headers and appends the new ones.
    [[nodiscard]] result<void> sign(http_request& request, const credentials& creds, const signing_params& params);

    /// Number of derivations done so far (cache misses); for tests and metrics.
    [[nodiscard]] uint64_t key_derivations() const;

private:
    // A derived key for one (secret, date, region, service); a handful of entries covers every client.
    struct cached_key {
        std::string secret;
        std::string date;
        std::string region;
        std::string service;
        std::array<uint8_t, 32> key{};
    };
    static constexpr size_t CACHE_SIZE = 8;

    result<std::array<uint8_t, 32>> signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                                std::string_view service);

    mutable std::mutex mutex_;
    std::array<cached_key, CACHE_SIZE> cache_{};
    size_t cache_used_ = 0;
    size_t cache_next_ = 0;
    uint64_t derivations_ = 0;
};

}  // namespace tarius::aws
