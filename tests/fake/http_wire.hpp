#pragma once
/// The HTTP/1.1 wire pieces shared by the test servers (http_fake, event_http_server): the request and response
/// types their handlers see, the loopback listener, request-head parsing, chunked body decoding, reason phrases and
/// the response head.

#include <chrono>
#include <cstdint>
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

namespace detail {

/// A listening TCP socket on 127.0.0.1:`port` (0 = an ephemeral port), created with `socket_flags` (e.g.
/// SOCK_CLOEXEC | SOCK_NONBLOCK) and SO_REUSEADDR; `bound_port` receives the port it got.
[[nodiscard]] result<int> listen_loopback(uint16_t port, int socket_flags, uint16_t& bound_port);

/// True when `a` and `b` are equal ignoring the case of ASCII letters.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// The standard reason phrase of `status` ("Status" for codes the fakes do not name).
[[nodiscard]] const char* reason_phrase(int status) noexcept;

/// Fills method, target, path, query, version and headers of `req` from `head`, the request line and header lines
/// without the blank line ending them, overwriting what `req` held (its strings' capacity is reused). Lines without a
/// colon are skipped. False when the request line has fewer than three parts.
[[nodiscard]] bool parse_request_head(std::string_view head, fake_request& req);

/// How far a chunked body has arrived.
enum class chunked_state : uint8_t {
    NEED_MORE,  ///< the body is incomplete
    DONE,       ///< the last chunk (and any trailers) arrived
    BAD,        ///< a chunk size line or a chunk's CRLF is malformed
};

/// Decodes the chunked body at the start of `data` into `body` (cleared first); on DONE `consumed` is the number of
/// wire bytes it took, trailers included (they are skipped).
[[nodiscard]] chunked_state decode_chunked(std::string_view data, std::string& body, size_t& consumed);

/// The shape of the answer to one request: what the head announces and how much body follows.
struct answer_shape {
    uint64_t full_length = 0;  ///< the body length the head announces
    uint64_t to_send = 0;      ///< body bytes actually sent (0 for HEAD, at most truncate_after)
    bool closing = false;      ///< the connection closes after the answer
};

/// The shape of `resp` answering `req`: closing when the response says so, the client asked for it (HTTP/1.0,
/// "Connection: close") or the body is truncated.
[[nodiscard]] answer_shape shape_answer(const fake_request& req, const fake_response& resp) noexcept;

/// Appends the status line, `resp`'s headers, Content-Length (unless given, or 204/304), "Connection: close" when
/// closing, and the blank line to `out`.
void append_response_head(std::string& out, const fake_response& resp, const answer_shape& shape);

}  // namespace detail
}  // namespace tarius::fake
