#pragma once
/// Internals of the libcurl transport (src/aws/curl_http.cpp), exposed for unit tests.

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "tarius/aws/http.hpp"

namespace tarius::aws::detail {

/// CA bundle locations tried in order when neither `http_options::ca_bundle` nor AWS_CA_BUNDLE is set:
/// Amazon Linux (the Lambda provided.al2023 image) first, then Debian/Ubuntu.
inline constexpr std::array<std::string_view, 2> DEFAULT_CA_BUNDLES = {
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
};

/// Picks the CA bundle file: `configured` when non-empty, else `aws_ca_bundle_env` (the value of AWS_CA_BUNDLE,
/// null or empty when unset), else the first of DEFAULT_CA_BUNDLES for which `exists` returns true, else ""
/// (libcurl's built-in default). `exists` is injected so the choice can be tested without touching the disk.
[[nodiscard]] std::string select_ca_bundle(std::string_view configured, const char* aws_ca_bundle_env,
                                           const std::function<bool(const std::string&)>& exists);

/// The same choice from the real environment and file system.
[[nodiscard]] std::string select_ca_bundle(std::string_view configured);

/// Returns `url` without its query string and fragment, so error messages never carry presigned-URL secrets
/// (X-Amz-Signature, X-Amz-Security-Token).
[[nodiscard]] std::string redact_url(std::string_view url);

}  // namespace tarius::aws::detail
