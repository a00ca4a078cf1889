#include "aws/uri.hpp"

#include <algorithm>
#include <vector>

namespace tarius::aws::detail {
namespace {

constexpr char HEX_UPPER[] = "0123456789ABCDEF";

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// One encoded name=value pair inside a shared buffer; offsets rather than views because the buffer grows.
struct encoded_pair {
    uint32_t name_begin;
    uint32_t name_end;
    uint32_t value_end;
};

// Sorts the pairs by encoded name, then encoded value (byte order, as the services compare them) and writes
// them out; `buffer` holds name bytes immediately followed by value bytes for each pair.
void write_sorted(std::string& out, const std::string& buffer, std::vector<encoded_pair>& pairs) {
    auto name_of = [&](const encoded_pair& pair) {
        return std::string_view(buffer).substr(pair.name_begin, pair.name_end - pair.name_begin);
    };
    auto value_of = [&](const encoded_pair& pair) {
        return std::string_view(buffer).substr(pair.name_end, pair.value_end - pair.name_end);
    };
    std::sort(pairs.begin(), pairs.end(), [&](const encoded_pair& left, const encoded_pair& right) {
        const int by_name = name_of(left).compare(name_of(right));
        if (by_name != 0) return by_name < 0;
        return value_of(left) < value_of(right);
    });
    bool first = true;
    for (const encoded_pair& pair : pairs) {
        if (!first) out.push_back('&');
        first = false;
        out.append(name_of(pair));
        out.push_back('=');
        out.append(value_of(pair));
    }
}

}  // namespace

void append_uri_encoded(std::string& out, std::string_view text, bool keep_slash) {
    // Copy runs of bytes that need no escaping in one append: most keys and paths are plain ASCII.
    size_t run_start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) continue;
        out.append(text.substr(run_start, i - run_start));
        const auto byte = static_cast<unsigned char>(c);
        const char escaped[3] = {'%', HEX_UPPER[byte >> 4U], HEX_UPPER[byte & 0x0fU]};
        out.append(escaped, 3);
        run_start = i + 1;
    }
    out.append(text.substr(run_start));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
    std::string out;
    out.reserve(text.size());
    append_uri_encoded(out, text, keep_slash);
    return out;
}

void append_uri_decoded(std::string& out, std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size()) {
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out.push_back(static_cast<char>(high * 16 + low));
                i += 2;
                continue;
            }
        }
        out.push_back(c);
    }
}

std::string uri_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_uri_decoded(out, text);
    return out;
}

void append_normalized_path(std::string& out, std::string_view path) {
    // Resolve into a list of segment views first: ".." must be able to drop an already accepted segment.
    std::vector<std::string_view> segments;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t end = path.find('/', pos);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view segment = path.substr(pos, end - pos);
        if (segment == "..") {
            if (!segments.empty()) segments.pop_back();
        } else if (!segment.empty() && segment != ".") {
            segments.push_back(segment);
        }
        pos = end + 1;
    }
    const size_t start = out.size();
    if (!path.empty() && path.front() == '/') out.push_back('/');
    for (size_t i = 0; i < segments.size(); ++i) {
        if (i != 0) out.push_back('/');
        out.append(segments[i]);
    }
    if (!segments.empty() && path.back() == '/') out.push_back('/');
    if (out.size() == start) out.push_back('/');
}

void append_canonical_path(std::string& out, std::string_view path, bool double_encode, bool normalize) {
    if (path.empty()) {
        out.push_back('/');
        return;
    }
    if (!normalize) {
        if (double_encode) {
            append_uri_encoded(out, path, true);
        } else {
            out.append(path);
        }
        return;
    }
    std::string normalized;
    normalized.reserve(path.size() + 1);
    append_normalized_path(normalized, path);
    if (double_encode) {
        append_uri_encoded(out, normalized, true);
    } else {
        out.append(normalized);
    }
}

void append_canonical_query(std::string& out, std::span<const aws::query_param> params) {
    if (params.empty()) return;
    std::string buffer;
    std::vector<encoded_pair> pairs;
    pairs.reserve(params.size());
    for (const aws::query_param& param : params) {
        encoded_pair pair{};
        pair.name_begin = static_cast<uint32_t>(buffer.size());
        append_uri_encoded(buffer, param.name, false);
        pair.name_end = static_cast<uint32_t>(buffer.size());
        append_uri_encoded(buffer, param.value, false);
        pair.value_end = static_cast<uint32_t>(buffer.size());
        pairs.push_back(pair);
    }
    write_sorted(out, buffer, pairs);
}

void append_canonical_query(std::string& out, std::string_view query) {
    if (query.empty()) return;
    std::string buffer;
    std::string decoded;
    std::vector<encoded_pair> pairs;
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t end = query.find('&', pos);
        if (end == std::string_view::npos) end = query.size();
        const std::string_view pair_text = query.substr(pos, end - pos);
        pos = end + 1;
        if (pair_text.empty()) continue;
        const size_t equals = pair_text.find('=');
        const std::string_view name = pair_text.substr(0, equals);
        const std::string_view value =
            equals == std::string_view::npos ? std::string_view() : pair_text.substr(equals + 1);
        encoded_pair pair{};
        pair.name_begin = static_cast<uint32_t>(buffer.size());
        decoded.clear();
        append_uri_decoded(decoded, name);
        append_uri_encoded(buffer, decoded, false);
        pair.name_end = static_cast<uint32_t>(buffer.size());
        decoded.clear();
        append_uri_decoded(decoded, value);
        append_uri_encoded(buffer, decoded, false);
        pair.value_end = static_cast<uint32_t>(buffer.size());
        pairs.push_back(pair);
    }
    write_sorted(out, buffer, pairs);
}

bool split_url(std::string_view url, url_parts& out) noexcept {
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
    out.scheme = url.substr(0, scheme_end);
    std::string_view rest = url.substr(scheme_end + 3);
    const size_t fragment = rest.find('#');
    if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
    const size_t authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos) authority = authority.substr(at + 1);
    out.host = authority;
    rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    const size_t question = rest.find('?');
    out.path = rest.substr(0, question);
    out.query = question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
    return true;
}

std::string host_header_value(const url_parts& parts) {
    std::string host(parts.host);
    std::transform(host.begin(), host.end(), host.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    // The port follows the last ':' unless that ':' is inside an IPv6 literal "[...]".
    const size_t colon = host.rfind(':');
    const size_t bracket = host.rfind(']');
    if (colon == std::string::npos || (bracket != std::string::npos && bracket > colon)) return host;
    const std::string_view port = std::string_view(host).substr(colon + 1);
    const bool is_default =
        port.empty() || (parts.scheme == "https" && port == "443") || (parts.scheme == "http" && port == "80");
    if (is_default) host.resize(colon);
    return host;
}

}  // namespace tarius::aws::detail
