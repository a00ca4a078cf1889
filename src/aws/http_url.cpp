#include "aws/http_url.hpp"

#include "aws/curl_http.hpp"
#include "tarius/text.hpp"

namespace tarius::aws::detail {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t idx = 0; idx < prefix.size(); ++idx) {
        if (lower_ascii(s[idx]) != prefix[idx]) return false;
    }
    return true;
}

error bad_url(std::string_view url, std::string_view why) {
    return make_error(errc::INVALID_ARGUMENT, "invalid URL " + redact_url(url) + ": " + std::string(why));
}

bool host_char_ok(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

}  // namespace

std::string http_url::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (!default_port) out.append(":").append(std::to_string(port));
    return out;
}

std::string http_url::origin() const {
    return std::string(https ? "https://" : "http://") +
           (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<http_url> parse_http_url(std::string_view url) {
    http_url out;
    std::string_view rest;
    if (starts_with_nocase(url, "https://")) {
        out.https = true;
        rest = url.substr(8);
    } else if (starts_with_nocase(url, "http://")) {
        rest = url.substr(7);
    } else {
        return bad_url(url, "only http and https are supported");
    }
    const size_t end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (authority.find('@') != std::string_view::npos) return bad_url(url, "user info is not supported");
    std::string_view host;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) return bad_url(url, "unterminated IPv6 address");
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad_url(url, "garbage after the IPv6 address");
            port = after.substr(1);
        }
        for (char c : host) {
            if (!(c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return bad_url(url, "bad IPv6 address");
            }
        }
    } else {
        const size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
        for (char c : host) {
            if (!host_char_ok(c)) return bad_url(url, "bad character in the host name");
        }
    }
    if (host.empty()) return bad_url(url, "no host");
    out.host.reserve(host.size());
    for (char c : host) out.host.push_back(lower_ascii(c));
    out.port = out.https ? 443 : 80;
    if (!port.empty()) {
        uint32_t n = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || n > 65535) return bad_url(url, "bad port");
            n = n * 10 + static_cast<uint32_t>(c - '0');
        }
        if (n == 0 || n > 65535) return bad_url(url, "bad port");
        out.port = static_cast<uint16_t>(n);
        out.default_port = out.port == (out.https ? 443 : 80);
    }
    // The fragment is never sent; path and query go out exactly as given (SigV4 signed them).
    const size_t hash = tail.find('#');
    tail = tail.substr(0, hash);
    if (tail.empty() || tail.front() == '?') {
        out.target = "/";
        out.target.append(tail);
    } else {
        out.target.assign(tail);
    }
    for (char c : out.target) {
        if (c == ' ' || c == '\r' || c == '\n' || c == '\0' || c == '\t') {
            return bad_url(url, "the path or query contains a space or control character");
        }
    }
    return out;
}

}  // namespace tarius::aws::detail
