#pragma once
/// Splitting an absolute http(s) URL into what an HTTP/1.1 client needs: scheme, host, port, request target.

#include <cstdint>
#include <string>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// The parts of `scheme://host[:port][/path][?query][#fragment]`.
struct http_url {
    bool https = false;        ///< scheme is https (else http)
    std::string host;          ///< DNS name or IP literal, IPv6 without brackets, lower-cased
    uint16_t port = 0;         ///< explicit, or 80 / 443
    bool default_port = true;  ///< the port is the scheme's default (Host then carries no ":port")
    std::string target;        ///< path and query exactly as given ("/" when the path is empty), no fragment

    /// The Host header value: host (bracketed when IPv6), with ":port" unless default.
    [[nodiscard]] std::string host_header() const;
    /// "scheme://host:port", the key of a connection pool.
    [[nodiscard]] std::string origin() const;
};

/// Parses `url`; errc::INVALID_ARGUMENT (message without the query) for other schemes, user info, an empty or
/// bad host, a bad port.
[[nodiscard]] result<http_url> parse_http_url(std::string_view url);

}  // namespace tarius::aws::detail
