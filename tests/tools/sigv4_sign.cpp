// sigv4_sign: signs one request described as JSON on stdin and prints every SigV4 step as JSON, for the
// Python cross-check against botocore (tests/python/test_sigv4_botocore.py).
//
// Input:  {"method", "url" (path and query already encoded), "headers": [[name, value], ...], "body",
//          "service", "region", "time": "YYYYMMDDTHHMMSSZ", "access_key", "secret_key", "token",
//          "payload_hash" (optional), "flags": {"s3", "unsigned_payload", "double_encode", "normalize_path",
//          "content_sha256_header", "omit_session_token"} (all optional)}
// Output: {"canonical_request", "string_to_sign", "signature", "authorization", "signed_headers",
//          "payload_hash", "headers": [[name, value], ...] (the http_request after signing in place)}
// Exit status: 0 signed, 1 signing failed, 2 bad input.

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "aws/uri.hpp"
#include "json/writer.hpp"
#include "tarius/aws/sigv4.hpp"

namespace {

using tarius::aws::http_header;

int fail(int status, std::string_view message) {
    std::string out;
    tarius::json::writer(out).begin_object().key("error").value(message).end_object();
    std::cout << out << '\n';
    return status;
}

bool parse_amz_date(std::string_view text, std::chrono::system_clock::time_point& out) {
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    const std::string copy(text);
    if (text.size() != 16 ||
        std::sscanf(copy.c_str(), "%4d%2u%2uT%2d%2d%2dZ", &year, &month, &day, &hour, &minute, &second) != 6) {
        return false;
    }
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
    if (!date.ok()) return false;
    out = std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
          std::chrono::seconds{second};
    return true;
}

std::string string_or(simdjson::dom::element object, std::string_view key, std::string_view fallback) {
    std::string_view value;
    if (object[key].get(value) != simdjson::SUCCESS) return std::string(fallback);
    return std::string(value);
}

bool flag_or(simdjson::dom::element object, std::string_view key, bool fallback) {
    bool value = false;
    if (object[key].get(value) != simdjson::SUCCESS) return fallback;
    return value;
}

void write_headers(tarius::json::writer& writer, const std::vector<http_header>& headers) {
    writer.begin_array();
    for (const http_header& header : headers) writer.begin_array().value(header.name).value(header.value).end_array();
    writer.end_array();
}

int run() {
    const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    simdjson::dom::parser parser;
    simdjson::dom::element spec;
    if (parser.parse(input).get(spec) != simdjson::SUCCESS) return fail(2, "input is not JSON");

    tarius::aws::http_request request;
    request.method = string_or(spec, "method", "GET");
    request.url = string_or(spec, "url", "");
    request.body = string_or(spec, "body", "");
    simdjson::dom::array headers;
    if (spec["headers"].get(headers) == simdjson::SUCCESS) {
        for (simdjson::dom::element pair : headers) {
            std::string_view name;
            std::string_view value;
            if (pair.at(0).get(name) != simdjson::SUCCESS || pair.at(1).get(value) != simdjson::SUCCESS) {
                return fail(2, "headers must be [name, value] pairs");
            }
            request.headers.push_back({std::string(name), std::string(value)});
        }
    }

    const std::string service = string_or(spec, "service", "");
    const std::string region = string_or(spec, "region", "");
    tarius::aws::signing_params params{service, region, {}};
    if (!parse_amz_date(string_or(spec, "time", ""), params.time)) return fail(2, "time must be YYYYMMDDTHHMMSSZ");
    simdjson::dom::element flags;
    if (spec["flags"].get(flags) == simdjson::SUCCESS) {
        if (flag_or(flags, "s3", false)) params.s3_rules();
        params.double_encode = flag_or(flags, "double_encode", params.double_encode);
        params.normalize_path = flag_or(flags, "normalize_path", params.normalize_path);
        params.content_sha256_header = flag_or(flags, "content_sha256_header", params.content_sha256_header);
        params.unsigned_payload = flag_or(flags, "unsigned_payload", params.unsigned_payload);
        params.omit_session_token = flag_or(flags, "omit_session_token", params.omit_session_token);
    }
    tarius::aws::credentials creds;
    creds.access_key_id = string_or(spec, "access_key", "");
    creds.secret_access_key = string_or(spec, "secret_key", "");
    creds.session_token = string_or(spec, "token", "");
    const std::string payload_hash = string_or(spec, "payload_hash", "");

    // The view API, for the intermediate steps.
    tarius::aws::detail::url_parts parts;
    if (!tarius::aws::detail::split_url(request.url, parts)) return fail(2, "url must be absolute");
    const std::string host = tarius::aws::detail::host_header_value(parts);
    tarius::aws::signing_request view;
    view.method = request.method;
    view.path = parts.path;
    view.query = parts.query;
    view.headers = request.headers;
    view.host = host;
    view.payload = request.body;
    view.payload_hash = payload_hash;
    tarius::aws::sigv4_signer signer;
    auto steps = signer.sign(view, creds, params);
    if (!steps) return fail(1, steps.err().message);

    // The in-place API, for the headers a client would send (the payload hash is recomputed there).
    auto in_place = signer.sign(request, creds, params);
    if (!in_place) return fail(1, in_place.err().message);

    std::string out;
    tarius::json::writer writer(out);
    writer.begin_object();
    writer.key("canonical_request").value(steps->canonical_request);
    writer.key("string_to_sign").value(steps->string_to_sign);
    writer.key("signature").value(steps->signature);
    writer.key("authorization").value(steps->authorization);
    writer.key("signed_headers").value(steps->signed_headers);
    writer.key("payload_hash").value(steps->payload_hash);
    writer.key("added_headers");
    write_headers(writer, steps->headers);
    writer.key("headers");
    write_headers(writer, request.headers);
    writer.end_object();
    std::cout << out << '\n';
    return 0;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        return fail(2, e.what());
    }
}
