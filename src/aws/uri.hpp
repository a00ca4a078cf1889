#pragma once
// Percent-encoding and the canonical URI path and query of AWS Signature Version 4.
//
// "Encoded" here always means the SigV4 flavour of RFC 3986: every byte except the unreserved characters
// A-Z a-z 0-9 - _ . ~ becomes %XY with upper-case hex; a space is %20, never '+'.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tarius/aws/sigv4.hpp"

namespace tarius::aws::detail {

/// True for the RFC 3986 unreserved characters, which percent-encoding leaves alone.
[[nodiscard]] constexpr bool is_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

/// Appends `text` to `out` percent-encoded; '/' is kept as is when `keep_slash` (paths), encoded otherwise.
void append_uri_encoded(std::string& out, std::string_view text, bool keep_slash);

/// Returns `text` percent-encoded (see append_uri_encoded).
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash = false);

/// Appends `text` to `out` with every valid %XY sequence decoded. Invalid sequences ("%", "%G1") are copied
/// literally and '+' stays '+': SigV4 canonicalisation must never fail on a URL it is given.
void append_uri_decoded(std::string& out, std::string_view text);

/// Returns `text` percent-decoded (see append_uri_decoded).
[[nodiscard]] std::string uri_decode(std::string_view text);

/// Appends `path` with dot segments resolved and empty segments dropped, keeping a leading and a trailing
/// '/' (the normalisation the SigV4 test suite and botocore apply to non-S3 services). An empty result is "/".
void append_normalized_path(std::string& out, std::string_view path);

/// Appends the canonical URI of a request whose path is `path` as sent on the wire (already percent-encoded):
/// optionally normalised, then percent-encoded again when `double_encode`, else copied. Empty becomes "/".
void append_canonical_path(std::string& out, std::string_view path, bool double_encode, bool normalize);

/// Appends the canonical query string of `params`: names and values encoded, pairs sorted by encoded name
/// then encoded value, joined as name=value with '&'.
void append_canonical_query(std::string& out, std::span<const aws::query_param> params);

/// Appends the canonical query string of `query`, a query as sent on the wire (without the '?'): each
/// name=value pair is decoded and re-encoded so equivalent encodings sign alike; empty pairs are skipped.
void append_canonical_query(std::string& out, std::string_view query);

/// The parts of an absolute URL needed for signing.
struct url_parts {
    std::string_view scheme;  ///< "https", "http", ...; lower-case as given
    std::string_view host;    ///< host, with ":port" when one is given
    std::string_view path;    ///< path as sent, "" when absent
    std::string_view query;   ///< query without '?', "" when absent
};

/// Splits `url` (scheme://[userinfo@]host[:port][/path][?query][#fragment]); false when it has no "://".
[[nodiscard]] bool split_url(std::string_view url, url_parts& out) noexcept;

/// Returns the value of the Host header for `parts`: the host lower-cased, without a default port.
[[nodiscard]] std::string host_header_value(const url_parts& parts);

}  // namespace tarius::aws::detail
