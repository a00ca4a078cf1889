#pragma once
/// A lean HTTP/1.1 transport on epoll, non-blocking sockets and OpenSSL, for many small requests in flight from
/// one thread (the DynamoDB writer's PutItem / UpdateItem / BatchWriteItem). libcurl's per-transfer setup,
/// connection-cache scans and bookkeeping cost more CPU than the request itself at tens of thousands of requests
/// per second; this transport keeps one parser and one set of buffers per connection and nothing per request
/// beyond the request and its response.
///
/// What it does not do (libcurl, make_curl_http_client, does): proxies, HTTP/2, redirects, compression,
/// Expect: 100-continue, asking a body sink's stop_requested() while a download stalls (a 2xx body does go to
/// `http_request::body_sink`; a request with timeout -1 still ends after the default timeout without a byte).
/// perform() delegates to a libcurl client created on first use. Nor does it send a request again by itself when
/// a reused connection drops before any answer byte (libcurl does): the caller gets a retryable NETWORK error.

#include <memory>

#include "tarius/aws/client.hpp"
#include "tarius/aws/http.hpp"

namespace tarius::aws {

/// Creates the socket transport. submit() and poll() belong to one thread; perform() is thread-safe (libcurl).
/// Connections are pooled per scheme, host and port, at most `options.max_connections` open in all; more
/// requests wait in submission order. Errors follow the http_client contract (retryable errc::NETWORK for
/// connection failures, resets, timeouts, cut bodies; a refused certificate is not retryable).
[[nodiscard]] std::unique_ptr<http_client> make_socket_http_client(const http_options& options = {});

/// The transport of a load's DynamoDB writer: the socket transport, unless the process environment would make
/// libcurl reach the DynamoDB endpoint of `context` through a proxy (see detail::proxy_applies), or that endpoint
/// cannot be resolved; libcurl then.
[[nodiscard]] std::unique_ptr<http_client> make_item_write_http_client(const http_options& options,
                                                                       const client_context& context);

}  // namespace tarius::aws
