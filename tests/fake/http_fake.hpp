#pragma once
/// An in-process HTTP/1.1 server on 127.0.0.1 for tests: keep-alive, many concurrent connections (one thread
/// each), a scripted handler per request and fault injection (delays, truncated bodies, closed or reset
/// connections). It records every request it receives.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tarius/result.hpp"

namespace tarius::fake {

/// A header as received or to be sent: name and value.
using fake_header = std::pair<std::string, std::string>;

/// A request as the fake received it.
struct fake_request {
    std::string method;                ///< e.g. "POST"
    std::string target;                ///< the request-target as sent: "/p?q", or "http://h/p?q" through a proxy
    std::string path;                  ///< the path part of the target, still percent-encoded
    std::string query;                 ///< the part after '?', without it; empty when absent
    std::string version;               ///< "HTTP/1.1" or "HTTP/1.0"
    std::vector<fake_header> headers;  ///< in order, names as sent
    std::string body;                  ///< the decoded body (chunked bodies are joined); empty if not recorded
    uint64_t body_bytes = 0;           ///< body length, also when the body is not kept
    uint64_t connection_id = 0;        ///< 1 for the first accepted connection, 2 for the next, ...
    uint64_t sequence = 0;             ///< 0 for the first request the server received, 1 for the next, ...

    /// The first header called `name` (case-insensitive), if any.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// What the fake does instead of, or after, answering.
enum class fake_action : uint8_t {
    RESPOND,  ///< send the response
    CLOSE,    ///< close the connection without answering (FIN)
    RESET,    ///< reset the connection without answering (RST, via SO_LINGER 0)
};

/// The scripted answer to one request.
struct fake_response {
    int status = 200;                           ///< status code; the reason phrase is the standard one
    std::vector<fake_header> headers;           ///< sent as given; Content-Length is added unless present
    std::string body;                           ///< the body (not sent for HEAD requests)
    uint64_t pattern_body_bytes = 0;            ///< when > 0, the body is this many pattern_byte()s, made on the fly
    std::chrono::milliseconds delay{0};         ///< wait this long before acting
    std::optional<uint64_t> truncate_after;     ///< announce the full length, send only this many body bytes, close
    fake_action action = fake_action::RESPOND;  ///< respond, or close/reset instead
    bool close_after = false;                   ///< close the connection after this response ("Connection: close")
};

/// Byte `offset` of a pattern body: deterministic and not periodic on any power of two, so a lost, duplicated or
/// reordered chunk shows up.
[[nodiscard]] constexpr char pattern_byte(uint64_t offset) noexcept {
    return static_cast<char>('a' + (offset % 23 + (offset / 4093) % 3) % 26);
}

/// The server. Construct, set a handler, start(); stop() (or the destructor) joins every thread.
class http_fake {
public:
    /// Computes the answer to a request; runs on the connection's thread, so it must be thread-safe.
    using handler = std::function<fake_response(const fake_request&)>;

    /// A server answering 200 with an empty body until set_handler() is called.
    http_fake();
    /// A server answering with `h`.
    explicit http_fake(handler h);
    /// Stops the server.
    ~http_fake();
    http_fake(const http_fake&) = delete;
    http_fake& operator=(const http_fake&) = delete;

    /// Listens on 127.0.0.1:`port` (0 = an ephemeral port) and starts accepting. Precondition: not started.
    [[nodiscard]] result<void> start(uint16_t port = 0);
    /// Closes the listener and every connection and joins all threads. Safe to call twice.
    void stop();

    /// The port listened on (valid after start()).
    [[nodiscard]] uint16_t port() const noexcept;
    /// "http://127.0.0.1:<port>".
    [[nodiscard]] std::string url() const;

    /// Replaces the handler; requests already being answered keep the old one.
    void set_handler(handler h);
    /// Whether recorded requests keep their bodies (default true); off for benchmarks.
    void set_record_bodies(bool keep);
    /// Whether requests are recorded at all (default true); off for long-running benchmarks.
    void set_recording(bool on);

    /// A copy of the requests received so far, in arrival order.
    [[nodiscard]] std::vector<fake_request> requests() const;
    /// The number of requests received so far (also counted when not recorded).
    [[nodiscard]] uint64_t request_count() const;
    /// The number of TCP connections accepted so far.
    [[nodiscard]] uint64_t connection_count() const;
    /// Forgets the recorded requests (counters keep running).
    void clear_requests();

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace tarius::fake
