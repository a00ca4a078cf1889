/// Tests of the epoll test server (tests/fake/event_http_server) through plain loopback sockets, so every byte on
/// the wire is visible: keep-alive, pipelining, delays as timers, faults, back-pressure, malformed input, stop().

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "fake/event_http_server.hpp"

namespace {

using namespace std::chrono_literals;
using tarius::fake::event_http_server;
using tarius::fake::fake_action;
using tarius::fake::fake_request;
using tarius::fake::fake_response;

/// Requests seen by a handler (which runs on the server's loop thread).
class request_log {
public:
    void add(const fake_request& req) {
        std::lock_guard<std::mutex> lock(mutex_);
        seen_.push_back(req);
    }
    std::vector<fake_request> all() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return seen_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<fake_request> seen_;
};

std::unique_ptr<event_http_server> start_server(event_http_server::handler h) {
    auto server = std::make_unique<event_http_server>(std::move(h));
    auto started = server->start();
    EXPECT_TRUE(started.has_value()) << started.err().message;
    return server;
}

/// A blocking client socket with a receive buffer that survives between responses.
struct client {
    int fd = -1;
    std::string buf;

    explicit client(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
        timeval limit{};
        limit.tv_sec = 20;  // a hung server fails the test instead of hanging it
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    }
    ~client() {
        if (fd >= 0) ::close(fd);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    void send(std::string_view bytes) const {
        while (!bytes.empty()) {
            ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            ASSERT_GT(sent, 0) << std::strerror(errno);
            bytes.remove_prefix(static_cast<size_t>(sent));
        }
    }

    /// Reads once into `buf`; the recv() result (0 at EOF, -1 with errno on error).
    ssize_t read_more() {
        char chunk[65536];
        ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
        if (got > 0) buf.append(chunk, static_cast<size_t>(got));
        return got;
    }

    /// One whole response (head and, unless `head_only` as for HEAD, the Content-Length body), or what arrived
    /// before EOF.
    std::string response(bool head_only = false) {
        size_t head_end;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
            if (read_more() <= 0) return std::exchange(buf, {});
        }
        size_t length = 0;
        if (size_t at = buf.find("Content-Length: "); !head_only && at != std::string::npos && at < head_end) {
            length = std::strtoull(buf.c_str() + at + 16, nullptr, 10);
        }
        const size_t total = head_end + 4 + length;
        while (buf.size() < total) {
            if (read_more() <= 0) return std::exchange(buf, {});
        }
        std::string out = buf.substr(0, total);
        buf.erase(0, total);
        return out;
    }

    /// Everything until the server closes; `error` receives errno when the connection is reset instead.
    std::string until_eof(int* error = nullptr) {
        for (;;) {
            ssize_t got = read_more();
            if (got == 0) break;
            if (got < 0) {
                if (error != nullptr) *error = errno;
                break;
            }
        }
        return std::exchange(buf, {});
    }
};

std::string body_of(const std::string& response) {
    size_t head_end = response.find("\r\n\r\n");
    return head_end == std::string::npos ? std::string() : response.substr(head_end + 4);
}

size_t open_fd_count() {
    size_t n = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n;
}

/// Waits (at most 10 s) until `done` holds; the test fails on its own assertion if it never does.
template <typename F>
void wait_until(F done) {
    for (int tries = 0; tries < 1000 && !done(); ++tries) std::this_thread::sleep_for(10ms);
}

TEST(event_http_server, keep_alive_reuses_one_connection) {
    request_log log;
    auto server = start_server([&log](const fake_request& req) {
        log.add(req);
        fake_response resp;
        resp.status = req.path == "/missing" ? 404 : 200;
        resp.headers = {{"X-Echo", req.method}};
        resp.body = "body of " + req.path;
        return resp;
    });
    client c(server->port());
    c.send("GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string first = c.response();
    EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
    EXPECT_NE(first.find("X-Echo: GET\r\n"), std::string::npos) << first;
    EXPECT_NE(first.find("Content-Length: 12\r\n"), std::string::npos) << first;
    EXPECT_EQ(body_of(first), "body of /one");
    c.send("POST /missing?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    std::string second = c.response();
    EXPECT_EQ(second.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << second;
    EXPECT_EQ(second.find("Connection: close"), std::string::npos) << second;
    c.send("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string head = c.response(true);  // Content-Length announces 10 bytes that HEAD does not carry
    EXPECT_NE(head.find("Content-Length: 10\r\n"), std::string::npos) << head;
    EXPECT_EQ(body_of(head), "");
    c.send("GET /after-head HTTP/1.1\r\n\r\n");
    EXPECT_EQ(body_of(c.response()), "body of /after-head");

    auto seen = log.all();
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[1].method, "POST");
    EXPECT_EQ(seen[1].path, "/missing");
    EXPECT_EQ(seen[1].query, "x=1");
    EXPECT_EQ(seen[1].body, "hello");
    EXPECT_EQ(seen[1].body_bytes, 5u);
    EXPECT_EQ(seen[1].header("content-length").value_or(""), "5");
    for (size_t idx = 0; idx < seen.size(); ++idx) {
        EXPECT_EQ(seen[idx].connection_id, 1u);
        EXPECT_EQ(seen[idx].sequence, idx);
    }
    EXPECT_EQ(server->connection_count(), 1u);
    EXPECT_EQ(server->request_count(), 4u);
}

TEST(event_http_server, pipelined_requests_are_answered_in_order) {
    request_log log;
    auto server = start_server([&log](const fake_request& req) {
        log.add(req);
        fake_response resp;
        resp.body = req.method + " " + req.path + " [" + req.body + "]";
        // The first answer waits: the second must still come after it.
        if (req.path == "/a") resp.delay = 50ms;
        resp.close_after = req.path == "/last";
        return resp;
    });
    client c(server->port());
    c.send(
        "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n"
        "Trailer-Field: t\r\n\r\n"
        "GET http://example.test/b/c?y=2 HTTP/1.1\r\nHost: example.test\r\n\r\n"
        "PUT /last HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
    std::string all = c.until_eof();
    size_t a = all.find("POST /a [hello world]");
    size_t b = all.find("GET /b/c []");
    size_t last = all.find("PUT /last [abc]");
    ASSERT_NE(a, std::string::npos) << all;
    ASSERT_NE(b, std::string::npos) << all;
    ASSERT_NE(last, std::string::npos) << all;
    EXPECT_LT(a, b);
    EXPECT_LT(b, last);
    EXPECT_NE(all.find("Connection: close"), std::string::npos) << all;
    auto seen = log.all();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].query, "x=1");
    EXPECT_EQ(seen[0].body_bytes, 11u);
    EXPECT_EQ(seen[1].target, "http://example.test/b/c?y=2");
    EXPECT_EQ(seen[1].query, "y=2");
    EXPECT_EQ(seen[2].sequence, 2u);
}

TEST(event_http_server, bodies_arriving_in_pieces_and_expect_continue) {
    request_log log;
    auto server = start_server([&log](const fake_request& req) {
        log.add(req);
        fake_response resp;
        resp.body = req.body;
        return resp;
    });
    client c(server->port());
    // Each piece is a separate recv() on the server (the pauses let it drain the socket in between).
    for (std::string_view piece :
         {"POST /p HTTP/1.1\r\nHo", "st: h\r\nContent-Len", "gth: 10\r\n", "\r\n01234", "56789"}) {
        c.send(piece);
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(body_of(c.response()), "0123456789");
    c.send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
    std::this_thread::sleep_for(5ms);
    c.send("c\r\n0\r\n");
    std::this_thread::sleep_for(5ms);
    c.send("\r\n");
    EXPECT_EQ(body_of(c.response()), "abc");
    c.send("PUT /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.response(), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send("data");
    EXPECT_EQ(body_of(c.response()), "data");
    ASSERT_EQ(log.all().size(), 3u);
}

TEST(event_http_server, a_short_delay_on_another_connection_is_answered_first) {
    auto server = start_server([](const fake_request& req) {
        fake_response resp;
        resp.body = req.path;
        resp.delay = req.path == "/slow" ? 1500ms : 10ms;
        return resp;
    });
    client slow(server->port());
    client fast(server->port());
    slow.send("GET /slow HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(20ms);  // the slow request is received first
    fast.send("GET /fast HTTP/1.1\r\n\r\n");
    pollfd fds[2] = {{slow.fd, POLLIN, 0}, {fast.fd, POLLIN, 0}};
    ASSERT_EQ(::poll(fds, 2, 20000), 1);
    EXPECT_EQ(fds[0].revents, 0) << "the 1.5 s answer came before the 10 ms one";
    EXPECT_NE(fds[1].revents & POLLIN, 0);
    EXPECT_EQ(body_of(fast.response()), "/fast");
    EXPECT_EQ(body_of(slow.response()), "/slow");
}

TEST(event_http_server, delays_on_a_coarse_grid_still_answer_in_order) {
    auto server = std::make_unique<event_http_server>([](const fake_request& req) {
        fake_response resp;
        resp.body = req.path;
        resp.delay = req.path == "/none" ? 0ms : 3ms;
        return resp;
    });
    server->set_timer_resolution(50ms);  // every delayed answer lands on a 50 ms step: early, late or on time
    ASSERT_TRUE(server->start().has_value());
    client c(server->port());
    c.send("GET /a HTTP/1.1\r\n\r\nGET /none HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    EXPECT_EQ(body_of(c.response()), "/a");
    EXPECT_EQ(body_of(c.response()), "/none");
    EXPECT_EQ(body_of(c.response()), "/b");
}

TEST(event_http_server, truncate_announces_the_full_length_then_closes) {
    auto server = start_server([](const fake_request&) {
        fake_response resp;
        resp.body = "0123456789";
        resp.truncate_after = 4;
        return resp;
    });
    client c(server->port());
    c.send("GET /t HTTP/1.1\r\n\r\n");
    std::string all = c.until_eof();
    EXPECT_NE(all.find("Content-Length: 10\r\n"), std::string::npos) << all;
    EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
    EXPECT_EQ(body_of(all), "0123");
}

TEST(event_http_server, close_and_reset_send_no_answer) {
    auto server = start_server([](const fake_request& req) {
        fake_response resp;
        if (req.path == "/close") resp.action = fake_action::CLOSE;
        if (req.path == "/reset") resp.action = fake_action::RESET;
        if (req.path == "/late-reset") {
            resp.action = fake_action::RESET;
            resp.delay = 20ms;
        }
        return resp;
    });
    {
        client c(server->port());
        c.send("GET /close HTTP/1.1\r\n\r\n");
        int error = 0;
        EXPECT_EQ(c.until_eof(&error), "");
        EXPECT_EQ(error, 0) << "FIN expected, got " << std::strerror(error);
    }
    for (const char* path : {"/reset", "/late-reset"}) {
        client c(server->port());
        c.send(std::string("GET ") + path + " HTTP/1.1\r\n\r\n");
        int error = 0;
        EXPECT_EQ(c.until_eof(&error), "");
        EXPECT_EQ(error, ECONNRESET) << path;
    }
    wait_until([&] { return server->open_connections() == 0; });
    EXPECT_EQ(server->open_connections(), 0u);
}

TEST(event_http_server, close_after_and_http_1_0_end_the_connection) {
    auto server = start_server([](const fake_request& req) {
        fake_response resp;
        resp.body = "x";
        resp.close_after = req.path == "/bye";
        return resp;
    });
    for (const char* wire :
         {"GET /bye HTTP/1.1\r\n\r\n", "GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"}) {
        client c(server->port());
        c.send(wire);
        std::string all = c.until_eof();
        EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << wire;
        EXPECT_EQ(body_of(all), "x") << wire;
    }
}

TEST(event_http_server, a_large_answer_drains_while_other_connections_are_served) {
    constexpr uint64_t BIG = 32u << 20;  // far more than a loopback socket buffers: needs EPOLLOUT
    auto server = start_server([](const fake_request& req) {
        fake_response resp;
        if (req.path == "/big") {
            resp.pattern_body_bytes = BIG;
        } else {
            resp.body = "small";
        }
        return resp;
    });
    client big(server->port());
    big.send("GET /big HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(50ms);  // the server fills the socket and waits for EPOLLOUT
    {
        client other(server->port());
        other.send("GET /small HTTP/1.1\r\n\r\n");
        EXPECT_EQ(body_of(other.response()), "small");
    }
    std::string answer = big.response();
    std::string body = body_of(answer);
    ASSERT_EQ(body.size(), BIG) << answer.substr(0, 200);
    size_t wrong = 0;
    for (uint64_t offset = 0; offset < BIG; ++offset) wrong += body[offset] != tarius::fake::pattern_byte(offset);
    EXPECT_EQ(wrong, 0u);
    big.send("GET /small HTTP/1.1\r\n\r\n");  // the connection is still usable
    EXPECT_EQ(body_of(big.response()), "small");
}

TEST(event_http_server, malformed_requests_get_400_and_close) {
    request_log log;
    auto server = start_server([&log](const fake_request& req) {
        log.add(req);
        return fake_response{};
    });
    for (const char* wire :
         {"garbage\r\n\r\n", "GET /x HTTP/2.0\r\n\r\n", "GET /x FTP\r\n\r\n",
          "POST /x HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
          "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
          "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"}) {
        client c(server->port());
        c.send(wire);
        std::string all = c.until_eof();
        EXPECT_EQ(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << wire << " -> " << all;
        EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << wire;
    }
    {
        client c(server->port());
        c.send("GET / HTTP/1.1\r\nX-Long: " + std::string(1100 * 1024, 'a'));
        std::string all = c.until_eof();
        EXPECT_EQ(all.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << all.substr(0, 100);
    }
    EXPECT_TRUE(log.all().empty());
    // A good request after the bad ones is still served.
    client c(server->port());
    c.send("GET /ok HTTP/1.1\r\n\r\n");
    EXPECT_EQ(c.response().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(event_http_server, peers_that_leave_early_are_forgotten) {
    request_log log;
    auto server = start_server([&log](const fake_request& req) {
        log.add(req);
        fake_response resp;
        resp.delay = 30ms;
        return resp;
    });
    {
        client half_head(server->port());
        half_head.send("GET /x HTTP/1.1\r\nHost:");
    }
    {
        client half_body(server->port());
        half_body.send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly a few");
    }
    {
        client gone_while_waiting(server->port());
        gone_while_waiting.send("GET /waiting HTTP/1.1\r\n\r\n");
        std::this_thread::sleep_for(5ms);
    }
    {
        // Half-closed after a whole request: the answer still comes.
        client c(server->port());
        c.send("GET /half-closed HTTP/1.1\r\n\r\n");
        ::shutdown(c.fd, SHUT_WR);
        std::string all = c.until_eof();
        EXPECT_EQ(all.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << all;
    }
    wait_until([&] { return server->open_connections() == 0; });
    EXPECT_EQ(server->open_connections(), 0u);
    EXPECT_EQ(server->connection_count(), 4u);
    auto seen = log.all();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].path, "/waiting");
    EXPECT_EQ(seen[1].path, "/half-closed");
}

TEST(event_http_server, stop_closes_connections_and_drops_pending_timers) {
    const size_t fds_before = open_fd_count();
    auto server = start_server([](const fake_request&) {
        fake_response resp;
        resp.delay = 60s;
        return resp;
    });
    client waiting(server->port());
    client idle(server->port());
    waiting.send("GET /never HTTP/1.1\r\n\r\n");
    wait_until([&] { return server->request_count() == 1; });
    ASSERT_EQ(server->request_count(), 1u);
    server->stop();
    int error = 0;
    EXPECT_EQ(waiting.until_eof(&error), "");
    EXPECT_EQ(idle.until_eof(&error), "");
    server->stop();  // twice is fine
    server.reset();
    EXPECT_EQ(open_fd_count(), fds_before + 2) << "the server left fds open (the 2 are the test's clients)";
}

TEST(event_http_server, many_connections_at_once) {
    auto server = start_server([](const fake_request& req) {
        fake_response resp;
        resp.body = req.path;
        resp.delay = 5ms;
        return resp;
    });
    constexpr int CONNECTIONS = 300;
    std::vector<std::unique_ptr<client>> clients;
    for (int idx = 0; idx < CONNECTIONS; ++idx) clients.push_back(std::make_unique<client>(server->port()));
    for (int round = 0; round < 3; ++round) {
        for (int idx = 0; idx < CONNECTIONS; ++idx) {
            clients[static_cast<size_t>(idx)]->send("GET /" + std::to_string(idx) + " HTTP/1.1\r\n\r\n");
        }
        for (int idx = 0; idx < CONNECTIONS; ++idx) {
            EXPECT_EQ(body_of(clients[static_cast<size_t>(idx)]->response()), "/" + std::to_string(idx));
        }
    }
    EXPECT_EQ(server->connection_count(), static_cast<uint64_t>(CONNECTIONS));
    EXPECT_EQ(server->request_count(), 3u * CONNECTIONS);
}

}  // namespace
