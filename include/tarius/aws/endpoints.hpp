#pragma once
/// Endpoint resolution: configured endpoint URLs (the SDK reference guide's "service-specific endpoints") and
/// the partitions' default hosts, plus S3 bucket addressing.

#include <cstdint>
#include <string>
#include <string_view>

#include "tarius/aws/config.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

/// Where to send requests for one service and how to sign them.
struct endpoint {
    std::string scheme = "https";  ///< "https" or "http"
    std::string host;              ///< DNS name or IP literal (IPv6 without brackets)
    uint16_t port = 443;           ///< explicit or the scheme's default
    std::string base_path;         ///< path prefix without trailing '/', e.g. "" or "/proxy"
    std::string signing_region;    ///< region for SigV4
    std::string signing_name;      ///< service name for SigV4 ("s3", "dynamodb", ...)
    bool custom = false;           ///< true when it came from a configured endpoint URL
    std::string partition;         ///< "aws", "aws-cn" or "aws-us-gov"

    /// scheme://host[:port]base_path, the port only when not the scheme's default; IPv6 hosts bracketed.
    [[nodiscard]] std::string url() const;
    /// The Host header value: host, with ":port" when not the scheme's default.
    [[nodiscard]] std::string host_header() const;
};

/// A partition: the DNS suffix shared by a group of regions.
struct partition_info {
    std::string_view name;        ///< "aws", "aws-cn", "aws-us-gov"
    std::string_view dns_suffix;  ///< "amazonaws.com", "amazonaws.com.cn"
};

/// The partition of `region`: cn-* is aws-cn, us-gov-* is aws-us-gov, everything else aws.
[[nodiscard]] partition_info partition_for_region(std::string_view region);

/// Parses an endpoint URL (scheme://host[:port][/path]); errc::INVALID_ARGUMENT naming `origin` when invalid.
[[nodiscard]] result<endpoint> parse_endpoint_url(std::string_view url, std::string_view origin);

/// Resolves the endpoint of `service` ("s3", "dynamodb", "sns", "sqs", "sts", "lambda") in `region`:
/// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the `services` section of the profile, then the
/// profile's `endpoint_url`, all skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
/// `ignore_configured_endpoint_urls` is true; otherwise `<service>.<region>.<partition suffix>`.
[[nodiscard]] result<endpoint> resolve_endpoint(std::string_view service, std::string_view region,
                                                const env_lookup& env, const shared_config& config);

/// How S3 requests name the bucket.
enum class s3_addressing : uint8_t {
    AUTO,     ///< virtual-hosted on AWS endpoints when the bucket name allows it, path style otherwise
    PATH,     ///< always `<endpoint>/<bucket>/<key>`
    VIRTUAL,  ///< always `<bucket>.<host>` (fails for names that are not DNS labels)
};

/// The host and path of one S3 request.
struct s3_target {
    std::string url;              ///< full URL without query: scheme://host[:port]/path
    std::string host_header;      ///< the Host header to sign
    std::string path;             ///< the encoded path, starting with '/'
    bool virtual_hosted = false;  ///< true when the bucket is in the host name
};

/// True when `bucket` can be a virtual-hosted label: 3-63 chars of [a-z0-9-], starting and ending with a letter
/// or digit, not an IP address; with `for_tls`, no dots (the wildcard certificate covers one label only).
[[nodiscard]] bool s3_bucket_is_dns_compatible(std::string_view bucket, bool for_tls);

/// Builds the URL of `encoded_key` (already URI-encoded, '/' kept) in `bucket`: virtual-hosted
/// (`bucket.s3.<region>.amazonaws.com/key`) on AWS endpoints when allowed, path style (`<endpoint>/<bucket>/key`)
/// on custom endpoints, for incompatible names or when `addressing` is PATH. VIRTUAL with an incompatible name
/// is errc::INVALID_ARGUMENT.
[[nodiscard]] result<s3_target> s3_request_target(const endpoint& s3_endpoint, std::string_view bucket,
                                                  std::string_view encoded_key, s3_addressing addressing);

/// Reads the profile's `s3` sub-setting `addressing_style` (auto, path, virtual), as the AWS CLI does; AUTO
/// when unset or unknown.
[[nodiscard]] s3_addressing resolve_s3_addressing(const shared_config& config);

}  // namespace tarius::aws
