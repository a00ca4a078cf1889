/// Signed BatchWriteItem requests per second through tarius::aws::dynamodb_client (SigV4 signing, retry strategy,
/// x-amz-crc32 check and response parsing included) to fault_server --mode ddb-ok: the blocking call, and the
/// asynchronous call with 1 and 64 requests in flight from one thread. Compare with bench/http_bench.cpp (the
/// transport alone) to see the client's own overhead.
///
/// The stub: TARIUS_STUB_URL (e.g. http://127.0.0.1:8000), else <build>/bin/fault_server started here.

#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/retry.hpp"
#include "tarius/aws/sigv4.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

// The fault_server child of this run, stopped by its PID when the benchmark exits.
class stub_server {
public:
    ~stub_server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    std::string start() {
        char self[4096];
        ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (len <= 0) return {};
        std::string exe(self, static_cast<size_t>(len));
        exe = exe.substr(0, exe.rfind('/')) + "/../bin/fault_server";
        int fds[2];
        if (::pipe(fds) != 0) return {};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        std::string mode = "--mode", ok = "ddb-ok", guard = "--max-seconds", seconds = "3600";
        std::vector<char*> argv = {exe.data(), mode.data(), ok.data(), guard.data(), seconds.data(), nullptr};
        int rc = ::posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        std::string port;
        char c = 0;
        while (rc == 0 && ::read(fds[0], &c, 1) == 1 && c != '\n') port.push_back(c);
        ::close(fds[0]);
        if (rc != 0 || port.empty()) return {};
        return "http://127.0.0.1:" + port;
    }

private:
    pid_t pid_ = -1;
};

stub_server g_stub;

const std::string& stub_url() {
    static const std::string url = [] {
        const char* env = std::getenv("TARIUS_STUB_URL");
        if (env != nullptr && *env != '\0') return std::string(env);
        return g_stub.start();
    }();
    return url;
}

class bench_credentials final : public tarius::aws::credentials_provider {
public:
    tarius::result<tarius::aws::credentials> get() override {
        tarius::aws::credentials c;
        c.access_key_id = "AKIDBENCH";
        c.secret_access_key = "bench-secret";
        return c;
    }
};

std::unique_ptr<tarius::aws::dynamodb_client> make_client(const std::string& url, size_t connections) {
    auto context = std::make_shared<tarius::aws::client_context>();
    context->env = tarius::aws::map_environment({{"AWS_ENDPOINT_URL", url},
                                                 {"AWS_REGION", "us-east-1"},
                                                 {"AWS_CONFIG_FILE", "/nonexistent"},
                                                 {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}});
    context->region = "us-east-1";
    tarius::aws::http_options options;
    options.max_connections = connections;
    context->http = tarius::aws::make_curl_http_client(options);
    context->credentials = std::make_shared<bench_credentials>();
    context->signer = std::make_shared<tarius::aws::sigv4_signer>();
    context->quota = std::make_shared<tarius::aws::retry_quota>();
    auto client = tarius::aws::dynamodb_client::create(context);
    return client ? std::move(client).value() : nullptr;
}

/// 25 PutRequests of ~480 bytes (about 12 KB), like a loader batch of small rows.
std::string batch_body() {
    std::string body = R"({"RequestItems":{"bench-table":[)";
    for (int idx = 0; idx < 25; ++idx) {
        if (idx > 0) body.push_back(',');
        body += R"({"PutRequest":{"Item":{"pk":{"S":"customer#)" + std::to_string(100000 + idx) +
                R"("},"sk":{"S":"order#2024"},"amount":{"N":"1234.56"},"note":{"S":")" +
                std::string(380, static_cast<char>('a' + idx % 26)) + R"("}}}})";
    }
    body += "]}}";
    return body;
}

void bm_batch_write_sync(benchmark::State& state) {
    const std::string& url = stub_url();
    if (url.empty()) return state.SkipWithError("no stub: set TARIUS_STUB_URL or build fault_server");
    auto client = make_client(url, 4);
    if (!client) return state.SkipWithError("client creation failed");
    const std::string body = batch_body();
    int64_t failures = 0;
    for (auto _ : state) {
        auto r = client->batch_write_item(body);
        if (!r || r->unprocessed_count != 0) ++failures;
    }
    if (failures > 0) state.SkipWithError("requests failed");
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
    state.counters["req/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// Keeps `state.range(0)` asynchronous BatchWriteItem calls in flight; one iteration = one completed call.
void bm_batch_write_async(benchmark::State& state) {
    const std::string& url = stub_url();
    if (url.empty()) return state.SkipWithError("no stub: set TARIUS_STUB_URL or build fault_server");
    const auto target = static_cast<size_t>(state.range(0));
    auto client = make_client(url, target);
    if (!client) return state.SkipWithError("client creation failed");
    const std::string body = batch_body();
    size_t in_flight = 0;
    size_t max_in_flight = 0;
    int64_t unclaimed = 0;
    int64_t failures = 0;
    auto on_done = [&](tarius::result<tarius::aws::batch_write_result> r) {
        --in_flight;
        ++unclaimed;
        if (!r || r->unprocessed_count != 0) ++failures;
    };
    for (auto _ : state) {
        while (in_flight < target) {
            ++in_flight;
            client->batch_write_item_async(body, on_done);
        }
        max_in_flight = std::max(max_in_flight, in_flight);
        while (unclaimed == 0) (void)client->poll(100ms);
        --unclaimed;
    }
    while (client->poll(100ms) > 0) {
    }
    if (failures > 0) state.SkipWithError("requests failed");
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
    state.counters["req/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["max_in_flight"] = static_cast<double>(max_in_flight);
}

BENCHMARK(bm_batch_write_sync)->UseRealTime()->MinTime(2.0);
BENCHMARK(bm_batch_write_async)->Arg(1)->Arg(64)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
