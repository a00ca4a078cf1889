#include "aws/http1_parser.hpp"
#include "tarius/text.hpp"

#include <cstring>

namespace tarius::aws::detail {
namespace {

/// A garbled answer: libcurl's CURLE_WEIRD_SERVER_REPLY, retryable (the next connection may be fine).
error weird(std::string_view why) {
    return make_error(errc::NETWORK, "Weird server reply (" + std::string(why) + ")", true);
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// Calls `each` with every comma-separated, trimmed, non-empty element of `list`; stops when it returns false.
template <class F>
bool for_each_token(std::string_view list, F&& each) {
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view token = trim_blanks(list.substr(0, comma));
        if (!token.empty() && !each(token)) return false;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

/// A Content-Length value: decimal digits only, at most 18 of them (no overflow).
std::optional<uint64_t> parse_length(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    uint64_t n = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
}

constexpr std::string_view STATUS_PREFIX = "HTTP/";

}  // namespace

void http1_parser::reset(http_response* out, bool head_request, byte_sink* sink) {
    out_ = out;
    sink_ = sink;
    head_request_ = head_request;
    to_sink_ = false;
    state_ = state::STATUS_LINE;
    line_.clear();
    block_bytes_ = 0;
    received_any_ = false;
    keep_alive_ = true;
    http10_ = false;
    remaining_ = 0;
    content_length_.reset();
    last_header_folds_ = false;
}

bool http1_parser::line_state() const noexcept {
    switch (state_) {
        case state::STATUS_LINE:
        case state::HEADERS:
        case state::CHUNK_SIZE:
        case state::CHUNK_DATA_END:
        case state::TRAILERS: return true;
        default: return false;
    }
}

result<size_t> http1_parser::feed(std::string_view data) {
    if (!data.empty()) received_any_ = true;
    size_t pos = 0;
    while (pos < data.size() && state_ != state::DONE) {
        if (line_state()) {
            const char* start = data.data() + pos;
            const size_t avail = data.size() - pos;
            const void* nl = std::memchr(start, '\n', avail);
            const size_t piece = nl == nullptr ? avail : static_cast<size_t>(static_cast<const char*>(nl) - start) + 1;
            block_bytes_ += piece;
            if (block_bytes_ > MAX_HEADER_BLOCK_BYTES) {
                return weird("response header block larger than " + std::to_string(MAX_HEADER_BLOCK_BYTES) + " bytes");
            }
            pos += piece;
            if (nl == nullptr) {
                line_.append(start, piece);
                // Not an HTTP answer at all: say so now instead of waiting for a line end that may never come.
                if (state_ == state::STATUS_LINE) {
                    const size_t n = std::min(line_.size(), STATUS_PREFIX.size());
                    if (std::string_view(line_).substr(0, n) != STATUS_PREFIX.substr(0, n)) {
                        return weird("the answer does not start with an HTTP status line");
                    }
                }
                break;
            }
            std::string_view line;
            if (line_.empty()) {
                line = std::string_view(start, piece - 1);
            } else {
                line_.append(start, piece - 1);
                line = line_;
            }
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            result<void> handled = on_line(line);
            line_.clear();
            if (!handled) return std::move(handled).err();
            continue;
        }
        const std::string_view rest = data.substr(pos);
        switch (state_) {
            case state::BODY_UNTIL_CLOSE: {
                TARIUS_TRY(on_body(rest));
                pos = data.size();
                break;
            }
            case state::BODY_LENGTH:
            case state::CHUNK_DATA: {
                const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
                TARIUS_TRY(on_body(rest.substr(0, take)));
                pos += take;
                remaining_ -= take;
                if (remaining_ == 0) state_ = state_ == state::BODY_LENGTH ? state::DONE : state::CHUNK_DATA_END;
                break;
            }
            default: return make_error(errc::INTERNAL, "http1_parser: unexpected state");
        }
    }
    return pos;
}

result<void> http1_parser::on_line(std::string_view line) {
    switch (state_) {
        case state::STATUS_LINE: return on_status_line(line);
        case state::HEADERS:
            if (line.empty()) return on_headers_end();
            return on_header_line(line, false);
        case state::CHUNK_SIZE: return on_chunk_size(line);
        case state::CHUNK_DATA_END:
            if (!line.empty()) return weird("chunk data longer than its announced size");
            state_ = state::CHUNK_SIZE;
            return ok();
        case state::TRAILERS:
            if (line.empty()) {
                state_ = state::DONE;
                return ok();
            }
            return on_header_line(line, true);
        default: return make_error(errc::INTERNAL, "http1_parser: line in a body state");
    }
}

result<void> http1_parser::on_status_line(std::string_view line) {
    // "HTTP/1.1 200 OK": version, one space, three digits, then a space and a reason phrase, or nothing.
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) || line[8] != ' ' ||
        !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) || (line.size() > 12 && line[12] != ' ')) {
        return weird("malformed status line");
    }
    const long status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status < 100) return weird("status code below 100");
    if (status == 101) return weird("unexpected 101 Switching Protocols");
    http10_ = line[7] == '0';
    out_->status = status;
    out_->headers.clear();  // an interim answer's headers belonged to it
    last_header_folds_ = false;
    state_ = state::HEADERS;
    return ok();
}

result<void> http1_parser::on_header_line(std::string_view line, bool trailer) {
    if (line.front() == ' ' || line.front() == '\t') {
        // obs-fold continuation of the previous header (RFC 7230 3.2.4): joined with one space, as libcurl's
        // header callback in the curl transport does.
        if (!last_header_folds_ || out_->headers.empty()) return weird("header continuation without a header");
        std::string_view more = trim_blanks(line);
        if (!more.empty()) out_->headers.back().value.append(" ").append(more);
        return ok();
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        return weird(trailer ? "malformed trailer line" : "malformed header line");
    }
    std::string_view name = trim_blanks(line.substr(0, colon));
    if (name.empty()) return weird("header without a name");
    out_->headers.push_back(http_header{std::string(name), std::string(trim_blanks(line.substr(colon + 1)))});
    last_header_folds_ = true;
    return ok();
}

result<void> http1_parser::on_headers_end() {
    const long status = out_->status;
    if (status < 200) {
        // 100 Continue, 102, 103 Early Hints: the real answer follows.
        state_ = state::STATUS_LINE;
        block_bytes_ = 0;
        return ok();
    }
    bool close = http10_;
    bool chunked = false;
    bool has_transfer_encoding = false;
    std::optional<uint64_t> length;
    bool bad_length = false;
    for (const http_header& h : out_->headers) {
        if (equals_ignoring_case(h.name, "Connection")) {
            for_each_token(h.value, [&close](std::string_view token) {
                if (equals_ignoring_case(token, "close")) close = true;
                return true;
            });
        } else if (equals_ignoring_case(h.name, "Transfer-Encoding")) {
            has_transfer_encoding = true;
            // The last coding decides: chunked ends the body itself, anything else ends with the connection.
            for_each_token(h.value, [&chunked](std::string_view token) {
                chunked = equals_ignoring_case(token, "chunked");
                return true;
            });
        } else if (equals_ignoring_case(h.name, "Content-Length")) {
            for_each_token(h.value, [&](std::string_view token) {
                std::optional<uint64_t> n = parse_length(token);
                if (!n || (length && *length != *n)) {
                    bad_length = true;
                    return false;
                }
                length = n;
                return true;
            });
            if (trim_blanks(h.value).empty()) bad_length = true;
        }
    }
    keep_alive_ = !close;
    block_bytes_ = 0;
    to_sink_ = sink_ != nullptr && status >= 200 && status < 300;
    if (head_request_ || status == 204 || status == 304) {
        state_ = state::DONE;
        return ok();
    }
    if (has_transfer_encoding) {
        // A message with both framings is a smuggling attempt or a broken proxy: honour Transfer-Encoding
        // (RFC 7230 3.3.3) and never reuse the connection.
        if (length) keep_alive_ = false;
        if (chunked) {
            state_ = state::CHUNK_SIZE;
        } else {
            state_ = state::BODY_UNTIL_CLOSE;
            keep_alive_ = false;
        }
        return ok();
    }
    if (bad_length) return weird("invalid or conflicting Content-Length");
    if (length) {
        content_length_ = length;
        remaining_ = *length;
        state_ = remaining_ == 0 ? state::DONE : state::BODY_LENGTH;
        return ok();
    }
    state_ = state::BODY_UNTIL_CLOSE;
    keep_alive_ = false;
    return ok();
}

result<void> http1_parser::on_chunk_size(std::string_view line) {
    uint64_t size = 0;
    size_t idx = 0;
    for (; idx < line.size(); ++idx) {
        int v = hex_digit_value(line[idx]);
        if (v < 0) break;
        if (idx >= 15) return weird("chunk size too large");
        size = size * 16 + static_cast<uint64_t>(v);
    }
    if (idx == 0) return weird("malformed chunk size");
    std::string_view rest = trim_blanks(line.substr(idx));
    if (!rest.empty() && rest.front() != ';') return weird("malformed chunk size");
    if (size == 0) {
        state_ = state::TRAILERS;
        block_bytes_ = 0;
        last_header_folds_ = false;
        return ok();
    }
    // The limit is on each chunk-size line (and the line end before it), not on the sum of a long body's.
    block_bytes_ = 0;
    remaining_ = size;
    state_ = state::CHUNK_DATA;
    return ok();
}

result<void> http1_parser::on_body(std::string_view bytes) {
    if (bytes.empty()) return ok();
    if (to_sink_) {
        TARIUS_TRY(sink_->write(bytes));
    } else {
        out_->body.append(bytes);
    }
    out_->body_bytes += bytes.size();
    return ok();
}

result<void> http1_parser::finish_at_eof() {
    switch (state_) {
        case state::DONE: return ok();
        case state::BODY_UNTIL_CLOSE:
            state_ = state::DONE;
            keep_alive_ = false;
            return ok();
        case state::STATUS_LINE:
            if (!received_any_) return make_error(errc::NETWORK, "Server returned nothing (no headers, no data)", true);
            [[fallthrough]];
        case state::HEADERS:
            return make_error(errc::NETWORK, "connection closed before the end of the response header", true);
        case state::BODY_LENGTH:
            return make_error(errc::NETWORK,
                              "Transferred a partial file: body cut off at byte offset " +
                                  std::to_string(out_->body_bytes) + " of " + std::to_string(*content_length_),
                              true);
        case state::CHUNK_SIZE:
        case state::CHUNK_DATA:
        case state::CHUNK_DATA_END:
        case state::TRAILERS:
            return make_error(
                errc::NETWORK,
                "Transferred a partial file: chunked body cut off at byte offset " + std::to_string(out_->body_bytes),
                true);
    }
    return ok();
}

}  // namespace tarius::aws::detail
