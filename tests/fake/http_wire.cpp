/// HTTP/1.1 wire helpers for the test servers: lenient on purpose where http_fake always was (header lines without
/// a colon are skipped), strict where a wrong guess would desynchronise a keep-alive connection (chunk framing).

#include "fake/http_wire.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tarius/text.hpp"

namespace tarius::fake {
namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<std::string_view> fake_request::header(std::string_view name) const {
    for (const fake_header& h : headers) {
        if (detail::iequals(h.first, name)) return std::string_view(h.second);
    }
    return std::nullopt;
}

namespace detail {

result<int> listen_loopback(uint16_t port, int socket_flags, uint16_t& bound_port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | socket_flags, 0);
    if (fd < 0) return make_error(errc::IO, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 1024) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        return make_error(errc::IO, "bind/listen on 127.0.0.1:" + std::to_string(port) + ": " + why);
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    bound_port = ntohs(addr.sin_port);
    return fd;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t idx = 0; idx < a.size(); ++idx) {
        if (lower_ascii(a[idx]) != lower_ascii(b[idx])) return false;
    }
    return true;
}

const char* reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Payload Too Large";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Status";
    }
}

bool parse_request_head(std::string_view head, fake_request& req) {
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    // assign() rather than fresh strings: a server reusing one fake_request per connection keeps its capacity.
    req.method.assign(request_line.substr(0, sp1));
    req.target.assign(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version.assign(request_line.substr(sp2 + 1));
    std::string_view target = req.target;
    // An absolute-form target (sent to a proxy) carries scheme and authority before the path.
    if (size_t scheme = target.find("://"); scheme != std::string_view::npos && target.front() != '/') {
        size_t slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    size_t qmark = target.find('?');
    req.path.assign(target.substr(0, qmark));
    req.query.assign(qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1));
    size_t count = 0;
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
        size_t eol = rest.find("\r\n");
        std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        if (count == req.headers.size()) req.headers.emplace_back();
        req.headers[count].first.assign(trim(line.substr(0, colon)));
        req.headers[count].second.assign(trim(line.substr(colon + 1)));
        ++count;
    }
    req.headers.resize(count);
    return true;
}

chunked_state decode_chunked(std::string_view data, std::string& body, size_t& consumed) {
    body.clear();
    size_t pos = 0;
    for (;;) {
        size_t eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) return chunked_state::NEED_MORE;
        // The size is hex digits, optionally followed by ";extension"; nothing else may precede the CRLF.
        uint64_t size = 0;
        size_t digits = 0;
        size_t idx = pos;
        for (; idx < eol && hex_digit_value(data[idx]) >= 0; ++idx, ++digits) {
            if (digits >= 15) return chunked_state::BAD;  // would overflow, and no test sends a 1 PB chunk
            size = size * 16 + static_cast<uint64_t>(hex_digit_value(data[idx]));
        }
        if (digits == 0 || (idx < eol && data[idx] != ';' && data[idx] != ' ' && data[idx] != '\t')) {
            return chunked_state::BAD;
        }
        pos = eol + 2;
        if (size == 0) break;
        if (data.size() - pos < size + 2) return chunked_state::NEED_MORE;
        if (data.substr(pos + size, 2) != "\r\n") return chunked_state::BAD;
        body.append(data.substr(pos, size));
        pos += size + 2;
    }
    // Trailer lines, then the blank line ending the message.
    for (;;) {
        size_t eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) return chunked_state::NEED_MORE;
        bool blank = eol == pos;
        pos = eol + 2;
        if (blank) break;
    }
    consumed = pos;
    return chunked_state::DONE;
}

answer_shape shape_answer(const fake_request& req, const fake_response& resp) noexcept {
    answer_shape shape;
    shape.full_length = resp.pattern_body_bytes > 0 ? resp.pattern_body_bytes : resp.body.size();
    bool client_wants_close = req.version == "HTTP/1.0";
    if (auto c = req.header("Connection"); c && iequals(*c, "close")) client_wants_close = true;
    shape.closing = resp.close_after || client_wants_close || resp.truncate_after.has_value();
    shape.to_send = req.method == "HEAD" ? 0 : std::min(shape.full_length, resp.truncate_after.value_or(UINT64_MAX));
    return shape;
}

void append_response_head(std::string& out, const fake_response& resp, const answer_shape& shape) {
    out.append("HTTP/1.1 ").append(std::to_string(resp.status)).append(" ").append(reason_phrase(resp.status));
    out.append("\r\n");
    bool has_length = false;
    for (const fake_header& hdr : resp.headers) {
        if (iequals(hdr.first, "Content-Length")) has_length = true;
        out.append(hdr.first).append(": ").append(hdr.second).append("\r\n");
    }
    if (!has_length && resp.status != 204 && resp.status != 304) {
        out.append("Content-Length: ").append(std::to_string(shape.full_length)).append("\r\n");
    }
    if (shape.closing) out.append("Connection: close\r\n");
    out.append("\r\n");
}

}  // namespace detail
}  // namespace tarius::fake
