#include "tarius/aws/sigv4.hpp"

#include <algorithm>
#include <cstdio>

#include "aws/crypto.hpp"
#include "aws/uri.hpp"

namespace tarius::aws {
namespace {

constexpr std::string_view ALGORITHM = "AWS4-HMAC-SHA256";
constexpr std::string_view TERMINATOR = "aws4_request";

// Headers never signed: the signature itself, ours (re-added below), and headers that proxies or the HTTP
// stack may add, drop or rewrite on the way (botocore's SIGNED_HEADERS_BLACKLIST).
constexpr std::array<std::string_view, 12> UNSIGNED_HEADERS = {
    "authorization", "connection", "expect",     "keep-alive",        "proxy-authenticate", "proxy-authorization", "te",
    "trailer",       "upgrade",    "user-agent", "transfer-encoding", "x-amzn-trace-id",
};

constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool iequals(std::string_view left, std::string_view right) noexcept {
    if (left.size() != right.size()) return false;
    for (size_t i = 0; i < left.size(); ++i) {
        if (to_lower(left[i]) != to_lower(right[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

// A canonical header inside a shared scratch buffer (lower-cased name, then the trimmed value).
struct header_entry {
    uint32_t name_begin;
    uint32_t name_end;
    uint32_t value_end;
    uint32_t order;  // position in the request, so duplicates keep their order after sorting
};

class canonical_headers {
public:
    explicit canonical_headers(size_t expected) { entries_.reserve(expected); }

    void add(std::string_view name, std::string_view value) {
        header_entry entry{};
        entry.name_begin = static_cast<uint32_t>(buffer_.size());
        for (char c : name) buffer_.push_back(to_lower(c));
        entry.name_end = static_cast<uint32_t>(buffer_.size());
        append_trimmed_value(value);
        entry.value_end = static_cast<uint32_t>(buffer_.size());
        entry.order = static_cast<uint32_t>(entries_.size());
        entries_.push_back(entry);
    }

    // Writes "name:value\n" lines (duplicates joined with ',') to `canonical` and "a;b" to `signed_names`.
    void write(std::string& canonical, std::string& signed_names) {
        std::sort(entries_.begin(), entries_.end(), [&](const header_entry& left, const header_entry& right) {
            const int by_name = name(left).compare(name(right));
            if (by_name != 0) return by_name < 0;
            return left.order < right.order;
        });
        for (size_t i = 0; i < entries_.size(); ++i) {
            const bool continues = i != 0 && name(entries_[i]) == name(entries_[i - 1]);
            if (continues) {
                canonical.back() = ',';  // replaces the previous line's '\n'
            } else {
                if (!signed_names.empty()) signed_names.push_back(';');
                signed_names.append(name(entries_[i]));
                canonical.append(name(entries_[i]));
                canonical.push_back(':');
            }
            canonical.append(value(entries_[i]));
            canonical.push_back('\n');
        }
    }

private:
    // Trimall: strip both ends and turn each run of whitespace (folded lines included) into one space.
    void append_trimmed_value(std::string_view value) {
        value = trim(value);
        bool in_space = false;
        for (char c : value) {
            if (is_space(c)) {
                in_space = true;
                continue;
            }
            if (in_space) buffer_.push_back(' ');
            in_space = false;
            buffer_.push_back(c);
        }
    }

    std::string_view name(const header_entry& entry) const {
        return std::string_view(buffer_).substr(entry.name_begin, entry.name_end - entry.name_begin);
    }
    std::string_view value(const header_entry& entry) const {
        return std::string_view(buffer_).substr(entry.name_end, entry.value_end - entry.name_end);
    }

    std::string buffer_;
    std::vector<header_entry> entries_;
};

bool is_unsigned_header(std::string_view lower_name) noexcept {
    return std::find(UNSIGNED_HEADERS.begin(), UNSIGNED_HEADERS.end(), lower_name) != UNSIGNED_HEADERS.end();
}

}  // namespace

std::string format_amz_date(std::chrono::system_clock::time_point time) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    const auto days = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date{days};
    const std::chrono::hh_mm_ss clock{seconds - days};
    char text[32];
    std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()));
    return text;
}

result<std::array<uint8_t, 32>> derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                                   std::string_view region, std::string_view service) {
    std::string first_key;
    first_key.reserve(4 + secret_access_key.size());
    first_key.append("AWS4").append(secret_access_key);
    const auto* first_bytes = reinterpret_cast<const uint8_t*>(first_key.data());
    auto key = detail::hmac_sha256(std::span(first_bytes, first_key.size()), date);
    // Scrub the copy of the secret: it should live only in the credentials object.
    std::fill(first_key.begin(), first_key.end(), '\0');
    if (!key) return std::move(key).err();
    for (std::string_view part : {region, service, TERMINATOR}) {
        key = detail::hmac_sha256(*key, part);
        if (!key) return std::move(key).err();
    }
    return *key;
}

result<std::array<uint8_t, 32>> sigv4_signer::signing_key(std::string_view secret, std::string_view date,
                                                          std::string_view region, std::string_view service) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < cache_used_; ++i) {
        const cached_key& entry = cache_[i];
        if (entry.date == date && entry.region == region && entry.service == service && entry.secret == secret) {
            return entry.key;
        }
    }
    auto key = derive_signing_key(secret, date, region, service);
    if (!key) return key;
    ++derivations_;
    // Round-robin replacement: entries go stale once a day, so anything smarter buys nothing.
    cached_key& slot = cache_[cache_next_];
    cache_next_ = (cache_next_ + 1) % CACHE_SIZE;
    cache_used_ = std::min(cache_used_ + 1, CACHE_SIZE);
    slot.secret.assign(secret);
    slot.date.assign(date);
    slot.region.assign(region);
    slot.service.assign(service);
    slot.key = *key;
    return key;
}

uint64_t sigv4_signer::key_derivations() const {
    std::lock_guard lock(mutex_);
    return derivations_;
}

result<void> sigv4_signer::sign(const signing_request& request, const credentials& creds, const signing_params& params,
                                signing_result& out) {
    if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
        return make_error(errc::AUTH, "sigv4: credentials have no access key id or secret access key");
    }
    if (params.service.empty() || params.region.empty()) {
        return make_error(errc::INVALID_ARGUMENT, "sigv4: signing service and region are required");
    }
    if (request.method.empty()) return make_error(errc::INVALID_ARGUMENT, "sigv4: request method is empty");

    out.amz_date = format_amz_date(params.time);
    const std::string_view date = std::string_view(out.amz_date).substr(0, 8);

    out.payload_hash.clear();
    if (params.unsigned_payload) {
        out.payload_hash.assign(UNSIGNED_PAYLOAD);
    } else if (!request.payload_hash.empty()) {
        out.payload_hash.assign(request.payload_hash);
    } else {
        TARIUS_ASSIGN_OR_RETURN(const detail::sha256_digest body_digest, detail::sha256(request.payload));
        detail::append_hex(out.payload_hash, body_digest);
    }
    const bool add_content_sha = params.content_sha256_header || params.unsigned_payload;
    const bool add_token = !creds.session_token.empty();
    const bool sign_token = add_token && !params.omit_session_token;

    // Canonical headers: the request's own, minus those we set, plus ours.
    canonical_headers headers(request.headers.size() + 4);
    bool has_host = false;
    std::string lower_name;
    for (const http_header& header : request.headers) {
        const std::string_view name = trim(header.name);
        lower_name.assign(name);
        std::transform(lower_name.begin(), lower_name.end(), lower_name.begin(), to_lower);
        if (lower_name.empty() || is_unsigned_header(lower_name) || lower_name == "x-amz-date") continue;
        if (add_token && lower_name == "x-amz-security-token") continue;
        if (add_content_sha && lower_name == "x-amz-content-sha256") continue;
        if (lower_name == "host") has_host = true;
        headers.add(lower_name, header.value);
    }
    if (!has_host) {
        if (request.host.empty()) return make_error(errc::INVALID_ARGUMENT, "sigv4: request has no Host");
        headers.add("host", request.host);
    }
    headers.add("x-amz-date", out.amz_date);
    if (sign_token) headers.add("x-amz-security-token", creds.session_token);
    if (add_content_sha) headers.add("x-amz-content-sha256", out.payload_hash);

    // Step 1: the canonical request.
    std::string& canonical = out.canonical_request;
    canonical.clear();
    canonical.reserve(256 + request.path.size() + request.query.size());
    canonical.append(request.method).push_back('\n');
    if (request.path_is_raw) {
        std::string wire_path;
        detail::append_uri_encoded(wire_path, request.path, true);
        detail::append_canonical_path(canonical, wire_path, params.double_encode, params.normalize_path);
    } else {
        detail::append_canonical_path(canonical, request.path, params.double_encode, params.normalize_path);
    }
    canonical.push_back('\n');
    if (!request.query_params.empty()) {
        detail::append_canonical_query(canonical, request.query_params);
    } else {
        detail::append_canonical_query(canonical, request.query);
    }
    canonical.push_back('\n');
    out.signed_headers.clear();
    headers.write(canonical, out.signed_headers);
    canonical.push_back('\n');
    canonical.append(out.signed_headers).push_back('\n');
    canonical.append(out.payload_hash);

    // Step 2: the string to sign.
    TARIUS_ASSIGN_OR_RETURN(const detail::sha256_digest canonical_digest, detail::sha256(canonical));
    std::string& to_sign = out.string_to_sign;
    to_sign.clear();
    to_sign.append(ALGORITHM).push_back('\n');
    to_sign.append(out.amz_date).push_back('\n');
    const size_t scope_begin = to_sign.size();
    to_sign.append(date).append("/").append(params.region).append("/").append(params.service).append("/");
    to_sign.append(TERMINATOR);
    const size_t scope_end = to_sign.size();
    to_sign.push_back('\n');
    detail::append_hex(to_sign, canonical_digest);

    // Step 3: the signature, with the cached key.
    TARIUS_ASSIGN_OR_RETURN(const auto key, signing_key(creds.secret_access_key, date, params.region, params.service));
    TARIUS_ASSIGN_OR_RETURN(const detail::sha256_digest signature, detail::hmac_sha256(key, to_sign));
    out.signature.clear();
    detail::append_hex(out.signature, signature);

    // Step 4: the Authorization header and the headers to add.
    std::string& authorization = out.authorization;
    authorization.clear();
    authorization.append(ALGORITHM).append(" Credential=").append(creds.access_key_id).push_back('/');
    authorization.append(std::string_view(to_sign).substr(scope_begin, scope_end - scope_begin));
    authorization.append(", SignedHeaders=").append(out.signed_headers);
    authorization.append(", Signature=").append(out.signature);

    out.headers.clear();
    out.headers.push_back({"X-Amz-Date", out.amz_date});
    if (add_token) out.headers.push_back({"X-Amz-Security-Token", creds.session_token});
    if (add_content_sha) out.headers.push_back({"X-Amz-Content-Sha256", out.payload_hash});
    out.headers.push_back({"Authorization", out.authorization});
    return ok();
}

result<signing_result> sigv4_signer::sign(const signing_request& request, const credentials& creds,
                                          const signing_params& params) {
    signing_result out;
    TARIUS_TRY(sign(request, creds, params, out));
    return out;
}

result<void> sigv4_signer::sign(http_request& request, const credentials& creds, const signing_params& params) {
    detail::url_parts parts;
    if (!detail::split_url(request.url, parts)) {
        return make_error(errc::INVALID_ARGUMENT, "sigv4: request URL is not absolute: " + request.url);
    }
    const std::string host = detail::host_header_value(parts);
    signing_request view;
    view.method = request.method;
    view.path = parts.path;
    view.query = parts.query;
    view.headers = request.headers;
    view.host = host;
    view.payload = request.body;
    signing_result signed_request;
    TARIUS_TRY(sign(view, creds, params, signed_request));

    // Drop what a previous attempt (a retry) or the caller set, then append the fresh values.
    std::erase_if(request.headers, [&](const http_header& header) {
        for (const http_header& added : signed_request.headers) {
            if (iequals(trim(header.name), added.name)) return true;
        }
        return false;
    });
    for (http_header& added : signed_request.headers) request.headers.push_back(std::move(added));
    return ok();
}

}  // namespace tarius::aws
