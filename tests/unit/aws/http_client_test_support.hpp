#pragma once
// Shared helpers of the transport tests (http_test.cpp for libcurl, socket_http_test.cpp for the socket
// transport): an in-process fake, a request, and one request submitted and polled to its end.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "fake/http_fake.hpp"
#include "tarius/aws/http.hpp"

namespace tarius::aws::test {

/// A started fake answering with `h` (200 and an empty body when none).
inline std::unique_ptr<fake::http_fake> start_fake(fake::http_fake::handler h = {}) {
    auto fake = std::make_unique<fake::http_fake>(std::move(h));
    auto started = fake->start();
    EXPECT_TRUE(started.has_value()) << started.err().message;
    return fake;
}

inline http_request make_request(std::string method, std::string url, std::string body = {}) {
    http_request req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.body = std::move(body);
    return req;
}

/// Submits one request and polls until its callback ran; counts the callback runs.
inline result<http_response> submit_and_wait(http_client& client, http_request req, int* calls = nullptr) {
    using namespace std::chrono_literals;
    std::optional<result<http_response>> out;
    int local_calls = 0;
    client.submit(std::move(req), [&](result<http_response> r) {
        ++local_calls;
        out.emplace(std::move(r));
    });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!out && std::chrono::steady_clock::now() < deadline) (void)client.poll(100ms);
    while (client.poll(0ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    if (calls != nullptr) *calls = local_calls;
    if (!out) return make_error(errc::INTERNAL, "test: callback never ran");
    return std::move(*out);
}

}  // namespace tarius::aws::test
