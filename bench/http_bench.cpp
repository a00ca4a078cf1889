/// Requests per second through the libcurl transport to fault_server --mode ddb-ok, POSTing a ~12 KB
/// BatchWriteItem-like body over keep-alive connections: synchronous perform() and 1 or 64 requests in flight on
/// the multi interface. Compare with bench/boto3_http_bench.py.
///
/// The stub: TARIUS_STUB_URL (e.g. http://127.0.0.1:8000), else <build>/bin/fault_server started here.

#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tarius/aws/http.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

/// A fault_server child process started for the benchmark run and stopped by its PID.
class stub_process {
public:
    ~stub_process() { stop(); }

    /// Starts <dir of this executable>/../bin/fault_server; returns its URL or "" on failure.
    std::string start() {
        char self[4096];
        ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (len <= 0) return {};
        std::string path(self, static_cast<size_t>(len));
        path = path.substr(0, path.rfind('/')) + "/../bin/fault_server";
        int out[2];
        if (::pipe(out) != 0) return {};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        std::vector<char*> argv = {path.data(),
                                   const_cast<char*>("--mode"),
                                   const_cast<char*>("ddb-ok"),
                                   const_cast<char*>("--max-seconds"),
                                   const_cast<char*>("3600"),
                                   nullptr};
        int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) {
            ::close(out[0]);
            pid_ = -1;
            return {};
        }
        std::string port;
        char c = 0;
        while (::read(out[0], &c, 1) == 1 && c != '\n') port.push_back(c);
        ::close(out[0]);
        if (port.empty()) return {};
        return "http://127.0.0.1:" + port;
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

stub_process g_stub;

const std::string& stub_url() {
    static const std::string url = [] {
        const char* env = std::getenv("TARIUS_STUB_URL");
        if (env != nullptr && *env != '\0') return std::string(env);
        return g_stub.start();
    }();
    return url;
}

/// 25 PutRequests of ~480 bytes: about the 12 KB a loader batch of small rows produces.
std::string batch_body() {
    std::string body = R"({"RequestItems":{"bench-table":[)";
    for (int idx = 0; idx < 25; ++idx) {
        if (idx > 0) body.push_back(',');
        body += R"({"PutRequest":{"Item":{"pk":{"S":"customer#)" + std::to_string(100000 + idx) +
                R"("},"sk":{"S":"order#2024-01-01T00:00:00Z"},"amount":{"N":"1234.56"},"status":{"S":"SHIPPED"},)" +
                R"("note":{"S":")" + std::string(300, static_cast<char>('a' + idx % 26)) + R"("}}}})";
    }
    body += "]}}";
    return body;
}

tarius::aws::http_request make_request(const std::string& url, const std::string& body) {
    tarius::aws::http_request req;
    req.method = "POST";
    req.url = url + "/";
    req.body = body;
    req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                   {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"},
                   {"X-Amz-Date", "20250101T000000Z"},
                   {"Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/dynamodb/aws4_request, "
                    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000"}};
    return req;
}

void bm_perform(benchmark::State& state) {
    const std::string& url = stub_url();
    if (url.empty()) return state.SkipWithError("no stub: set TARIUS_STUB_URL or build fault_server");
    auto client = tarius::aws::make_curl_http_client();
    const std::string body = batch_body();
    int64_t failures = 0;
    for (auto _ : state) {
        auto r = client->perform(make_request(url, body));
        if (!r || r->status != 200) ++failures;
    }
    if (failures > 0) state.SkipWithError("requests failed");
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
    state.counters["req/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// Keeps `state.range(0)` requests in flight; one iteration = one completed request.
void bm_in_flight(benchmark::State& state) {
    const std::string& url = stub_url();
    if (url.empty()) return state.SkipWithError("no stub: set TARIUS_STUB_URL or build fault_server");
    const auto in_flight_target = static_cast<size_t>(state.range(0));
    tarius::aws::http_options options;
    options.max_connections = in_flight_target;
    auto client = tarius::aws::make_curl_http_client(options);
    const std::string body = batch_body();
    size_t in_flight = 0;
    int64_t unclaimed = 0;
    int64_t failures = 0;
    auto on_done = [&](tarius::result<tarius::aws::http_response> r) {
        --in_flight;
        ++unclaimed;
        if (!r || r->status != 200) ++failures;
    };
    for (auto _ : state) {
        while (in_flight < in_flight_target) {
            ++in_flight;
            client->submit(make_request(url, body), on_done);
        }
        while (unclaimed == 0) (void)client->poll(100ms);
        --unclaimed;
    }
    while (client->poll(100ms) > 0) {
    }
    if (failures > 0) state.SkipWithError("requests failed");
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
    state.counters["req/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(bm_perform)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_in_flight)->Arg(1)->Arg(64)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
