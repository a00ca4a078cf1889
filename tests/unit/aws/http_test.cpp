/// The libcurl transport against the in-process HTTP fake: round trips, streaming, concurrency, keep-alive and
/// every transport failure the retry layer must see as retryable.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aws/curl_http.hpp"
#include "fake/http_fake.hpp"
#include "fake/http_fake_env.hpp"
#include "tarius/aws/http.hpp"
#include "unit/aws/http_client_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using tarius::errc;
using tarius::result;
using tarius::aws::http_client;
using tarius::aws::http_header;
using tarius::aws::http_options;
using tarius::aws::http_request;
using tarius::aws::http_response;
using tarius::fake::fake_action;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

using tarius::aws::test::make_request;
using tarius::aws::test::start_fake;
using tarius::aws::test::submit_and_wait;

/// A sink that checks the pattern body as it arrives and keeps nothing but counters.
class pattern_sink : public tarius::byte_sink {
public:
    explicit pattern_sink(uint64_t fail_after = UINT64_MAX) : fail_after_(fail_after) {}
    result<void> write(std::string_view chunk) override {
        ++chunks;
        max_chunk = std::max(max_chunk, chunk.size());
        for (char c : chunk) {
            if (c != tarius::fake::pattern_byte(received)) ++mismatches;
            ++received;
        }
        if (received >= fail_after_) return tarius::make_error(errc::IO, "test sink full");
        return tarius::ok();
    }
    result<void> finish() override {
        ++finishes;
        return tarius::ok();
    }
    uint64_t received = 0;
    uint64_t mismatches = 0;
    uint64_t chunks = 0;
    size_t max_chunk = 0;
    int finishes = 0;

private:
    uint64_t fail_after_;
};

long proc_status_kb(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
    }
    return -1;
}

/// A loopback port with a bound socket that never listens: connecting to it is refused.
class refused_port {
public:
    refused_port() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        socklen_t len = sizeof(addr);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~refused_port() { ::close(fd_); }
    [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    uint16_t port_ = 0;
};

/// Sets environment variables for one scope and restores the previous values.
class scoped_env {
public:
    scoped_env(std::initializer_list<std::pair<const char*, const char*>> vars) {
        for (auto [name, value] : vars) {
            const char* old = std::getenv(name);
            saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value != nullptr) {
                ::setenv(name, value, 1);
            } else {
                ::unsetenv(name);
            }
        }
    }
    ~scoped_env() {
        for (auto& [name, old] : saved_) {
            if (old) {
                ::setenv(name.c_str(), old->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// Proxy variables of the machine running the tests must not reroute loopback requests.
[[maybe_unused]] const bool g_proxy_env_cleared = [] {
    for (const char* name :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
        ::unsetenv(name);
    }
    return true;
}();

/// One shared server for the tests that need no special handler (the environment form of the fake).
auto* const g_shared_fake = ::testing::AddGlobalTestEnvironment(new tarius::fake::http_fake_environment());

TEST(curl_http, shared_environment_server) {
    http_fake& fake = tarius::fake::http_fake_environment::server();
    fake.set_handler([](const fake_request& req) {
        fake_response resp;
        resp.body = "env:" + req.path;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    auto r = client->perform(make_request("GET", fake.url() + "/shared"));
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->body, "env:/shared");
}

/// Sends raw bytes to the fake and reads until it closes the connection.
std::string raw_exchange(uint16_t port, const std::string& bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    std::string out;
    char buf[4096];
    ssize_t got = 0;
    while ((got = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(got));
    ::close(fd);
    return out;
}

TEST(http_fake, chunked_pipelined_and_absolute_form_requests) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = req.method + " " + req.path + " [" + req.body + "]";
        resp.close_after = req.path == "/last";
        return resp;
    });
    const std::string wire =
        "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        "GET http://example.test/b/c?y=2 HTTP/1.1\r\nHost: example.test\r\n\r\n"
        "PUT /last HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    std::string answer = raw_exchange(fake->port(), wire);
    EXPECT_NE(answer.find("POST /a [hello world]"), std::string::npos) << answer;
    EXPECT_NE(answer.find("GET /b/c []"), std::string::npos) << answer;
    EXPECT_NE(answer.find("PUT /last [abc]"), std::string::npos) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].query, "x=1");
    EXPECT_EQ(seen[1].target, "http://example.test/b/c?y=2");
    EXPECT_EQ(seen[1].query, "y=2");
    for (const fake_request& req : seen) EXPECT_EQ(req.connection_id, 1u);
    EXPECT_EQ(seen[2].sequence, 2u);
}

TEST(curl_http, methods_round_trip) {
    struct case_t {
        const char* method;
        std::string body;
        long status;
        std::string response_body;
        bool expect_response_body;
    };
    const std::vector<case_t> cases = {
        {"GET", "", 200, "hello", true},
        {"POST", R"({"RequestItems":{}})", 200, R"({"UnprocessedItems":{}})", true},
        {"PUT", "object bytes", 201, "", false},
        {"HEAD", "", 200, "0123456789", false},
        {"DELETE", "", 204, "", false},
        {"POST", "", 400, R"({"__type":"x#ValidationException"})", true},
    };
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        if (req.method == "GET") resp.body = "hello";
        if (req.method == "POST") {
            resp.status = req.body.empty() ? 400 : 200;
            resp.body = req.body.empty() ? R"({"__type":"x#ValidationException"})" : R"({"UnprocessedItems":{}})";
        }
        if (req.method == "PUT") resp.status = 201;
        if (req.method == "HEAD") resp.body = "0123456789";  // only its length is sent
        if (req.method == "DELETE") resp.status = 204;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    for (bool async : {false, true}) {
        fake->clear_requests();
        for (const case_t& c : cases) {
            SCOPED_TRACE(std::string(c.method) + (async ? " submit" : " perform"));
            http_request req = make_request(c.method, fake->url() + "/bucket/key?list-type=2", c.body);
            auto r = async ? submit_and_wait(*client, req) : client->perform(req);
            ASSERT_TRUE(r.has_value()) << r.err().message;
            EXPECT_EQ(r->status, c.status);
            EXPECT_EQ(r->body, c.expect_response_body ? c.response_body : "");
            EXPECT_EQ(r->body_bytes, r->body.size());
            if (std::string(c.method) == "HEAD") {
                EXPECT_EQ(r->header("content-length").value_or(""), "10");
            }
        }
        auto seen = fake->requests();
        ASSERT_EQ(seen.size(), cases.size());
        for (size_t idx = 0; idx < cases.size(); ++idx) {
            EXPECT_EQ(seen[idx].method, cases[idx].method);
            EXPECT_EQ(seen[idx].path, "/bucket/key");
            EXPECT_EQ(seen[idx].query, "list-type=2");
            EXPECT_EQ(seen[idx].version, "HTTP/1.1");
            EXPECT_EQ(seen[idx].body, cases[idx].body);
            EXPECT_FALSE(seen[idx].header("Expect").has_value());
            // POSTFIELDS must not smuggle in a form content type that the signer never saw.
            EXPECT_FALSE(seen[idx].header("Content-Type").has_value());
            bool has_body_method = std::string(cases[idx].method) == "POST" || std::string(cases[idx].method) == "PUT";
            if (has_body_method) {
                EXPECT_EQ(seen[idx].header("Content-Length").value_or("none"), std::to_string(cases[idx].body.size()));
            }
        }
    }
}

// Pooled handles keep a plain POST's options for the next plain POST: nothing of one request may leak into the
// next, whatever their kinds.
TEST(curl_http, a_pooled_handle_carries_nothing_from_one_request_to_the_next) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = req.method == "GET" ? std::string("got") : "posted " + req.body;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    struct step {
        const char* method;
        std::string body;
        std::string header;  // "X-Step: <n>" is sent when set
    };
    const std::vector<step> steps = {
        {"POST", "first", "1"}, {"POST", "second, longer", ""}, {"GET", "", "3"},
        {"POST", "fourth", ""}, {"PUT", "fifth", "5"},          {"POST", "", ""},
        {"HEAD", "", ""},       {"POST", "eighth", "8"},
    };
    for (const step& st : steps) {
        http_request req = make_request(st.method, fake->url() + "/p/" + st.method, st.body);
        if (!st.header.empty()) req.headers.push_back(http_header{"X-Step", st.header});
        auto r = submit_and_wait(*client, req);
        ASSERT_TRUE(r.has_value()) << r.err().message;
        EXPECT_EQ(r->status, 200);
    }
    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), steps.size());
    for (size_t idx = 0; idx < steps.size(); ++idx) {
        SCOPED_TRACE("step " + std::to_string(idx + 1));
        EXPECT_EQ(seen[idx].method, steps[idx].method);
        EXPECT_EQ(seen[idx].path, std::string("/p/") + steps[idx].method);
        EXPECT_EQ(seen[idx].body, steps[idx].body);
        EXPECT_EQ(seen[idx].header("X-Step").value_or(""), steps[idx].header);
        EXPECT_FALSE(seen[idx].header("Content-Type").has_value());
    }
}

TEST(curl_http, headers_both_ways) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.headers = {{"x-amzn-RequestId", "REQ123"},
                        {"X-Amz-Crc32", "  42  "},
                        {"Set-Thing", "first"},
                        {"Set-Thing", "second"},
                        {"Content-Type", "application/x-amz-json-1.0"}};
        resp.body = "{}";
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    http_request req = make_request("POST", fake->url() + "/", "{}");
    req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                   {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"},
                   {"X-Amz-Date", "20250101T000000Z"},
                   {"X-Empty", ""},
                   {"Content-Length", "999"}};  // ignored: the transport computes it
    auto r = client->perform(req);
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->header("X-AMZN-REQUESTID").value_or(""), "REQ123");
    EXPECT_EQ(r->header("x-amz-crc32").value_or(""), "42");
    EXPECT_EQ(r->header("set-thing").value_or(""), "first");
    EXPECT_FALSE(r->header("x-missing").has_value());
    int set_things = 0;
    for (const http_header& h : r->headers) set_things += h.name == "Set-Thing";
    EXPECT_EQ(set_things, 2);

    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), 1u);
    const fake_request& got = seen[0];
    EXPECT_EQ(got.header("content-type").value_or(""), "application/x-amz-json-1.0");
    EXPECT_EQ(got.header("x-amz-target").value_or(""), "DynamoDB_20120810.BatchWriteItem");
    EXPECT_EQ(got.header("X-Amz-Date").value_or(""), "20250101T000000Z");
    ASSERT_TRUE(got.header("X-Empty").has_value());
    EXPECT_EQ(*got.header("X-Empty"), "");
    EXPECT_EQ(got.header("Content-Length").value_or(""), "2");
    EXPECT_EQ(got.header("Host").value_or(""), "127.0.0.1:" + std::to_string(fake->port()));
}

TEST(curl_http, path_is_sent_as_is) {
    // SigV4 signs the exact path; S3 keys may contain "..", "." and "//" segments.
    const std::vector<std::string> paths = {"/b/a/../c", "/b/./x", "/b//double//slash", "/b/%2E%2E/k%20ey"};
    auto fake = start_fake();
    auto client = tarius::aws::make_curl_http_client();
    for (const std::string& path : paths) {
        auto r = client->perform(make_request("GET", fake->url() + path));
        ASSERT_TRUE(r.has_value()) << r.err().message;
    }
    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), paths.size());
    for (size_t idx = 0; idx < paths.size(); ++idx) EXPECT_EQ(seen[idx].path, paths[idx]);
}

TEST(curl_http, invalid_requests_are_refused_before_sending) {
    auto fake = start_fake();
    auto client = tarius::aws::make_curl_http_client();
    struct case_t {
        http_request req;
        errc code;
    };
    std::vector<case_t> cases;
    cases.push_back({make_request("GET", fake->url() + "/"), errc::INVALID_ARGUMENT});
    cases.back().req.headers = {{"X-Bad", "a\r\nInjected: yes"}};
    cases.push_back({make_request("GET", fake->url() + "/"), errc::INVALID_ARGUMENT});
    cases.back().req.headers = {{"Bad Name", "x"}};
    cases.push_back({make_request("GET", "file:///etc/passwd"), errc::INVALID_ARGUMENT});
    cases.push_back({make_request("GE T", fake->url() + "/"), errc::INVALID_ARGUMENT});
    for (const case_t& c : cases) {
        auto r = client->perform(c.req);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, c.code) << r.err().message;
        EXPECT_FALSE(r.err().retryable);
        auto a = submit_and_wait(*client, c.req);
        ASSERT_FALSE(a.has_value());
        EXPECT_EQ(a.err().code, c.code) << a.err().message;
    }
    EXPECT_EQ(fake->request_count(), 0u);
}

TEST(curl_http, large_upload_without_expect_continue) {
    constexpr size_t SIZE = 64u << 20;
    std::string body(SIZE, '\0');
    for (size_t idx = 0; idx < SIZE; ++idx) body[idx] = tarius::fake::pattern_byte(idx);
    auto fake = start_fake([](const fake_request& req) {
        uint64_t mismatches = 0;
        for (size_t idx = 0; idx < req.body.size(); ++idx)
            mismatches += req.body[idx] != tarius::fake::pattern_byte(idx);
        fake_response resp;
        resp.body = std::to_string(req.body.size()) + " " + std::to_string(mismatches) + " " +
                    std::string(req.header("Expect").value_or("no-expect"));
        return resp;
    });
    fake->set_record_bodies(false);
    auto client = tarius::aws::make_curl_http_client();
    auto r = client->perform(make_request("PUT", fake->url() + "/big", body));
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->body, std::to_string(SIZE) + " 0 no-expect");
    auto a = submit_and_wait(*client, make_request("POST", fake->url() + "/big", std::move(body)));
    ASSERT_TRUE(a.has_value()) << a.err().message;
    EXPECT_EQ(a->body, std::to_string(SIZE) + " 0 no-expect");
}

TEST(curl_http, large_download_streams_to_sink) {
    constexpr uint64_t SIZE = 64u << 20;
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.pattern_body_bytes = SIZE;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    for (bool async : {false, true}) {
        SCOPED_TRACE(async ? "submit" : "perform");
        // Peak RSS is reset so the 64 MB must not appear in it (the fake makes its body on the fly).
        std::ofstream("/proc/self/clear_refs") << "5";
        long rss_before_kb = proc_status_kb("VmRSS:");
        pattern_sink sink;
        http_request req = make_request("GET", fake->url() + "/object");
        req.body_sink = &sink;
        auto r = async ? submit_and_wait(*client, req) : client->perform(req);
        ASSERT_TRUE(r.has_value()) << r.err().message;
        long peak_kb = proc_status_kb("VmHWM:");
        EXPECT_EQ(r->status, 200);
        EXPECT_TRUE(r->body.empty());
        EXPECT_EQ(r->body_bytes, SIZE);
        EXPECT_EQ(sink.received, SIZE);
        EXPECT_EQ(sink.mismatches, 0u);
        EXPECT_GT(sink.chunks, 64u);  // many chunks, not one buffered blob
        EXPECT_LE(sink.max_chunk, 1u << 20);
        EXPECT_EQ(sink.finishes, 0);  // the transport never calls finish()
        EXPECT_LT(peak_kb - rss_before_kb, 24 * 1024) << "peak RSS grew by " << peak_kb - rss_before_kb << " kB";
    }
}

TEST(curl_http, error_bodies_are_stored_not_streamed) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.status = 404;
        resp.body = "<Error><Code>NoSuchKey</Code></Error>";
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    pattern_sink sink;
    http_request req = make_request("GET", fake->url() + "/missing");
    req.body_sink = &sink;
    auto r = client->perform(req);
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, "<Error><Code>NoSuchKey</Code></Error>");
    EXPECT_EQ(sink.received, 0u);
}

TEST(curl_http, sink_failure_stops_the_transfer) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.pattern_body_bytes = 8u << 20;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    for (bool async : {false, true}) {
        pattern_sink sink(1);
        http_request req = make_request("GET", fake->url() + "/object");
        req.body_sink = &sink;
        auto r = async ? submit_and_wait(*client, req) : client->perform(req);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::IO);
        EXPECT_EQ(r.err().message, "test sink full");
        EXPECT_LT(sink.received, 8u << 20);
    }
}

TEST(curl_http, a_sink_that_wants_to_stop_ends_a_stalled_download) {
    // The server waits 20 s before answering; the reader's deadline comes after 300 ms. The transfer must end
    // about then (libcurl asks about once a second), not when the server answers.
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = std::chrono::milliseconds(20000);
        resp.body = "late";
        return resp;
    });
    struct stopping_sink final : tarius::byte_sink {
        std::chrono::steady_clock::time_point stop_at =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
        tarius::result<void> write(std::string_view) override { return tarius::ok(); }
        tarius::result<void> finish() override { return tarius::ok(); }
        bool stop_requested() override { return std::chrono::steady_clock::now() >= stop_at; }
    };
    auto client = tarius::aws::make_curl_http_client();
    for (bool async : {false, true}) {
        stopping_sink sink;
        http_request req = make_request("GET", fake->url() + "/object");
        req.timeout = std::chrono::milliseconds(-1);
        req.body_sink = &sink;
        const auto started = std::chrono::steady_clock::now();
        auto r = async ? submit_and_wait(*client, req) : client->perform(req);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::CANCELLED) << r.err().message;
        EXPECT_FALSE(r.err().retryable);
        // Far less than the server's 20 s (a bound, not a timing measurement: any run well under it passes).
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    }
}

TEST(curl_http, many_concurrent_submits_run_each_callback_once) {
    constexpr int COUNT = 150;
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = std::string(req.header("X-Id").value_or("?"));
        int id = std::atoi(resp.body.c_str());
        resp.delay = std::chrono::milliseconds(id % 7 * 5);  // completions arrive out of order
        return resp;
    });
    http_options options;
    options.max_connections = 32;
    auto client = tarius::aws::make_curl_http_client(options);
    std::map<int, int> calls;
    std::map<int, std::string> bodies;
    for (int id = 0; id < COUNT; ++id) {
        http_request req = make_request("POST", fake->url() + "/", "item " + std::to_string(id));
        req.headers = {{"X-Id", std::to_string(id)}};
        client->submit(std::move(req), [&calls, &bodies, id](result<http_response> r) {
            ++calls[id];
            bodies[id] = r ? r->body : "error: " + r.err().message;
        });
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (client->poll(50ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    EXPECT_EQ(client->poll(0ms), 0u);
    ASSERT_EQ(calls.size(), static_cast<size_t>(COUNT));
    for (int id = 0; id < COUNT; ++id) {
        EXPECT_EQ(calls[id], 1) << id;
        EXPECT_EQ(bodies[id], std::to_string(id));
    }
    EXPECT_EQ(fake->request_count(), static_cast<uint64_t>(COUNT));
    EXPECT_LE(fake->connection_count(), 32u);  // max_connections caps parallel connections
}

TEST(curl_http, callbacks_may_submit_again) {
    auto fake = start_fake();
    auto client = tarius::aws::make_curl_http_client();
    int remaining = 20;
    int completed = 0;
    std::function<void(result<http_response>)> chain = [&](result<http_response> r) {
        EXPECT_TRUE(r.has_value());
        ++completed;
        if (--remaining > 0) client->submit(make_request("GET", fake->url() + "/next"), chain);
    };
    client->submit(make_request("GET", fake->url() + "/first"), chain);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (client->poll(100ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    EXPECT_EQ(completed, 20);
    EXPECT_EQ(fake->connection_count(), 1u);
}

TEST(curl_http, keep_alive_reuses_connections) {
    struct case_t {
        const char* name;
        bool async;
        bool server_closes;
        uint64_t expected_connections;
    };
    const std::vector<case_t> cases = {
        {"perform keep-alive", false, false, 1},
        {"submit keep-alive", true, false, 1},
        {"perform, server closes", false, true, 30},
        {"submit, server closes", true, true, 30},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        auto fake = start_fake([&c](const fake_request&) {
            fake_response resp;
            resp.body = "ok";
            resp.close_after = c.server_closes;
            return resp;
        });
        auto client = tarius::aws::make_curl_http_client();
        for (int idx = 0; idx < 30; ++idx) {
            http_request req = make_request("POST", fake->url() + "/", "x");
            auto r = c.async ? submit_and_wait(*client, req) : client->perform(req);
            ASSERT_TRUE(r.has_value()) << r.err().message;
        }
        EXPECT_EQ(fake->request_count(), 30u);
        EXPECT_EQ(fake->connection_count(), c.expected_connections);
    }
}

TEST(curl_http, perform_is_thread_safe) {
    constexpr int THREADS = 6;
    constexpr int PER_THREAD = 40;
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = req.body;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&, t] {
            for (int idx = 0; idx < PER_THREAD; ++idx) {
                std::string body = std::to_string(t) + ":" + std::to_string(idx);
                auto r = client->perform(make_request("POST", fake->url() + "/", body));
                if (r && r->body == body) ++good;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), THREADS * PER_THREAD);
    EXPECT_LE(fake->connection_count(), static_cast<uint64_t>(THREADS));  // pooled handles keep their connection
}

/// Runs `req` both ways and returns both results.
std::vector<result<http_response>> both_ways(http_client& client, const http_request& req) {
    std::vector<result<http_response>> out;
    out.push_back(client.perform(req));
    int calls = 0;
    out.push_back(submit_and_wait(client, req, &calls));
    EXPECT_EQ(calls, 1);
    return out;
}

TEST(curl_http, transport_failures_are_retryable_network_errors) {
    struct case_t {
        const char* name;
        fake_response response;
        std::chrono::milliseconds timeout;
        const char* message_part;
    };
    fake_response reset;
    reset.action = fake_action::RESET;
    fake_response closed;
    closed.action = fake_action::CLOSE;
    fake_response truncated;
    truncated.body = std::string(5000, 'x');
    truncated.truncate_after = 1000;
    fake_response truncated_empty;
    truncated_empty.body = std::string(300, 'y');
    truncated_empty.truncate_after = 0;
    fake_response slow;
    slow.delay = 3000ms;
    const std::vector<case_t> cases = {
        {"reset", reset, 0ms, "POST http://127.0.0.1:"},
        {"closed without answer", closed, 0ms, "Server returned nothing"},
        {"truncated body", truncated, 0ms, "body cut off at byte offset 1000 of 5000"},
        {"truncated at zero", truncated_empty, 0ms, "body cut off at byte offset 0 of 300"},
        {"timeout", slow, 300ms, "Timeout was reached"},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        auto fake = start_fake([&c](const fake_request&) { return c.response; });
        auto client = tarius::aws::make_curl_http_client();
        http_request req = make_request("POST", fake->url() + "/tbl?X-Amz-Signature=SECRETSIG", "SECRETBODY");
        req.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET"}};
        req.timeout = c.timeout;
        auto started = std::chrono::steady_clock::now();
        for (auto& r : both_ways(*client, req)) {
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.err().code, errc::NETWORK);
            EXPECT_TRUE(r.err().retryable);
            EXPECT_NE(r.err().message.find(c.message_part), std::string::npos) << r.err().message;
            EXPECT_EQ(r.err().message.find("SECRET"), std::string::npos) << r.err().message;
            EXPECT_EQ(r.err().message.find("AKID"), std::string::npos) << r.err().message;
        }
        if (c.timeout.count() > 0) {
            EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
        }
    }
}

TEST(curl_http, no_deadline_still_ends_a_stall) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = 5000ms;
        return resp;
    });
    http_options options;
    options.request_timeout = 1000ms;  // also the stall limit of requests without a deadline
    auto client = tarius::aws::make_curl_http_client(options);
    http_request req = make_request("GET", fake->url() + "/stalled");
    req.timeout = -1ms;
    auto started = std::chrono::steady_clock::now();
    auto r = client->perform(req);
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.err().code, errc::NETWORK);
    EXPECT_TRUE(r.err().retryable);
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 4000ms);
}

TEST(curl_http, truncated_stream_reports_offset_and_keeps_sink_bytes) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.pattern_body_bytes = 3u << 20;
        resp.truncate_after = (1u << 20) + 17;
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    pattern_sink sink;
    http_request req = make_request("GET", fake->url() + "/object");
    req.body_sink = &sink;
    auto r = client->perform(req);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.err().code, errc::NETWORK);
    EXPECT_TRUE(r.err().retryable);
    EXPECT_NE(r.err().message.find("byte offset 1048593 of 3145728"), std::string::npos) << r.err().message;
    EXPECT_EQ(sink.received, (1u << 20) + 17);
    EXPECT_EQ(sink.mismatches, 0u);
}

TEST(curl_http, connect_refused_is_retryable) {
    refused_port port;
    auto client = tarius::aws::make_curl_http_client();
    for (auto& r : both_ways(*client, make_request("GET", port.url() + "/x"))) {
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::NETWORK);
        EXPECT_TRUE(r.err().retryable);
        EXPECT_NE(r.err().message.find("Couldn't connect"), std::string::npos) << r.err().message;
    }
}

TEST(curl_http, delay_is_honoured) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = 400ms;
        resp.body = "late";
        return resp;
    });
    auto client = tarius::aws::make_curl_http_client();
    auto started = std::chrono::steady_clock::now();
    auto r = client->perform(make_request("GET", fake->url() + "/"));
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->body, "late");
    EXPECT_GE(elapsed, 400ms);
    // poll() returns when the wait is over even though the transfer is still running.
    std::optional<result<http_response>> got;
    client->submit(make_request("GET", fake->url() + "/"),
                   [&](result<http_response> res) { got.emplace(std::move(res)); });
    started = std::chrono::steady_clock::now();
    EXPECT_EQ(client->poll(100ms), 1u);
    EXPECT_FALSE(got.has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 350ms);
    while (!got && client->poll(1000ms) > 0) {
    }
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(got->has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - started, 400ms);
}

TEST(curl_http, destroying_the_client_cancels_in_flight_requests) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = 2000ms;
        return resp;
    });
    int calls = 0;
    std::optional<errc> code;
    {
        auto client = tarius::aws::make_curl_http_client();
        client->submit(make_request("GET", fake->url() + "/"), [&](result<http_response> r) {
            ++calls;
            if (!r) code = r.err().code;
        });
        (void)client->poll(50ms);
    }
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(code, errc::CANCELLED);
}

TEST(curl_http, idle_poll_returns_zero_at_once) {
    auto client = tarius::aws::make_curl_http_client();
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(client->poll(1000ms), 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
}

TEST(curl_http, ca_bundle_selection) {
    const std::string al2023 = "/etc/pki/tls/certs/ca-bundle.crt";
    const std::string debian = "/etc/ssl/certs/ca-certificates.crt";
    struct case_t {
        const char* name;
        std::string configured;
        const char* env;
        std::set<std::string> existing;
        std::string expected;
    };
    const std::vector<case_t> cases = {
        {"option wins", "/opt/ca.pem", "/env/ca.pem", {al2023, debian}, "/opt/ca.pem"},
        {"env next", "", "/env/ca.pem", {al2023, debian}, "/env/ca.pem"},
        {"empty env ignored", "", "", {debian}, debian},
        {"amazon linux first", "", nullptr, {al2023, debian}, al2023},
        {"debian", "", nullptr, {debian}, debian},
        {"none: libcurl default", "", nullptr, {}, ""},
        {"option not checked for existence", "/missing.pem", nullptr, {}, "/missing.pem"},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        auto exists = [&c](const std::string& path) { return c.existing.count(path) > 0; };
        EXPECT_EQ(tarius::aws::detail::select_ca_bundle(c.configured, c.env, exists), c.expected);
    }
    // The real machine (Debian in CI) has its bundle in the second place.
    {
        scoped_env env{{"AWS_CA_BUNDLE", nullptr}};
        if (::access(al2023.c_str(), R_OK) != 0 && ::access(debian.c_str(), R_OK) == 0) {
            EXPECT_EQ(tarius::aws::detail::select_ca_bundle(""), debian);
        }
    }
    {
        scoped_env env{{"AWS_CA_BUNDLE", "/from/env.pem"}};
        EXPECT_EQ(tarius::aws::detail::select_ca_bundle(""), "/from/env.pem");
    }
}

TEST(curl_http, redact_url_drops_query) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"https://b.s3.amazonaws.com/k?X-Amz-Signature=abc", "https://b.s3.amazonaws.com/k"},
        {"http://127.0.0.1:1/p#frag", "http://127.0.0.1:1/p"},
        {"http://h/p", "http://h/p"},
    };
    for (const auto& [in, out] : cases) EXPECT_EQ(tarius::aws::detail::redact_url(in), out);
}

TEST(curl_http, proxy_environment) {
    // Two fakes: `origin` is the target, `proxy` stands in for a forward proxy (it answers itself).
    auto origin = start_fake([](const fake_request&) {
        fake_response resp;
        resp.body = "from origin";
        return resp;
    });
    auto proxy = start_fake([](const fake_request&) {
        fake_response resp;
        resp.body = "from proxy";
        return resp;
    });
    const std::string proxy_url = proxy->url();
    const std::string target = origin->url() + "/via?q=1";
    struct case_t {
        const char* name;
        const char* http_proxy;
        const char* upper_http_proxy;
        const char* no_proxy;
        bool via_proxy;
    };
    const std::vector<case_t> cases = {
        {"lower-case http_proxy is used", proxy_url.c_str(), nullptr, nullptr, true},
        // libcurl ignores upper-case HTTP_PROXY on purpose (httpoxy); AWS SDKs for Python read it.
        {"upper-case HTTP_PROXY is ignored", nullptr, proxy_url.c_str(), nullptr, false},
        {"no_proxy bypasses", proxy_url.c_str(), nullptr, "127.0.0.1", false},
        {"no variables", nullptr, nullptr, nullptr, false},
    };
    auto client = tarius::aws::make_curl_http_client();
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        scoped_env env{{"http_proxy", c.http_proxy}, {"HTTP_PROXY", c.upper_http_proxy}, {"no_proxy", c.no_proxy}};
        origin->clear_requests();
        proxy->clear_requests();
        for (auto& r : both_ways(*client, make_request("GET", target))) {
            ASSERT_TRUE(r.has_value()) << r.err().message;
            EXPECT_EQ(r->body, c.via_proxy ? "from proxy" : "from origin");
        }
        auto seen = (c.via_proxy ? proxy : origin)->requests();
        ASSERT_EQ(seen.size(), 2u);
        // A forward proxy gets the absolute form of the target; an origin gets the origin form.
        for (const fake_request& req : seen) EXPECT_EQ(req.target, c.via_proxy ? target : "/via?q=1");
        EXPECT_TRUE((c.via_proxy ? origin : proxy)->requests().empty());
    }
}

}  // namespace
