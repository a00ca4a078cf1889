#pragma once
/// The HTTP transport interface used by the AWS layer (implemented on libcurl in src/aws/curl_http.*).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::aws {

/// One header; names compare case-insensitively.
struct http_header {
    std::string name;   ///< e.g. "Content-Type"
    std::string value;  ///< the value, trimmed
};

/// A request to send.
struct http_request {
    std::string method = "GET";            ///< GET, PUT, POST, HEAD, DELETE
    std::string url;                       ///< scheme://host[:port]/path[?query], path and query already encoded
    std::vector<http_header> headers;      ///< sent as given (Host and Content-Length are added by the transport)
    std::string body;                      ///< request payload
    std::chrono::milliseconds timeout{0};  ///< whole-request timeout; 0 = the client's default, -1 = none
    /// When set, a 2xx response body is streamed into this sink as it arrives instead of being stored in
    /// `http_response::body` (error bodies are always stored). The transport calls write() only, never
    /// finish(): the caller decides whether the body was complete.
    byte_sink* body_sink = nullptr;
};

/// A response received.
struct http_response {
    long status = 0;                   ///< HTTP status code
    std::vector<http_header> headers;  ///< response headers in order
    std::string body;                  ///< the body unless it was streamed to `http_request::body_sink`
    uint64_t body_bytes = 0;           ///< body bytes received (stored or streamed)

    /// The first header called `name` (case-insensitive), if any.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// Transport settings.
struct http_options {
    std::chrono::milliseconds connect_timeout{3100};   ///< like the SDKs' default connect timeout
    std::chrono::milliseconds request_timeout{60000};  ///< default whole-request timeout
    std::string ca_bundle;        ///< CA file; empty = AWS_CA_BUNDLE, else Amazon Linux's, else Debian's
    size_t max_connections = 64;  ///< connection pool size (keep-alive)
};

/// Completion callback of an asynchronous request.
using http_callback = std::function<void(result<http_response>)>;

/// An HTTP client: connection reuse, many requests in flight. Failures to connect, resets and timeouts are
/// returned as `errc::NETWORK` errors with `retryable = true`; a body shorter than its Content-Length is
/// a retryable `errc::NETWORK` error whose message names the offset reached.
class http_client {
public:
    virtual ~http_client() = default;
    /// Sends one request and waits for its response. Thread-safe.
    [[nodiscard]] virtual result<http_response> perform(http_request request) = 0;
    /// Starts a request; `done` runs later on the thread calling `poll`.
    virtual void submit(http_request request, http_callback done) = 0;
    /// Drives transfers for up to `wait`, running completed callbacks; returns the number still in flight.
    virtual size_t poll(std::chrono::milliseconds wait) = 0;
};

/// Creates the libcurl-backed client.
[[nodiscard]] std::unique_ptr<http_client> make_curl_http_client(const http_options& options = {});

}  // namespace tarius::aws
