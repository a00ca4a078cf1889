// SigV4 signing cost per request: a DynamoDB BatchWriteItem with 25 items (~12 KB body), with the payload
// hashed by the signer and with a precomputed payload hash, plus the parts (payload SHA-256, key derivation).

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "aws/crypto.hpp"
#include "tarius/aws/sigv4.hpp"

namespace {

using tarius::aws::http_header;

// A BatchWriteItem body of 25 PutRequests, each ~480 bytes, shaped like the pipeline's output.
std::string batch_write_body() {
    std::string body = R"({"RequestItems":{"tarius-load-table":[)";
    for (int item_idx = 0; item_idx < 25; ++item_idx) {
        if (item_idx != 0) body += ',';
        const std::string id = std::to_string(100000 + item_idx);
        body += R"({"PutRequest":{"Item":{"pk":{"S":"customer#)" + id + R"("},"sk":{"S":"order#2026-11-24T05:)" + id +
                R"("},"name":{"S":"Zoë Example )" + id + R"("},"email":{"S":"zoe.)" + id +
                R"(@example.com"},"street":{"S":"12345 Long Street Name, Apartment 67, Building C"},)" +
                R"("city":{"S":"Saint-Étienne-du-Rouvray"},"amount":{"N":"1234.56"},"quantity":{"N":"42"},)" +
                R"("tags":{"SS":["priority","gift","express"]},"note":{"S":"Lorem ipsum dolor sit amet, )" +
                R"(consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore"},)" +
                R"("active":{"BOOL":true}}}})";
    }
    body += "]}}";
    return body;
}

struct fixture {
    std::string body = batch_write_body();
    std::vector<http_header> headers = {{"Content-Type", "application/x-amz-json-1.0"},
                                        {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"},
                                        {"User-Agent", "tarius/0.1"}};
    tarius::aws::credentials creds{"ASIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   std::string(900, 'T'), std::nullopt, "bench"};
    tarius::aws::signing_params params{"dynamodb", "eu-west-1", std::chrono::system_clock::now()};

    tarius::aws::signing_request request(std::string_view payload_hash = {}) const {
        tarius::aws::signing_request view;
        view.method = "POST";
        view.path = "/";
        view.headers = headers;
        view.host = "dynamodb.eu-west-1.amazonaws.com";
        view.payload = body;
        view.payload_hash = payload_hash;
        return view;
    }
};

void bm_sign_batch_write_with_payload_hash(benchmark::State& state) {
    const fixture data;
    tarius::aws::sigv4_signer signer;
    tarius::aws::signing_result out;
    const auto view = data.request();
    for (auto _ : state) {
        auto signed_ok = signer.sign(view, data.creds, data.params, out);
        benchmark::DoNotOptimize(signed_ok);
        benchmark::DoNotOptimize(out.authorization.data());
    }
    state.counters["body_bytes"] = static_cast<double>(data.body.size());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.body.size()));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_sign_batch_write_with_payload_hash)->Unit(benchmark::kMicrosecond);

void bm_sign_batch_write_precomputed_hash(benchmark::State& state) {
    const fixture data;
    const std::string payload_hash = tarius::aws::detail::to_hex(*tarius::aws::detail::sha256(data.body));
    tarius::aws::sigv4_signer signer;
    tarius::aws::signing_result out;
    const auto view = data.request(payload_hash);
    for (auto _ : state) {
        auto signed_ok = signer.sign(view, data.creds, data.params, out);
        benchmark::DoNotOptimize(signed_ok);
        benchmark::DoNotOptimize(out.authorization.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_sign_batch_write_precomputed_hash)->Unit(benchmark::kMicrosecond);

// The in-place API a client uses on a retry: URL split, header removal and append, fresh result each time.
void bm_sign_http_request_in_place(benchmark::State& state) {
    const fixture data;
    tarius::aws::sigv4_signer signer;
    tarius::aws::http_request request;
    request.method = "POST";
    request.url = "https://dynamodb.eu-west-1.amazonaws.com/";
    request.headers = data.headers;
    request.body = data.body;
    for (auto _ : state) {
        auto signed_ok = signer.sign(request, data.creds, data.params);
        benchmark::DoNotOptimize(signed_ok);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.body.size()));
}
BENCHMARK(bm_sign_http_request_in_place)->Unit(benchmark::kMicrosecond);

void bm_sha256_batch_write_body(benchmark::State& state) {
    const std::string body = batch_write_body();
    for (auto _ : state) {
        auto digest = tarius::aws::detail::sha256(body);
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(bm_sha256_batch_write_body)->Unit(benchmark::kMicrosecond);

// What a cache miss costs (once per day, region and service).
void bm_derive_signing_key(benchmark::State& state) {
    for (auto _ : state) {
        auto key = tarius::aws::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20261124", "eu-west-1",
                                                   "dynamodb");
        benchmark::DoNotOptimize(key);
    }
}
BENCHMARK(bm_derive_signing_key)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
