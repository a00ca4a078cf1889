/// The in-process HTTP/1.1 fake: a thread accepting on a loopback socket and one blocking thread per connection.
/// Simple on purpose: a test server must be obviously right more than it must be fast.

#include "fake/http_fake.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

namespace tarius::fake {
namespace {

constexpr size_t MAX_HEADER_BYTES = 1 << 20;
constexpr size_t READ_CHUNK = 64 * 1024;

/// One accepted connection. `fd` is guarded by `mutex` because stop() shuts it down from another thread while
/// the connection thread may be closing it.
struct connection {
    std::mutex mutex;
    int fd = -1;
    uint64_t id = 0;
    std::thread thread;
    std::atomic<bool> finished{false};
};

}  // namespace

using detail::iequals;

struct http_fake::state {
    mutable std::mutex mutex;  // guards handler, requests, connections, recording flags
    std::condition_variable stop_cv;
    std::shared_ptr<const handler> current_handler;
    std::vector<fake_request> recorded;
    bool record = true;
    bool record_bodies = true;
    std::list<std::unique_ptr<connection>> connections;
    std::atomic<bool> stopping{false};
    std::atomic<uint64_t> request_counter{0};
    std::atomic<uint64_t> connection_counter{0};
    int listen_fd = -1;
    int wake_pipe[2] = {-1, -1};
    uint16_t port = 0;
    std::thread acceptor;
    bool started = false;

    void accept_loop();
    void serve(connection* conn);
    /// Reads until `in` holds `need` bytes past `from`; false on EOF, error or stop.
    bool fill(int fd, std::string& in, size_t need);
    bool send_all(int fd, std::string_view data);
    /// Waits `delay` unless the server stops first; false when stopping.
    bool sleep_for(std::chrono::milliseconds delay);
    void close_conn(connection* conn, bool reset);
    void reap_finished();
};

bool http_fake::state::fill(int fd, std::string& in, size_t need) {
    char chunk[READ_CHUNK];
    while (in.size() < need) {
        ssize_t got = ::recv(fd, chunk, sizeof(chunk), 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        in.append(chunk, static_cast<size_t>(got));
    }
    return true;
}

bool http_fake::state::send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return false;
        data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
}

bool http_fake::state::sleep_for(std::chrono::milliseconds delay) {
    if (delay.count() <= 0) return !stopping;
    std::unique_lock<std::mutex> lock(mutex);
    stop_cv.wait_for(lock, delay, [this] { return stopping.load(); });
    return !stopping;
}

void http_fake::state::close_conn(connection* conn, bool reset) {
    std::lock_guard<std::mutex> lock(conn->mutex);
    if (conn->fd < 0) return;
    if (reset) {
        linger lin{};
        lin.l_onoff = 1;
        lin.l_linger = 0;  // close() now sends RST instead of FIN
        ::setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    } else {
        ::shutdown(conn->fd, SHUT_RDWR);
    }
    ::close(conn->fd);
    conn->fd = -1;
}

void http_fake::state::serve(connection* conn) {
    int fd = conn->fd;  // only this thread closes it, so the value stays valid until close_conn()
    std::string in;
    size_t start = 0;  // where the next request begins in `in`
    for (;;) {
        // Headers.
        size_t header_end = std::string::npos;
        for (;;) {
            header_end = in.find("\r\n\r\n", start);
            if (header_end != std::string::npos) break;
            if (in.size() - start > MAX_HEADER_BYTES) break;
            size_t before = in.size();
            if (!fill(fd, in, before + 1)) {
                close_conn(conn, false);
                return;
            }
        }
        if (header_end == std::string::npos) break;
        fake_request req;
        if (!detail::parse_request_head(std::string_view(in.data() + start, header_end - start), req)) break;
        size_t pos = header_end + 4;

        // Body: Content-Length or chunked.
        if (auto expect = req.header("Expect"); expect && iequals(*expect, "100-continue")) {
            if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
        }
        if (auto te = req.header("Transfer-Encoding"); te && iequals(*te, "chunked")) {
            for (;;) {
                size_t eol;
                while ((eol = in.find("\r\n", pos)) == std::string::npos) {
                    if (!fill(fd, in, in.size() + 1)) return close_conn(conn, false);
                }
                uint64_t size = std::strtoull(in.c_str() + pos, nullptr, 16);
                pos = eol + 2;
                if (!fill(fd, in, pos + size + 2)) return close_conn(conn, false);
                if (size == 0) {
                    // Trailers are not supported: expect the final CRLF right away.
                    pos += 2;
                    break;
                }
                req.body.append(in, pos, size);
                pos += size + 2;
            }
        } else if (auto cl = req.header("Content-Length")) {
            uint64_t length = std::strtoull(std::string(*cl).c_str(), nullptr, 10);
            if (!fill(fd, in, pos + length)) return close_conn(conn, false);
            req.body.assign(in, pos, length);
            pos += length;
        }
        req.body_bytes = req.body.size();
        req.connection_id = conn->id;
        req.sequence = request_counter.fetch_add(1);
        // Drop consumed bytes so a long keep-alive connection does not grow its buffer.
        in.erase(0, pos);
        start = 0;

        std::shared_ptr<const handler> h;
        {
            std::lock_guard<std::mutex> lock(mutex);
            h = current_handler;
        }
        fake_response resp = (h && *h) ? (*h)(req) : fake_response{};
        const detail::answer_shape shape = detail::shape_answer(req, resp);
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (record) {
                if (!record_bodies) req.body.clear();
                recorded.push_back(std::move(req));
            }
        }

        if (!sleep_for(resp.delay)) break;
        if (resp.action != fake_action::RESPOND) {
            close_conn(conn, resp.action == fake_action::RESET);
            return;
        }
        std::string out;
        out.reserve(256 + (resp.pattern_body_bytes > 0 ? 0 : shape.to_send));
        detail::append_response_head(out, resp, shape);
        const uint64_t to_send = shape.to_send;
        bool sent_ok = true;
        if (resp.pattern_body_bytes == 0) {
            out.append(resp.body, 0, to_send);
            sent_ok = send_all(fd, out);
        } else {
            sent_ok = send_all(fd, out);
            std::string chunk;
            for (uint64_t offset = 0; sent_ok && offset < to_send;) {
                size_t n = static_cast<size_t>(std::min<uint64_t>(READ_CHUNK, to_send - offset));
                chunk.resize(n);
                for (size_t idx = 0; idx < n; ++idx) chunk[idx] = pattern_byte(offset + idx);
                sent_ok = send_all(fd, chunk);
                offset += n;
            }
        }
        if (!sent_ok || shape.closing) break;
    }
    close_conn(conn, false);
}

void http_fake::state::reap_finished() {
    std::list<std::unique_ptr<connection>> done;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = connections.begin(); it != connections.end();) {
            if ((*it)->finished) {
                done.push_back(std::move(*it));
                it = connections.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& conn : done) conn->thread.join();
}

void http_fake::state::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
        int ready = ::poll(fds, 2, 1000);
        if (stopping) return;
        if (ready < 0 && errno != EINTR) return;
        reap_finished();
        if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        auto conn = std::make_unique<connection>();
        conn->fd = fd;
        conn->id = connection_counter.fetch_add(1) + 1;
        connection* raw = conn.get();
        std::lock_guard<std::mutex> lock(mutex);
        if (stopping) {
            ::close(fd);
            return;
        }
        raw->thread = std::thread([this, raw] {
            serve(raw);
            raw->finished = true;
        });
        connections.push_back(std::move(conn));
    }
}

http_fake::http_fake() : http_fake(handler{}) {}

http_fake::http_fake(handler h) : state_(std::make_shared<state>()) {
    state_->current_handler = std::make_shared<const handler>(std::move(h));
}

http_fake::~http_fake() {
    stop();
}

result<void> http_fake::start(uint16_t port) {
    state& s = *state_;
    TARIUS_ASSERT(!s.started);
    s.stopping = false;
    uint16_t bound_port = 0;
    auto listening = detail::listen_loopback(port, SOCK_CLOEXEC, bound_port);
    if (!listening) return std::move(listening).err();
    const int fd = *listening;
    if (::pipe2(s.wake_pipe, O_CLOEXEC) != 0) {
        ::close(fd);
        return make_error(errc::IO, std::string("pipe: ") + std::strerror(errno));
    }
    s.listen_fd = fd;
    s.port = bound_port;
    s.started = true;
    s.acceptor = std::thread([&s] { s.accept_loop(); });
    return ok();
}

void http_fake::stop() {
    state& s = *state_;
    if (!s.started) return;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.stopping = true;
    }
    s.stop_cv.notify_all();
    char byte = 1;
    [[maybe_unused]] ssize_t woke = ::write(s.wake_pipe[1], &byte, 1);
    if (s.acceptor.joinable()) s.acceptor.join();
    std::list<std::unique_ptr<connection>> all;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        all.swap(s.connections);
    }
    for (auto& conn : all) {
        std::lock_guard<std::mutex> lock(conn->mutex);
        if (conn->fd >= 0) ::shutdown(conn->fd, SHUT_RDWR);  // wakes a recv() blocked in the thread
    }
    for (auto& conn : all) conn->thread.join();
    ::close(s.listen_fd);
    ::close(s.wake_pipe[0]);
    ::close(s.wake_pipe[1]);
    s.listen_fd = s.wake_pipe[0] = s.wake_pipe[1] = -1;
    s.started = false;
}

uint16_t http_fake::port() const noexcept {
    return state_->port;
}

std::string http_fake::url() const {
    return "http://127.0.0.1:" + std::to_string(state_->port);
}

void http_fake::set_handler(handler h) {
    auto next = std::make_shared<const handler>(std::move(h));
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->current_handler = std::move(next);
}

void http_fake::set_record_bodies(bool keep) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->record_bodies = keep;
}

void http_fake::set_recording(bool on) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->record = on;
}

std::vector<fake_request> http_fake::requests() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->recorded;
}

uint64_t http_fake::request_count() const {
    return state_->request_counter.load();
}

uint64_t http_fake::connection_count() const {
    return state_->connection_counter.load();
}

void http_fake::clear_requests() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->recorded.clear();
}

}  // namespace tarius::fake
