/// The socket transport (src/aws/socket_http.*): its response parser on literal bytes, URL splitting and the proxy
/// decision as pure functions, then the client against the in-process HTTP fake, a scripted raw socket server
/// (exact request bytes, chunked and odd answers, idle connections closed) and a local TLS server with a CA made
/// at test time by the openssl command.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aws/http1_parser.hpp"
#include "aws/http_url.hpp"
#include "aws/proxy_env.hpp"
#include "aws/socket_http.hpp"
#include "fake/http_fake.hpp"
#include "tarius/aws/config.hpp"
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
using tarius::aws::detail::http1_parser;
using tarius::fake::fake_action;
using tarius::fake::fake_request;
using tarius::fake::fake_response;
using tarius::fake::http_fake;

/// Proxy variables of the machine running the tests must not matter.
[[maybe_unused]] const bool g_proxy_env_cleared = [] {
    for (const char* name :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
        ::unsetenv(name);
    }
    return true;
}();

// ---- the parser ---------------------------------------------------------------------------------------------------

struct parsed {
    bool ok = false;
    std::string error;
    http_response response;
    bool done = false;
    bool keep_alive = false;
    size_t consumed = 0;
};

/// Feeds `wire` in pieces of `step` bytes (0 = all at once), then EOF when `eof`.
parsed parse(const std::string& wire, size_t step, bool eof, bool head = false) {
    parsed out;
    http1_parser parser;
    parser.reset(&out.response, head);
    size_t pos = 0;
    while (pos < wire.size() && !parser.done()) {
        const size_t n = step == 0 ? wire.size() - pos : std::min(step, wire.size() - pos);
        auto used = parser.feed(std::string_view(wire).substr(pos, n));
        if (!used) {
            out.error = used.err().message;
            EXPECT_EQ(used.err().code, errc::NETWORK);
            EXPECT_TRUE(used.err().retryable);
            return out;
        }
        pos += *used;
        if (*used < n) break;
    }
    out.consumed = pos;
    if (eof && !parser.done()) {
        auto ended = parser.finish_at_eof();
        if (!ended) {
            out.error = ended.err().message;
            EXPECT_TRUE(ended.err().retryable);
            return out;
        }
    }
    out.done = parser.done();
    out.keep_alive = parser.keep_alive();
    out.ok = out.done;
    return out;
}

TEST(http1_parser, framings_and_failures) {
    struct case_t {
        const char* name;
        std::string wire;
        bool eof;
        bool head;
        // expectations: empty error = success
        std::string error_part;
        long status;
        std::string body;
        bool keep_alive;
        std::vector<std::pair<std::string, std::string>> headers;
    };
    const std::vector<case_t> cases = {
        {"content-length",
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
         false,
         false,
         "",
         200,
         "hello",
         true,
         {{"Content-Length", "5"}, {"X-A", "1"}}},
        {"LF only lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", false, false, "", 200, "hi", true, {}},
        {"no reason phrase", "HTTP/1.1 204\r\n\r\n", false, false, "", 204, "", true, {}},
        {"204 ignores length",
         "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
         false,
         false,
         "",
         204,
         "",
         true,
         {}},
        {"304 no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, false, "", 304, "", true, {}},
        {"HEAD no body",
         "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
         false,
         true,
         "",
         200,
         "",
         true,
         {{"Content-Length", "10"}}},
        {"chunked with extensions and trailers",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA \r\n, world!!!\r\n0\r\nX-T: "
         "t\r\n\r\n",
         false,
         false,
         "",
         200,
         "hello, world!!!",
         true,
         {{"Transfer-Encoding", "chunked"}, {"X-T", "t"}}},
        {"interim 100 and 103 skipped",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-"
         "Length: 1\r\n\r\nz",
         false,
         false,
         "",
         201,
         "z",
         true,
         {{"Content-Length", "1"}}},
        {"obs-fold joined",
         "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n",
         false,
         false,
         "",
         200,
         "",
         true,
         {{"X-Long", "a b c"}, {"Content-Length", "0"}}},
        {"values trimmed, empty value",
         "HTTP/1.1 200 OK\r\nX-Sp:   v  \r\nX-E:\r\nContent-Length: 0\r\n\r\n",
         false,
         false,
         "",
         200,
         "",
         true,
         {{"X-Sp", "v"}, {"X-E", ""}, {"Content-Length", "0"}}},
        {"connection close",
         "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
         false,
         false,
         "",
         200,
         "",
         false,
         {}},
        {"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false, "", 200, "ok", false, {}},
        {"until close", "HTTP/1.1 200 OK\r\n\r\nall of it", true, false, "", 200, "all of it", false, {}},
        {"both framings: chunked wins, no reuse",
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
         false,
         false,
         "",
         200,
         "ab",
         false,
         {}},
        {"identical duplicate lengths",
         "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
         false,
         false,
         "",
         200,
         "ok",
         true,
         {}},
        {"cut body",
         "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
         true,
         false,
         "body cut off at byte offset 3 of 10",
         0,
         "",
         false,
         {}},
        {"cut at zero",
         "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n",
         true,
         false,
         "body cut off at byte offset 0 of 300",
         0,
         "",
         false,
         {}},
        {"cut chunked",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
         true,
         false,
         "chunked body cut off at byte offset 3",
         0,
         "",
         false,
         {}},
        {"nothing", "", true, false, "Server returned nothing", 0, "", false, {}},
        {"cut header",
         "HTTP/1.1 200 OK\r\nContent-Le",
         true,
         false,
         "before the end of the response header",
         0,
         "",
         false,
         {}},
        {"garbage", "SSH-2.0-OpenSSH_9.2\r\n", false, false, "Weird server reply", 0, "", false, {}},
        {"garbage without newline", "<html>", false, false, "Weird server reply", 0, "", false, {}},
        {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false, false, "malformed status line", 0, "", false, {}},
        {"HTTP/2 over h1", "HTTP/2 200\r\n\r\n", false, false, "malformed status line", 0, "", false, {}},
        {"conflicting lengths",
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
         false,
         false,
         "Content-Length",
         0,
         "",
         false,
         {}},
        {"negative length",
         "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
         false,
         false,
         "Content-Length",
         0,
         "",
         false,
         {}},
        {"header without colon",
         "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
         false,
         false,
         "malformed header line",
         0,
         "",
         false,
         {}},
        {"fold first", "HTTP/1.1 200 OK\r\n folded\r\n\r\n", false, false, "continuation", 0, "", false, {}},
        {"bad chunk size",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
         false,
         false,
         "malformed chunk size",
         0,
         "",
         false,
         {}},
        {"chunk longer than announced",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
         false,
         false,
         "longer than its announced size",
         0,
         "",
         false,
         {}},
        {"101 refused", "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, false, "101", 0, "", false, {}},
        {"header block too large",
         "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n",
         false,
         false,
         "larger than 65536",
         0,
         "",
         false,
         {}},
    };
    for (const case_t& c : cases) {
        for (size_t step : {size_t{0}, size_t{1}, size_t{7}}) {
            SCOPED_TRACE(std::string(c.name) + " step " + std::to_string(step));
            parsed got = parse(c.wire, step, c.eof, c.head);
            if (!c.error_part.empty()) {
                EXPECT_FALSE(got.ok);
                EXPECT_NE(got.error.find(c.error_part), std::string::npos) << got.error;
                continue;
            }
            ASSERT_TRUE(got.ok) << got.error;
            EXPECT_EQ(got.response.status, c.status);
            EXPECT_EQ(got.response.body, c.body);
            EXPECT_EQ(got.response.body_bytes, c.body.size());
            EXPECT_EQ(got.keep_alive, c.keep_alive);
            EXPECT_EQ(got.consumed, c.wire.size());
            if (!c.headers.empty()) {
                ASSERT_EQ(got.response.headers.size(), c.headers.size());
                for (size_t idx = 0; idx < c.headers.size(); ++idx) {
                    EXPECT_EQ(got.response.headers[idx].name, c.headers[idx].first);
                    EXPECT_EQ(got.response.headers[idx].value, c.headers[idx].second);
                }
            }
        }
    }
}

TEST(http1_parser, stops_at_the_end_of_the_answer_and_resets) {
    http_response first;
    http1_parser parser;
    parser.reset(&first, false);
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    auto used = parser.feed(wire);
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(*used, wire.size() - 5);  // "EXTRA" belongs to no request
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(first.body, "ok");
    http_response second;
    parser.reset(&second, false);
    EXPECT_FALSE(parser.received_any());
    auto again = parser.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(second.status, 404);
    EXPECT_TRUE(second.headers.size() == 1);
}

TEST(http1_parser, a_body_of_many_chunks_is_no_header_block) {
    // 20,000 one-byte chunks: about 120 KB of chunk-size lines and line ends, each well within the header limit.
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int idx = 0; idx < 20000; ++idx) wire += "1\r\nx\r\n";
    wire += "0\r\n\r\n";
    for (size_t step : {size_t{0}, size_t{4096}}) {
        parsed p = parse(wire, step, false);
        ASSERT_TRUE(p.ok) << p.error;
        EXPECT_EQ(p.response.body, std::string(20000, 'x'));
    }
    // One chunk-size line beyond the limit still is.
    parsed long_line = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                                 std::string(tarius::aws::detail::MAX_HEADER_BLOCK_BYTES, 'e') + "\r\nx\r\n0\r\n\r\n",
                             0, false);
    EXPECT_FALSE(long_line.ok);
    EXPECT_NE(long_line.error.find("larger than"), std::string::npos) << long_line.error;
}

// ---- URL and proxy ------------------------------------------------------------------------------------------------

TEST(socket_http, url_parsing) {
    struct case_t {
        std::string url;
        bool ok;
        bool https;
        std::string host;
        uint16_t port;
        std::string host_header;
        std::string target;
    };
    const std::vector<case_t> cases = {
        {"http://127.0.0.1:8000/a/../b?x=1#frag", true, false, "127.0.0.1", 8000, "127.0.0.1:8000", "/a/../b?x=1"},
        {"https://dynamodb.eu-west-1.amazonaws.com", true, true, "dynamodb.eu-west-1.amazonaws.com", 443,
         "dynamodb.eu-west-1.amazonaws.com", "/"},
        {"HTTPS://Host.Example:443/", true, true, "host.example", 443, "host.example", "/"},
        {"http://h?q", true, false, "h", 80, "h", "/?q"},
        {"http://[::1]:9/p", true, false, "::1", 9, "[::1]:9", "/p"},
        {"ftp://h/", false, false, "", 0, "", ""},
        {"http://user:pw@h/", false, false, "", 0, "", ""},
        {"http://h:0/", false, false, "", 0, "", ""},
        {"http://h:99999/", false, false, "", 0, "", ""},
        {"http:///p", false, false, "", 0, "", ""},
        {"http://h/a b", false, false, "", 0, "", ""},
        {"http://h/a\r\nX: y", false, false, "", 0, "", ""},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.url);
        auto got = tarius::aws::detail::parse_http_url(c.url);
        ASSERT_EQ(got.has_value(), c.ok);
        if (!c.ok) {
            EXPECT_EQ(got.err().code, errc::INVALID_ARGUMENT);
            continue;
        }
        EXPECT_EQ(got->https, c.https);
        EXPECT_EQ(got->host, c.host);
        EXPECT_EQ(got->port, c.port);
        EXPECT_EQ(got->host_header(), c.host_header);
        EXPECT_EQ(got->target, c.target);
    }
}

TEST(socket_http, proxy_applies_like_libcurl) {
    using vars = std::map<std::string, std::string, std::less<>>;
    struct case_t {
        const char* name;
        std::string url;
        vars env;
        bool expected;
    };
    const std::vector<case_t> cases = {
        {"nothing set", "https://dynamodb.us-east-1.amazonaws.com/", {}, false},
        {"https_proxy", "https://dynamodb.us-east-1.amazonaws.com/", {{"https_proxy", "http://p:3128"}}, true},
        {"HTTPS_PROXY", "https://dynamodb.us-east-1.amazonaws.com/", {{"HTTPS_PROXY", "http://p:3128"}}, true},
        {"http_proxy does not cover https", "https://d.example/", {{"http_proxy", "http://p:3128"}}, false},
        {"http_proxy for http", "http://127.0.0.1:8000/", {{"http_proxy", "http://p:3128"}}, true},
        {"HTTP_PROXY ignored (httpoxy)", "http://127.0.0.1:8000/", {{"HTTP_PROXY", "http://p:3128"}}, false},
        {"all_proxy", "http://h/", {{"all_proxy", "socks5://p"}}, true},
        {"ALL_PROXY", "https://h/", {{"ALL_PROXY", "socks5://p"}}, true},
        {"empty value: none", "https://h/", {{"https_proxy", ""}}, false},
        {"empty lower-case stops the search", "https://h/", {{"https_proxy", ""}, {"ALL_PROXY", "http://p"}}, false},
        {"no_proxy star", "https://h/", {{"https_proxy", "http://p"}, {"no_proxy", "*"}}, false},
        {"no_proxy exact",
         "http://127.0.0.1:8000/",
         {{"http_proxy", "http://p"}, {"no_proxy", "localhost,127.0.0.1"}},
         false},
        {"no_proxy domain",
         "https://dynamodb.us-east-1.amazonaws.com/",
         {{"https_proxy", "http://p"}, {"NO_PROXY", ".amazonaws.com"}},
         false},
        {"no_proxy domain without dot",
         "https://dynamodb.us-east-1.amazonaws.com/",
         {{"https_proxy", "http://p"}, {"no_proxy", "amazonaws.com"}},
         false},
        {"no_proxy other domain",
         "https://dynamodb.us-east-1.amazonaws.com/",
         {{"https_proxy", "http://p"}, {"no_proxy", "example.com, localhost"}},
         true},
        {"no_proxy suffix is not a domain",
         "https://badamazonaws.com/",
         {{"https_proxy", "http://p"}, {"no_proxy", "amazonaws.com"}},
         true},
        {"no_proxy lower case wins",
         "https://h.example/",
         {{"https_proxy", "http://p"}, {"no_proxy", "other"}, {"NO_PROXY", "h.example"}},
         true},
        {"CIDR not understood: proxied",
         "http://10.1.2.3/",
         {{"http_proxy", "http://p"}, {"no_proxy", "10.0.0.0/8"}},
         true},
        {"unparsable URL with a proxy: proxied", "weird://x", {{"https_proxy", "http://p"}}, true},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(tarius::aws::detail::proxy_applies(c.url, tarius::aws::map_environment(c.env)), c.expected);
    }
}

// ---- helpers for the client tests ---------------------------------------------------------------------------------

using tarius::aws::test::make_request;
using tarius::aws::test::start_fake;
using tarius::aws::test::submit_and_wait;

/// Byte I/O of one accepted connection, plain or TLS.
class wire {
public:
    virtual ~wire() = default;
    virtual ssize_t read(char* buf, size_t len) = 0;
    virtual bool write(std::string_view bytes) = 0;

    /// Reads one request (head, then a Content-Length body); empty at EOF.
    std::string read_request() {
        std::string got = std::move(leftover_);
        leftover_.clear();
        char buf[8192];
        size_t head_end = std::string::npos;
        while ((head_end = got.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = read(buf, sizeof(buf));
            if (n <= 0) return {};
            got.append(buf, static_cast<size_t>(n));
        }
        size_t length = 0;
        std::string lower = got.substr(0, head_end);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t at = lower.find("\r\ncontent-length:");
        if (at != std::string::npos) length = std::strtoul(lower.c_str() + at + 17, nullptr, 10);
        const size_t total = head_end + 4 + length;
        while (got.size() < total) {
            ssize_t n = read(buf, sizeof(buf));
            if (n <= 0) return {};
            got.append(buf, static_cast<size_t>(n));
        }
        leftover_ = got.substr(total);
        got.resize(total);
        return got;
    }

private:
    std::string leftover_;
};

class plain_wire : public wire {
public:
    explicit plain_wire(int fd) : fd_(fd) {}
    ssize_t read(char* buf, size_t len) override { return ::recv(fd_, buf, len, 0); }
    bool write(std::string_view bytes) override {
        return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    }

private:
    int fd_;
};

/// The body of a request read by wire::read_request.
std::string body_of(const std::string& request) {
    size_t at = request.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : request.substr(at + 4);
}

/// A loopback server running `script(wire, connection index)` on a thread per accepted connection; the script
/// returns to close the connection (with a reset when it sets `reset`).
class script_server {
public:
    using script = std::function<void(wire&, int connection, bool& reset)>;
    using wrap = std::function<std::unique_ptr<wire>(int fd)>;

    explicit script_server(script s, wrap w = {}) : script_(std::move(s)), wrap_(std::move(w)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::listen(listen_fd_, 128), 0);
        socklen_t len = sizeof(addr);
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~script_server() {
        stopping_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        std::lock_guard<std::mutex> lock(mutex_);
        for (std::thread& t : workers_) t.join();
    }
    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] std::string url(const char* scheme = "http", const char* host = "127.0.0.1") const {
        return std::string(scheme) + "://" + host + ":" + std::to_string(port_);
    }
    [[nodiscard]] int connections() const { return accepted_.load(); }

private:
    void accept_loop() {
        for (;;) {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) {
                if (stopping_) return;
                continue;
            }
            int idx = ++accepted_;
            std::lock_guard<std::mutex> lock(mutex_);
            workers_.emplace_back([this, fd, idx] {
                bool reset = false;
                {
                    std::unique_ptr<wire> w = wrap_ ? wrap_(fd) : std::make_unique<plain_wire>(fd);
                    if (w) script_(*w, idx, reset);
                }
                if (reset) {
                    linger lg{1, 0};
                    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                }
                ::close(fd);
            });
        }
    }

    script script_;
    wrap wrap_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> workers_;
};

std::string answer(std::string_view body, std::string_view extra_headers = {}) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) +
           "\r\n" + std::string(body);
}

// ---- the client ---------------------------------------------------------------------------------------------------

TEST(socket_http, exact_request_bytes) {
    std::mutex mutex;
    std::vector<std::string> seen;
    script_server server([&](wire& w, int, bool&) {
        for (;;) {
            std::string req = w.read_request();
            if (req.empty()) return;
            {
                std::lock_guard<std::mutex> lock(mutex);
                seen.push_back(req);
            }
            w.write(answer("{}"));
        }
    });
    auto client = tarius::aws::make_socket_http_client();
    http_request req = make_request("POST", server.url() + "/b/a/../c//d?X=1&y=%2F", R"({"TableName":"t"})");
    req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                   {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                   {"X-Empty", ""},
                   {"Content-Length", "999"},  // the transport computes it
                   {"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=abc"}};
    auto r = submit_and_wait(*client, req);
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{}");
    auto g = submit_and_wait(*client, make_request("GET", server.url()));
    ASSERT_TRUE(g.has_value()) << g.err().message;
    const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0],
              "POST /b/a/../c//d?X=1&y=%2F HTTP/1.1\r\n"
              "Content-Type: application/x-amz-json-1.0\r\n"
              "X-Amz-Target: DynamoDB_20120810.PutItem\r\n"
              "X-Empty: \r\n"
              "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=abc\r\n" +
                  host + "Content-Length: 17\r\n\r\n" + R"({"TableName":"t"})");
    EXPECT_EQ(seen[1], "GET / HTTP/1.1\r\n" + host + "\r\n");  // no body, no Content-Length, no Expect
    EXPECT_EQ(server.connections(), 1);
}

TEST(socket_http, methods_round_trip_against_the_fake) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        if (req.method == "GET") resp.body = "hello";
        if (req.method == "POST") {
            resp.status = req.body.empty() ? 400 : 200;
            resp.body = req.body.empty() ? R"({"__type":"x#ValidationException"})" : "echo " + req.body;
        }
        if (req.method == "HEAD") resp.body = "0123456789";
        if (req.method == "DELETE") resp.status = 204;
        resp.headers = {{"x-amzn-RequestId", "REQ"}, {"X-Amz-Crc32", " 42 "}};
        return resp;
    });
    auto client = tarius::aws::make_socket_http_client();
    struct case_t {
        const char* method;
        std::string body;
        long status;
        std::string response_body;
    };
    const std::vector<case_t> cases = {{"GET", "", 200, "hello"},
                                       {"POST", "{\"a\":1}", 200, "echo {\"a\":1}"},
                                       {"HEAD", "", 200, ""},
                                       {"DELETE", "", 204, ""},
                                       {"POST", "", 400, R"({"__type":"x#ValidationException"})"},
                                       {"PUT", "object", 200, ""}};
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.method);
        auto r = submit_and_wait(*client, make_request(c.method, fake->url() + "/t/k?q=1", c.body));
        ASSERT_TRUE(r.has_value()) << r.err().message;
        EXPECT_EQ(r->status, c.status);
        EXPECT_EQ(r->body, c.response_body);
        EXPECT_EQ(r->header("X-AMZN-REQUESTID").value_or(""), "REQ");
        EXPECT_EQ(r->header("x-amz-crc32").value_or(""), "42");
    }
    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), cases.size());
    for (size_t idx = 0; idx < cases.size(); ++idx) {
        EXPECT_EQ(seen[idx].method, cases[idx].method);
        EXPECT_EQ(seen[idx].path, "/t/k");
        EXPECT_EQ(seen[idx].query, "q=1");
        EXPECT_EQ(seen[idx].body, cases[idx].body);
        EXPECT_FALSE(seen[idx].header("Expect").has_value());
        EXPECT_FALSE(seen[idx].header("Content-Type").has_value());
        EXPECT_EQ(seen[idx].connection_id, 1u);  // keep-alive throughout
    }
    // perform() (libcurl underneath) works too.
    auto p = client->perform(make_request("GET", fake->url() + "/sync"));
    ASSERT_TRUE(p.has_value()) << p.err().message;
    EXPECT_EQ(p->body, "hello");
}

TEST(socket_http, keep_alive_and_connection_close) {
    for (bool server_closes : {false, true}) {
        SCOPED_TRACE(server_closes ? "Connection: close" : "keep-alive");
        auto fake = start_fake([server_closes](const fake_request&) {
            fake_response resp;
            resp.body = "ok";
            resp.close_after = server_closes;
            return resp;
        });
        auto client = tarius::aws::make_socket_http_client();
        for (int idx = 0; idx < 30; ++idx) {
            auto r = submit_and_wait(*client, make_request("POST", fake->url() + "/", "x"));
            ASSERT_TRUE(r.has_value()) << r.err().message;
            EXPECT_EQ(r->body, "ok");
        }
        EXPECT_EQ(fake->request_count(), 30u);
        EXPECT_EQ(fake->connection_count(), server_closes ? 30u : 1u);
    }
}

TEST(socket_http, many_concurrent_submits_each_answered_once_with_its_own_answer) {
    constexpr int COUNT = 300;
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = "answer to " + req.body + " via " + std::string(req.header("X-Id").value_or("?"));
        int id = std::atoi(req.header("X-Id").value_or("0").data());
        resp.delay = std::chrono::milliseconds(id % 7 * 3);  // completions arrive out of order
        return resp;
    });
    http_options options;
    options.max_connections = 64;
    auto client = tarius::aws::make_socket_http_client(options);
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
        EXPECT_EQ(bodies[id], "answer to item " + std::to_string(id) + " via " + std::to_string(id));
    }
    EXPECT_EQ(fake->request_count(), static_cast<uint64_t>(COUNT));
    EXPECT_LE(fake->connection_count(), 64u);
}

TEST(socket_http, requests_beyond_max_connections_wait_in_order) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = req.body;
        resp.delay = 5ms;
        return resp;
    });
    http_options options;
    options.max_connections = 1;
    auto client = tarius::aws::make_socket_http_client(options);
    std::vector<std::string> order;
    for (int id = 0; id < 12; ++id) {
        client->submit(make_request("POST", fake->url() + "/", std::to_string(id)), [&order](result<http_response> r) {
            order.push_back(r ? r->body : "error: " + r.err().message);
        });
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (client->poll(50ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    ASSERT_EQ(order.size(), 12u);
    for (int id = 0; id < 12; ++id) EXPECT_EQ(order[static_cast<size_t>(id)], std::to_string(id));
    auto seen = fake->requests();
    ASSERT_EQ(seen.size(), 12u);
    for (int id = 0; id < 12; ++id) EXPECT_EQ(seen[static_cast<size_t>(id)].body, std::to_string(id));
    EXPECT_EQ(fake->connection_count(), 1u);
}

TEST(socket_http, a_request_whose_connection_drops_before_an_answer_is_never_sent_again_silently) {
    // Connection 1 answers its first request, then closes (or resets) without answering the second one, which it
    // did read: the server may have applied it, so it ends as a retryable error for the caller to judge, and is
    // not sent again. The next request goes on a new connection.
    for (bool reset_it : {false, true}) {
        SCOPED_TRACE(reset_it ? "reset" : "close");
        std::atomic<int> requests{0};
        script_server server([&](wire& w, int connection, bool& reset) {
            for (int served = 0;; ++served) {
                std::string req = w.read_request();
                if (req.empty()) return;
                ++requests;
                if (connection == 1 && served == 1) {
                    reset = reset_it;
                    return;
                }
                w.write(answer("c" + std::to_string(connection) + " " + body_of(req)));
            }
        });
        auto client = tarius::aws::make_socket_http_client();
        auto first = submit_and_wait(*client, make_request("POST", server.url() + "/", "one"));
        ASSERT_TRUE(first.has_value()) << first.err().message;
        EXPECT_EQ(first->body, "c1 one");
        int calls = 0;
        auto second = submit_and_wait(*client, make_request("POST", server.url() + "/", "two"), &calls);
        ASSERT_FALSE(second.has_value());
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(second.err().code, errc::NETWORK);
        EXPECT_TRUE(second.err().retryable);
        EXPECT_EQ(requests.load(), 2);
        auto third = submit_and_wait(*client, make_request("POST", server.url() + "/", "three"));
        ASSERT_TRUE(third.has_value()) << third.err().message;
        EXPECT_EQ(third->body, "c2 three");
        EXPECT_EQ(server.connections(), 2);
    }
}

TEST(socket_http, connections_dropped_at_random_never_mix_up_answers) {
    // Every connection answers a random number of requests (at least one), each in two writes split at a random
    // byte, then drops the connection while the next request waits, with a FIN or a reset. Requests caught that
    // way end with a retryable error; every other one ends answered with its own body; each callback runs once.
    constexpr int COUNT = 600;
    std::atomic<int> drops{0};
    script_server server([&](wire& w, int connection, bool& reset) {
        std::mt19937 rng(static_cast<uint32_t>(connection));
        const int serve = 1 + static_cast<int>(rng() % 6);
        for (int served = 0;; ++served) {
            std::string req = w.read_request();
            if (req.empty()) return;
            if (served == serve) {
                ++drops;
                reset = rng() % 2 == 0;
                return;
            }
            const std::string text = answer("echo " + body_of(req));
            const size_t cut = 1 + rng() % (text.size() - 1);
            if (!w.write(text.substr(0, cut))) return;
            if (rng() % 3 == 0) std::this_thread::sleep_for(1ms);
            if (!w.write(text.substr(cut))) return;
        }
    });
    http_options options;
    options.max_connections = 32;
    auto client = tarius::aws::make_socket_http_client(options);
    std::map<int, int> calls;
    std::map<int, std::string> bodies;
    int submitted = 0;
    std::function<void()> submit_next;
    submit_next = [&] {
        const int id = submitted++;
        client->submit(make_request("POST", server.url() + "/", std::to_string(id)), [&, id](result<http_response> r) {
            ++calls[id];
            bodies[id] = r ? r->body : "error: " + r.err().message;
            if (submitted < COUNT) submit_next();  // keep about 64 in flight
        });
    };
    for (int idx = 0; idx < 64; ++idx) submit_next();
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (client->poll(50ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    ASSERT_EQ(calls.size(), static_cast<size_t>(COUNT));
    int failed = 0;
    for (int id = 0; id < COUNT; ++id) {
        EXPECT_EQ(calls[id], 1) << id;
        if (bodies[id].rfind("error: ", 0) == 0) {
            ++failed;
        } else {
            EXPECT_EQ(bodies[id], "echo " + std::to_string(id)) << id;
        }
    }
    EXPECT_GT(drops.load(), 0);
    EXPECT_EQ(failed, drops.load());  // the requests the server dropped, and no other
}

TEST(socket_http, idle_connection_closed_by_the_server_is_not_reused) {
    script_server server([&](wire& w, int connection, bool&) {
        std::string req = w.read_request();
        if (req.empty()) return;
        w.write(answer("c" + std::to_string(connection)));
        // Closes while the client holds the connection idle.
    });
    auto client = tarius::aws::make_socket_http_client();
    for (int idx = 1; idx <= 3; ++idx) {
        auto r = submit_and_wait(*client, make_request("POST", server.url() + "/", "x"));
        ASSERT_TRUE(r.has_value()) << r.err().message;
        EXPECT_EQ(r->body, "c" + std::to_string(idx));
        std::this_thread::sleep_for(50ms);
    }
}

TEST(socket_http, odd_but_valid_answers) {
    struct case_t {
        const char* name;
        std::string wire;
        std::string body;
        int connections_for_two;  // connections used by two requests in a row
        std::string header;       // a header value to check: "name=value"
    };
    const std::vector<case_t> cases = {
        {"chunked with trailer",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nchun\r\n3;x=y\r\nked\r\n0\r\nX-Trailer: t\r\n\r\n",
         "chunked", 1, "X-Trailer=t"},
        {"100 continue first", "HTTP/1.1 100 Continue\r\n\r\n" + answer("after"), "after", 1, ""},
        {"HTTP/1.0 answer", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", "old", 2, ""},
        {"Connection: close", answer("bye", "Connection: close\r\n"), "bye", 2, ""},
        {"extra bytes after the answer", answer("ok") + "GARBAGE", "ok", 2, ""},
        {"folded header", "HTTP/1.1 200 OK\r\nX-F: a\r\n b\r\nContent-Length: 1\r\n\r\n1", "1", 1, "X-F=a b"},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        script_server server([&](wire& w, int, bool&) {
            for (;;) {
                if (w.read_request().empty()) return;
                if (!w.write(c.wire)) return;
            }
        });
        auto client = tarius::aws::make_socket_http_client();
        for (int idx = 0; idx < 2; ++idx) {
            auto r = submit_and_wait(*client, make_request("POST", server.url() + "/", "x"));
            ASSERT_TRUE(r.has_value()) << r.err().message;
            EXPECT_EQ(r->status, 200);
            EXPECT_EQ(r->body, c.body);
            if (!c.header.empty()) {
                size_t eq = c.header.find('=');
                EXPECT_EQ(r->header(c.header.substr(0, eq)).value_or("none"), c.header.substr(eq + 1));
            }
        }
        EXPECT_EQ(server.connections(), c.connections_for_two);
    }
}

TEST(socket_http, garbage_and_cut_answers_are_retryable_network_errors) {
    struct case_t {
        const char* name;
        std::string wire;
        const char* message_part;
    };
    const std::vector<case_t> cases = {
        {"garbage", "SSH-2.0-x\r\n", "Weird server reply"},
        {"cut body", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(1000, 'x'),
         "body cut off at byte offset 1000 of 5000"},
        {"cut chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", "byte offset 3"},
        {"cut header", "HTTP/1.1 200 OK\r\nContent-", "end of the response header"},
        {"nothing", "", "Server returned nothing"},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        script_server server([&](wire& w, int, bool&) {
            if (w.read_request().empty()) return;
            w.write(c.wire);
        });
        auto client = tarius::aws::make_socket_http_client();
        int calls = 0;
        auto r =
            submit_and_wait(*client, make_request("POST", server.url() + "/t?X-Amz-Signature=SECRET", "b"), &calls);
        EXPECT_EQ(calls, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::NETWORK);
        EXPECT_TRUE(r.err().retryable);
        EXPECT_NE(r.err().message.find(c.message_part), std::string::npos) << r.err().message;
        EXPECT_NE(r.err().message.find("POST http://127.0.0.1:"), std::string::npos) << r.err().message;
        EXPECT_EQ(r.err().message.find("SECRET"), std::string::npos) << r.err().message;
    }
}

TEST(socket_http, transport_failures_against_the_fake) {
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
    fake_response slow;
    slow.delay = 3000ms;
    const std::vector<case_t> cases = {
        {"reset on a fresh connection", reset, 0ms, "Recv failure"},
        {"closed without answer", closed, 0ms, "Server returned nothing"},
        {"truncated body", truncated, 0ms, "body cut off at byte offset 1000 of 5000"},
        {"timeout", slow, 300ms, "timed out"},
    };
    for (const case_t& c : cases) {
        SCOPED_TRACE(c.name);
        auto fake = start_fake([&c](const fake_request&) { return c.response; });
        auto client = tarius::aws::make_socket_http_client();
        http_request req = make_request("POST", fake->url() + "/tbl", "SECRETBODY");
        req.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET"}};
        req.timeout = c.timeout;
        int calls = 0;
        auto r = submit_and_wait(*client, req, &calls);
        EXPECT_EQ(calls, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::NETWORK);
        EXPECT_TRUE(r.err().retryable);
        EXPECT_NE(r.err().message.find(c.message_part), std::string::npos) << r.err().message;
        EXPECT_EQ(r.err().message.find("SECRET"), std::string::npos) << r.err().message;
        EXPECT_EQ(fake->request_count(), 1u);  // a fresh connection's failure is not retried
    }
}

TEST(socket_http, the_timeout_counts_from_submit_also_while_queued) {
    // One connection, busy with a slow request (its own long timeout); the request queued behind it times out
    // on its own short timeout long before the connection frees up.
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.delay = req.path == "/slow" ? 2000ms : 0ms;
        resp.body = req.path;
        return resp;
    });
    http_options options;
    options.max_connections = 1;
    auto client = tarius::aws::make_socket_http_client(options);
    std::vector<std::string> outcomes;
    http_request slow = make_request("GET", fake->url() + "/slow");
    slow.timeout = 30000ms;
    http_request queued = make_request("GET", fake->url() + "/queued");
    queued.timeout = 300ms;
    for (http_request* req : {&slow, &queued}) {
        client->submit(*req,
                       [&outcomes](result<http_response> r) { outcomes.push_back(r ? r->body : r.err().message); });
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (client->poll(50ms) > 0 && std::chrono::steady_clock::now() < deadline) {
    }
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_NE(outcomes[0].find("timed out"), std::string::npos) << outcomes[0];
    EXPECT_NE(outcomes[0].find("GET http://127.0.0.1:"), std::string::npos) << outcomes[0];
    EXPECT_EQ(outcomes[1], "/slow");
    EXPECT_EQ(fake->request_count(), 1u);  // the queued request never went out
}

TEST(socket_http, connect_refused_is_retryable) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);  // bound, never listening
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto client = tarius::aws::make_socket_http_client();
    int calls = 0;
    auto r = submit_and_wait(*client, make_request("GET", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))),
                             &calls);
    ::close(fd);
    EXPECT_EQ(calls, 1);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.err().code, errc::NETWORK);
    EXPECT_TRUE(r.err().retryable);
    EXPECT_NE(r.err().message.find("Couldn't connect"), std::string::npos) << r.err().message;
}

TEST(socket_http, destroying_the_client_cancels_in_flight_and_queued_requests) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = 2000ms;
        return resp;
    });
    std::map<int, int> calls;
    std::map<int, errc> codes;
    {
        http_options options;
        options.max_connections = 2;
        auto client = tarius::aws::make_socket_http_client(options);
        for (int id = 0; id < 5; ++id) {
            client->submit(make_request("GET", fake->url() + "/"),
                           [&calls, &codes, id](const result<http_response>& r) {
                               ++calls[id];
                               codes[id] = r ? errc::INTERNAL : r.err().code;
                           });
        }
        (void)client->poll(50ms);
    }
    ASSERT_EQ(calls.size(), 5u);
    for (int id = 0; id < 5; ++id) {
        EXPECT_EQ(calls[id], 1);
        EXPECT_EQ(codes[id], errc::CANCELLED);
    }
}

TEST(socket_http, callbacks_may_submit_again) {
    auto fake = start_fake();
    auto client = tarius::aws::make_socket_http_client();
    int remaining = 20;
    int completed = 0;
    std::function<void(result<http_response>)> chain = [&](const result<http_response>& r) {
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

TEST(socket_http, invalid_requests_are_refused_before_sending) {
    auto fake = start_fake();
    auto client = tarius::aws::make_socket_http_client();
    std::vector<http_request> cases;
    cases.push_back(make_request("GET", fake->url() + "/"));
    cases.back().headers = {{"X-Bad", "a\r\nInjected: yes"}};
    cases.push_back(make_request("GET", fake->url() + "/"));
    cases.back().headers = {{"Bad Name", "x"}};
    cases.push_back(make_request("GET", fake->url() + "/"));
    cases.back().headers = {{"X-Nul", std::string("a\0b", 3)}};
    cases.push_back(make_request("GET", "file:///etc/passwd"));
    cases.push_back(make_request("GE T", fake->url() + "/"));
    cases.push_back(make_request("GET", fake->url() + "/a b"));
    cases.push_back(make_request("HEAD", fake->url() + "/", "a body HEAD would not announce"));
    for (const http_request& req : cases) {
        int calls = 0;
        auto r = submit_and_wait(*client, req, &calls);
        EXPECT_EQ(calls, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::INVALID_ARGUMENT) << r.err().message;
        EXPECT_FALSE(r.err().retryable);
    }
    EXPECT_EQ(fake->request_count(), 0u);
    EXPECT_EQ(client->poll(0ms), 0u);
}

TEST(socket_http, idle_poll_returns_at_once_and_a_slow_answer_does_not_block_poll) {
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.delay = 400ms;
        resp.body = "late";
        return resp;
    });
    auto client = tarius::aws::make_socket_http_client();
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(client->poll(5000ms), 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);  // nothing in flight: no wait at all
    std::optional<result<http_response>> got;
    client->submit(make_request("GET", fake->url() + "/"),
                   [&](result<http_response> res) { got.emplace(std::move(res)); });
    started = std::chrono::steady_clock::now();
    EXPECT_EQ(client->poll(100ms), 1u);
    EXPECT_FALSE(got.has_value());
    while (!got && client->poll(1000ms) > 0) {
    }
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->body, "late");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 400ms);
}

TEST(socket_http, poll_without_waiting_makes_progress) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.body = req.body;
        return resp;
    });
    auto client = tarius::aws::make_socket_http_client();
    std::optional<result<http_response>> got;
    client->submit(make_request("POST", fake->url() + "/", "zero"),
                   [&](result<http_response> r) { got.emplace(std::move(r)); });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!got && std::chrono::steady_clock::now() < deadline) (void)client->poll(0ms);
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(got->has_value()) << got->err().message;
    EXPECT_EQ((*got)->body, "zero");
}

TEST(socket_http, large_bodies_both_ways) {
    constexpr size_t SIZE = 8u << 20;
    std::string body(SIZE, '\0');
    for (size_t idx = 0; idx < SIZE; ++idx) body[idx] = tarius::fake::pattern_byte(idx);
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        uint64_t mismatches = 0;
        for (size_t idx = 0; idx < req.body.size(); ++idx)
            mismatches += req.body[idx] != tarius::fake::pattern_byte(idx);
        resp.headers = {{"X-Got", std::to_string(req.body.size()) + " " + std::to_string(mismatches)}};
        resp.pattern_body_bytes = 3u << 20;
        return resp;
    });
    fake->set_record_bodies(false);
    auto client = tarius::aws::make_socket_http_client();
    auto r = submit_and_wait(*client, make_request("PUT", fake->url() + "/big", body));
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->header("X-Got").value_or(""), std::to_string(SIZE) + " 0");
    ASSERT_EQ(r->body.size(), 3u << 20);
    uint64_t mismatches = 0;
    for (size_t idx = 0; idx < r->body.size(); ++idx) mismatches += r->body[idx] != tarius::fake::pattern_byte(idx);
    EXPECT_EQ(mismatches, 0u);
}

/// A sink that keeps what it is given.
class string_sink : public tarius::byte_sink {
public:
    result<void> write(std::string_view chunk) override {
        data.append(chunk);
        return tarius::ok();
    }
    result<void> finish() override { return tarius::ok(); }
    std::string data;
};

TEST(socket_http, a_2xx_body_goes_to_the_sink_an_error_body_is_stored) {
    auto fake = start_fake([](const fake_request& req) {
        fake_response resp;
        resp.status = req.path == "/missing" ? 404 : 200;
        resp.body = req.path == "/missing" ? "<Error>NoSuchKey</Error>" : std::string(300000, 'p');
        return resp;
    });
    auto client = tarius::aws::make_socket_http_client();
    string_sink ok_sink;
    http_request get = make_request("GET", fake->url() + "/object");
    get.body_sink = &ok_sink;
    auto r = submit_and_wait(*client, get);
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(r->body_bytes, 300000u);
    EXPECT_EQ(ok_sink.data, std::string(300000, 'p'));
    string_sink error_sink;
    http_request missing = make_request("GET", fake->url() + "/missing");
    missing.body_sink = &error_sink;
    auto e = submit_and_wait(*client, missing);
    ASSERT_TRUE(e.has_value()) << e.err().message;
    EXPECT_EQ(e->status, 404);
    EXPECT_EQ(e->body, "<Error>NoSuchKey</Error>");
    EXPECT_TRUE(error_sink.data.empty());
}

TEST(socket_http, item_write_client_choice_follows_the_proxy_environment) {
    // Not observable through the interface beyond "it works": both choices must carry a request.
    auto fake = start_fake([](const fake_request&) {
        fake_response resp;
        resp.body = "ok";
        return resp;
    });
    tarius::aws::client_context context;
    context.region = "us-east-1";
    context.env = tarius::aws::map_environment({{"AWS_ENDPOINT_URL_DYNAMODB", fake->url()}});
    auto client = tarius::aws::make_item_write_http_client(http_options{}, context);
    auto r = submit_and_wait(*client, make_request("POST", fake->url() + "/", "{}"));
    ASSERT_TRUE(r.has_value()) << r.err().message;
    EXPECT_EQ(r->body, "ok");
}

// ---- TLS ----------------------------------------------------------------------------------------------------------

/// A CA, a second unrelated CA and a server certificate for localhost / 127.0.0.1 signed by the first, made by
/// the openssl command in a temporary directory.
class tls_material {
public:
    tls_material() {
        dir_ = std::filesystem::temp_directory_path() / ("socket_http_tls_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        const std::string d = dir_.string();
        const std::string script =
            "set -e; cd '" + d +
            "'; "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
            "-days 2 -subj /CN=tarius-test-ca -addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null; "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -out "
            "other.pem -days 2 -subj /CN=tarius-other-ca -addext basicConstraints=critical,CA:TRUE 2>/dev/null; "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
            "-subj /CN=localhost 2>/dev/null; "
            "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n"
            "extendedKeyUsage=serverAuth\\n' > ext.cnf; "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
            "-extfile ext.cnf 2>/dev/null; "
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout wrong.key -out wrong.csr "
            "-subj /CN=db.example.test 2>/dev/null; "
            "printf 'subjectAltName=DNS:db.example.test\\nbasicConstraints=CA:FALSE\\n' > wrong.cnf; "
            "openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrong.pem -days 2 "
            "-extfile wrong.cnf 2>/dev/null";
        ok_ = std::system(("bash -c \"" + escape(script) + "\"").c_str()) == 0;
    }
    ~tls_material() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] std::string path(const char* name) const { return (dir_ / name).string(); }

private:
    static std::string escape(const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
            out.push_back(c);
        }
        return out;
    }
    std::filesystem::path dir_;
    bool ok_ = false;
};

class tls_wire : public wire {
public:
    tls_wire(SSL* ssl) : ssl_(ssl) {}
    ~tls_wire() override {
        SSL_shutdown(ssl_);
        SSL_free(ssl_);
    }
    ssize_t read(char* buf, size_t len) override {
        size_t got = 0;
        if (SSL_read_ex(ssl_, buf, len, &got) != 1) return 0;
        return static_cast<ssize_t>(got);
    }
    bool write(std::string_view bytes) override {
        size_t put = 0;
        return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &put) == 1 && put == bytes.size();
    }

private:
    SSL* ssl_;
};

/// A keep-alive TLS echo server: answers "tls:<body>".
class tls_server {
public:
    explicit tls_server(const tls_material& m, const std::string& cert = "server") {
        ctx_ = SSL_CTX_new(TLS_server_method());
        EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, m.path((cert + ".pem").c_str()).c_str()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, m.path((cert + ".key").c_str()).c_str(), SSL_FILETYPE_PEM), 1);
        server_ = std::make_unique<script_server>(
            [](wire& w, int connection, bool&) {
                for (;;) {
                    std::string req = w.read_request();
                    if (req.empty()) return;
                    if (!w.write(answer("tls:" + body_of(req) + " on " + std::to_string(connection)))) return;
                }
            },
            [this](int fd) -> std::unique_ptr<wire> {
                SSL* ssl = SSL_new(ctx_);
                SSL_set_fd(ssl, fd);
                if (SSL_accept(ssl) != 1) {
                    ERR_clear_error();
                    SSL_free(ssl);
                    return nullptr;
                }
                return std::make_unique<tls_wire>(ssl);
            });
    }
    ~tls_server() {
        server_.reset();
        SSL_CTX_free(ctx_);
    }
    [[nodiscard]] std::string url(const char* host) const { return server_->url("https", host); }
    [[nodiscard]] int connections() const { return server_->connections(); }

private:
    SSL_CTX* ctx_ = nullptr;
    std::unique_ptr<script_server> server_;
};

TEST(socket_http, tls_round_trip_and_refused_certificates) {
    tls_material material;
    ASSERT_TRUE(material.ok()) << "the openssl command failed to make test certificates";
    tls_server server(material);
    {
        SCOPED_TRACE("trusted CA, by IP and by name (localhost may resolve to ::1 first: every address is tried)");
        http_options options;
        options.ca_bundle = material.path("ca.pem");
        auto client = tarius::aws::make_socket_http_client(options);
        for (const char* host : {"127.0.0.1", "localhost"}) {
            for (int idx = 0; idx < 3; ++idx) {
                std::string body =
                    std::string(host) + "#" + std::to_string(idx) + std::string(static_cast<size_t>(idx) * 100000, 'z');
                auto r = submit_and_wait(*client, make_request("POST", server.url(host) + "/x", body));
                ASSERT_TRUE(r.has_value()) << r.err().message;
                EXPECT_EQ(r->body.substr(0, 4 + body.size()), "tls:" + body);
            }
        }
        EXPECT_EQ(server.connections(), 2);  // one per origin, kept alive
    }
    struct refusal {
        const char* name;
        std::string ca;
        const char* host;
    };
    const std::vector<refusal> refusals = {
        {"unknown CA", material.path("other.pem"), "127.0.0.1"},
    };
    for (const refusal& c : refusals) {
        SCOPED_TRACE(c.name);
        http_options options;
        options.ca_bundle = c.ca;
        auto client = tarius::aws::make_socket_http_client(options);
        int calls = 0;
        auto r = submit_and_wait(*client, make_request("POST", server.url(c.host) + "/x", "b"), &calls);
        EXPECT_EQ(calls, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::NETWORK);
        EXPECT_FALSE(r.err().retryable) << r.err().message;
        EXPECT_NE(r.err().message.find("certificate"), std::string::npos) << r.err().message;
    }
}

TEST(socket_http, tls_hostname_mismatch_is_not_retryable) {
    tls_material material;
    ASSERT_TRUE(material.ok()) << "the openssl command failed to make test certificates";
    tls_server server(material, "wrong");  // a certificate from the trusted CA, for db.example.test only
    http_options options;
    options.ca_bundle = material.path("ca.pem");
    auto client = tarius::aws::make_socket_http_client(options);
    for (const char* host : {"127.0.0.1", "localhost"}) {
        SCOPED_TRACE(host);
        int calls = 0;
        auto r = submit_and_wait(*client, make_request("POST", server.url(host) + "/x", "b"), &calls);
        EXPECT_EQ(calls, 1);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.err().code, errc::NETWORK);
        EXPECT_FALSE(r.err().retryable) << r.err().message;
        EXPECT_NE(r.err().message.find("mismatch"), std::string::npos) << r.err().message;
    }
}

}  // namespace
