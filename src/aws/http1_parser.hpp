#pragma once
/// An incremental HTTP/1.x response parser for the socket transport (src/aws/socket_http.cpp): status line,
/// headers (obs-fold joined with one space), interim 1xx answers skipped, the body framed by Content-Length,
/// chunked transfer coding (trailers appended to the headers, as libcurl's header callback sees them) or the end
/// of the connection. Pure: it never touches a socket, so every framing case is unit-tested with literal bytes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::aws::detail {

/// Largest accepted header block (status line plus headers, or the trailers), in bytes.
inline constexpr size_t MAX_HEADER_BLOCK_BYTES = size_t{64} * 1024;

/// Parses one response at a time; reset() before each. Errors are errc::NETWORK, retryable (a garbled or cut
/// answer may come out right on a new connection), except the sink's own errors, returned unchanged.
class http1_parser {
public:
    /// Prepares for the answer to a request: fills `*out` (not owned; must outlive the response), stores a 2xx body
    /// in `sink` when it is non-null (other bodies in `out->body`). `head_request`: the answer has no body.
    void reset(http_response* out, bool head_request, byte_sink* sink = nullptr);

    /// Consumes bytes received. Returns how many were used: all of `data`, or fewer when the response ended
    /// inside it (the rest belongs to no request). Precondition: reset() was called and !done() and no error.
    [[nodiscard]] result<size_t> feed(std::string_view data);

    /// The peer closed the connection: succeeds when that ends a body delimited by the close, else explains what
    /// was cut (nothing received, the header, the body at which byte offset).
    [[nodiscard]] result<void> finish_at_eof();

    /// True once a complete response has been parsed.
    [[nodiscard]] bool done() const noexcept { return state_ == state::DONE; }
    /// True when at least one byte of the answer arrived.
    [[nodiscard]] bool received_any() const noexcept { return received_any_; }
    /// After done(): whether the connection may carry another request (HTTP/1.1, no "Connection: close", body
    /// not delimited by the close, no conflicting framing).
    [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

private:
    enum class state : uint8_t {
        STATUS_LINE,
        HEADERS,
        BODY_LENGTH,
        BODY_UNTIL_CLOSE,
        CHUNK_SIZE,
        CHUNK_DATA,
        CHUNK_DATA_END,
        TRAILERS,
        DONE,
    };

    /// Feeds one complete line (without its line ending) to the line-oriented states.
    [[nodiscard]] result<void> on_line(std::string_view line);
    [[nodiscard]] result<void> on_status_line(std::string_view line);
    [[nodiscard]] result<void> on_header_line(std::string_view line, bool trailer);
    /// The blank line ending the header block: decides the framing of the body.
    [[nodiscard]] result<void> on_headers_end();
    [[nodiscard]] result<void> on_chunk_size(std::string_view line);
    [[nodiscard]] result<void> on_body(std::string_view bytes);
    [[nodiscard]] bool line_state() const noexcept;

    http_response* out_ = nullptr;
    byte_sink* sink_ = nullptr;
    bool head_request_ = false;
    bool to_sink_ = false;
    state state_ = state::DONE;
    std::string line_;           // a line split across reads (capacity kept between responses)
    size_t block_bytes_ = 0;     // bytes of the current header block or trailers
    bool received_any_ = false;  // any byte of this answer
    bool keep_alive_ = true;
    bool http10_ = false;
    uint64_t remaining_ = 0;                  // body or chunk bytes still expected
    std::optional<uint64_t> content_length_;  // announced length of a Content-Length body
    bool last_header_folds_ = false;          // the previous line was a header an obs-fold may continue
};

}  // namespace tarius::aws::detail
