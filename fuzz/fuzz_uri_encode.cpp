// Fuzzes SigV4 URI handling: encode/decode round trips, canonical path and query building, URL splitting and
// a whole signature over fuzzed path, query and header bytes. Checks invariants, not just the absence of crashes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/uri.hpp"
#include "tarius/aws/sigv4.hpp"

namespace {

void check(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz_uri_encode: invariant broken: %s\n", what);
    std::abort();
}

bool is_hex_upper(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

// Every byte is unreserved, '/' (paths only) or part of a %XY escape with upper-case hex.
bool well_encoded(std::string_view text, bool allow_slash) {
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (tarius::aws::detail::is_unreserved(c) || (allow_slash && c == '/')) continue;
        if (c != '%' || i + 2 >= text.size() || !is_hex_upper(text[i + 1]) || !is_hex_upper(text[i + 2])) {
            return false;
        }
        i += 2;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace detail = tarius::aws::detail;
    if (size == 0) return 0;
    const uint8_t selector = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    for (const bool keep_slash : {false, true}) {
        const std::string encoded = detail::uri_encode(input, keep_slash);
        check(well_encoded(encoded, keep_slash), "encode output alphabet");
        check(detail::uri_decode(encoded) == input, "decode(encode(x)) == x");
    }

    std::string normalized;
    detail::append_normalized_path(normalized, input);
    check(!normalized.empty(), "normalized path is never empty");
    std::string normalized_twice;
    detail::append_normalized_path(normalized_twice, normalized);
    check(normalized_twice == normalized, "normalisation is idempotent");
    check(normalized.find("//") == std::string::npos, "normalized path has no empty segment");

    for (const bool double_encode : {false, true}) {
        for (const bool normalize : {false, true}) {
            std::string path;
            detail::append_canonical_path(path, input, double_encode, normalize);
            check(!path.empty(), "canonical path is never empty");
            if (double_encode) check(well_encoded(path, true), "double-encoded path alphabet");
        }
    }

    std::string query;
    detail::append_canonical_query(query, input);
    std::string query_twice;
    detail::append_canonical_query(query_twice, query);
    check(query_twice == query, "canonical query is a fixed point");

    detail::url_parts parts;
    if (detail::split_url(input, parts)) {
        check(parts.host.size() + parts.path.size() + parts.query.size() <= input.size(), "url parts fit");
        (void)detail::host_header_value(parts);
    }

    // A whole signature with the fuzzed bytes as path, query and a header value.
    const tarius::aws::http_header headers[] = {{"X-Fuzz", std::string(input)}, {"Host", "h.example"}};
    tarius::aws::signing_request request;
    request.method = "GET";
    request.path = input;
    request.path_is_raw = (selector & 1U) != 0;
    request.query = input;
    request.headers = headers;
    request.payload = input;
    tarius::aws::signing_params params{"s3", "us-east-1", std::chrono::system_clock::time_point{}};
    if ((selector & 2U) != 0) params.s3_rules();
    params.unsigned_payload = (selector & 4U) != 0;
    const tarius::aws::credentials creds{"AKID", "secret", (selector & 8U) != 0 ? "token" : "", std::nullopt, "fuzz"};
    static tarius::aws::sigv4_signer signer;
    auto signed_request = signer.sign(request, creds, params);
    check(signed_request.has_value(), "signing a fuzzed request succeeds");
    check(signed_request->signature.size() == 64, "signature is 64 hex digits");
    return 0;
}
