/// The epoll HTTP/1.1 server: one thread, edge-triggered sockets, a min-heap of response delays.
///
/// A connection is a small state machine: READING (parse what arrived, read more only when a request is still
/// incomplete), WAITING (a delay timer is pending; nothing is read, so pipelined requests stay in the socket or
/// the buffer and are answered in order), WRITING (the answer drains; EAGAIN waits for EPOLLOUT). Edge-triggered
/// readiness is tracked in `may_read` / `may_write`: set by an edge, cleared by EAGAIN or a short read (the socket
/// was drained; any later arrival raises a new edge), so no epoll_ctl call is needed per request.

#include "fake/event_http_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

namespace tarius::fake {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr size_t MAX_HEADER_BYTES = 1 << 20;
constexpr size_t READ_CHUNK = 64 * 1024;
constexpr int MAX_EVENTS = 256;
constexpr int MAX_ACCEPTS_PER_WAKE = 64;
// epoll_event.data tags for the two fds that are not connections (a connection's tag is its address).
constexpr uint64_t LISTEN_TAG = 0;
constexpr uint64_t WAKE_TAG = 1;

enum class conn_phase : uint8_t {
    READING,   ///< parsing buffered bytes, reading more when a request is incomplete
    WAITING,   ///< the answer's delay timer is pending
    WRITING,   ///< the answer is being sent
    DRAINING,  ///< an error answer was sent and our side shut: discard input until the peer closes
};

enum class body_framing : uint8_t { NONE, LENGTH, CHUNKED };

enum class parse_outcome : uint8_t {
    COMPLETE,   ///< a whole request is in `connection::req`
    NEED_MORE,  ///< more bytes are needed
    REJECTED,   ///< an error answer is queued and the connection closes after it
};

struct connection {
    int fd = -1;
    uint64_t id = 0;
    conn_phase phase = conn_phase::READING;
    bool may_read = true;    // no EAGAIN or short read since the last EPOLLIN edge
    bool may_write = true;   // no EAGAIN since the last EPOLLOUT edge
    bool peer_fin = false;   // EPOLLRDHUP seen: a FIN is queued behind the data, so a short read is not the end
    bool peer_done = false;  // recv() returned 0: the peer sends nothing more
    std::string in;          // received bytes not yet consumed by a request
    size_t scanned = 0;      // bytes of `in` already searched for the end of the head
    // The request being received (its head parsed, its body perhaps still arriving).
    bool have_head = false;
    fake_request req;
    size_t body_start = 0;
    body_framing framing = body_framing::NONE;
    uint64_t content_length = 0;
    bool continue_sent = false;
    // The answer.
    fake_response resp;
    detail::answer_shape shape;
    clock_type::time_point due;
    std::string out;
    size_t out_sent = 0;
    bool close_when_sent = false;
    bool drain_when_sent = false;  // shut our side but read on, so unread input does not turn the FIN into a RST
};

struct timer {
    clock_type::time_point due;
    uint64_t conn_id = 0;
    bool operator>(const timer& other) const noexcept { return due > other.due; }
};

bool valid_version(std::string_view version) noexcept {
    return version == "HTTP/1.1" || version == "HTTP/1.0";
}

/// A Content-Length value: decimal digits only (no sign, no spaces inside), at most 18 of them.
bool parse_length(std::string_view text, uint64_t& out) noexcept {
    if (text.empty() || text.size() > 18) return false;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    out = value;
    return true;
}

}  // namespace

struct event_http_server::loop {
    handler answer;
    int epoll_fd = -1;
    int listen_fd = -1;
    int wake_fd = -1;
    uint16_t port = 0;
    std::atomic<uint64_t> request_counter{0};
    std::atomic<uint64_t> connection_counter{0};
    std::atomic<uint64_t> open_counter{0};
    std::unordered_map<uint64_t, std::unique_ptr<connection>> conns;
    std::priority_queue<timer, std::vector<timer>, std::greater<>> timers;
    std::vector<uint64_t> dead;  // connections closed during this batch of events, freed after it
    std::vector<char> scratch = std::vector<char>(READ_CHUNK);
    bool has_pwait2 = true;  // cleared when the kernel lacks epoll_pwait2
    clock_type::duration resolution{0};

    void run();
    int wait_for_events(std::vector<epoll_event>& events);
    void accept_all();
    void on_event(connection& c, uint32_t events);
    void fire_timers();
    void drive(connection& c);
    bool read_some(connection& c);
    bool flush(connection& c);
    parse_outcome parse(connection& c);
    parse_outcome reject(connection& c, int status, std::string_view why);
    void dispatch(connection& c);
    void act(connection& c);
    void close_conn(connection& c, bool reset);
    void close_all();
};

int event_http_server::loop::wait_for_events(std::vector<epoll_event>& events) {
    // epoll_pwait2 takes a nanosecond timeout: epoll_wait's milliseconds, rounded up, would answer a 5 ms delay up
    // to 1 ms late whenever no other event wakes the loop first. Kernels before 5.11 lack it (ENOSYS).
    if (timers.empty()) return ::epoll_wait(epoll_fd, events.data(), MAX_EVENTS, -1);
    const auto wait = std::max(timers.top().due - clock_type::now(), clock_type::duration::zero());
    if (has_pwait2) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
        timespec timeout{};
        timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        int ready = ::epoll_pwait2(epoll_fd, events.data(), MAX_EVENTS, &timeout, nullptr);
        if (ready >= 0 || errno != ENOSYS) return ready;
        has_pwait2 = false;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return ::epoll_wait(epoll_fd, events.data(), MAX_EVENTS, static_cast<int>(std::min<long long>(ms, INT_MAX)));
}

void event_http_server::loop::run() {
    std::vector<epoll_event> events(MAX_EVENTS);
    for (;;) {
        int ready = wait_for_events(events);
        if (ready < 0 && errno != EINTR) return;  // cannot happen with valid fds; stop() still joins
        bool stopping = false;
        for (int idx = 0; idx < ready; ++idx) {
            const uint64_t tag = events[static_cast<size_t>(idx)].data.u64;
            if (tag == WAKE_TAG) {
                stopping = true;
            } else if (tag == LISTEN_TAG) {
                accept_all();
            } else {
                on_event(*reinterpret_cast<connection*>(tag), events[static_cast<size_t>(idx)].events);
            }
        }
        if (stopping) return;
        fire_timers();
        for (uint64_t id : dead) conns.erase(id);
        dead.clear();
    }
}

void event_http_server::loop::accept_all() {
    for (int count = 0; count < MAX_ACCEPTS_PER_WAKE; ++count) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN: drained; EMFILE and kin: the listener stays readable and is retried next wake
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        auto conn = std::make_unique<connection>();
        conn->fd = fd;
        conn->id = connection_counter.fetch_add(1) + 1;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = reinterpret_cast<uint64_t>(conn.get());
        if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ::close(fd);
            continue;
        }
        open_counter.fetch_add(1);
        conns.emplace(conn->id, std::move(conn));
    }
}

void event_http_server::loop::on_event(connection& c, uint32_t events) {
    if (c.fd < 0) return;  // closed earlier in this batch
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
        // Reset by the peer (or both directions shut): nothing can be sent any more.
        close_conn(c, false);
        return;
    }
    if ((events & EPOLLRDHUP) != 0) c.peer_fin = true;
    if ((events & (EPOLLIN | EPOLLRDHUP)) != 0) c.may_read = true;
    if ((events & EPOLLOUT) != 0) c.may_write = true;
    drive(c);
}

void event_http_server::loop::fire_timers() {
    const auto now = clock_type::now();
    while (!timers.empty() && timers.top().due <= now) {
        const timer t = timers.top();
        timers.pop();
        auto it = conns.find(t.conn_id);
        if (it == conns.end()) continue;
        connection& c = *it->second;
        if (c.fd < 0 || c.phase != conn_phase::WAITING || c.due != t.due) continue;
        act(c);
        drive(c);
    }
}

void event_http_server::loop::drive(connection& c) {
    for (;;) {
        if (c.fd < 0) return;
        if (c.out_sent < c.out.size()) {
            if (!flush(c)) return;
            if (c.out_sent < c.out.size()) return;  // EPOLLOUT resumes
            c.out.clear();
            c.out_sent = 0;
            if (c.phase == conn_phase::WRITING) {
                if (c.drain_when_sent) {
                    ::shutdown(c.fd, SHUT_WR);
                    c.phase = conn_phase::DRAINING;
                } else if (c.close_when_sent) {
                    close_conn(c, false);
                    return;
                } else {
                    c.phase = conn_phase::READING;
                }
            }
        }
        if (c.phase == conn_phase::DRAINING) {
            c.in.clear();
            if (c.peer_done) {
                close_conn(c, false);
                return;
            }
            if (!c.may_read || !read_some(c)) return;
            continue;
        }
        if (c.phase != conn_phase::READING) return;
        const parse_outcome outcome = parse(c);
        if (outcome == parse_outcome::COMPLETE) {
            dispatch(c);
            continue;
        }
        if (outcome == parse_outcome::REJECTED || !c.out.empty()) continue;  // send the error or 100 Continue
        if (c.peer_done) {
            close_conn(c, false);  // an incomplete request (or none) and nothing more will come
            return;
        }
        if (!c.may_read) return;  // EPOLLIN resumes
        if (!read_some(c)) return;
    }
}

bool event_http_server::loop::read_some(connection& c) {
    ssize_t got = ::recv(c.fd, scratch.data(), scratch.size(), 0);
    if (got > 0) {
        c.in.append(scratch.data(), static_cast<size_t>(got));
        // A short read drained the socket: the next arrival raises a new edge. A FIN already signalled raises no
        // further edge, so then read on until recv() reports it.
        if (static_cast<size_t>(got) < scratch.size() && !c.peer_fin) c.may_read = false;
        return true;
    }
    if (got == 0) {
        c.peer_done = true;
        c.may_read = false;
        return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.may_read = false;
        return true;
    }
    if (errno == EINTR) return true;
    close_conn(c, false);
    return false;
}

bool event_http_server::loop::flush(connection& c) {
    while (c.out_sent < c.out.size() && c.may_write) {
        ssize_t sent = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (sent > 0) {
            c.out_sent += static_cast<size_t>(sent);
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c.may_write = false;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            close_conn(c, false);  // EPIPE, ECONNRESET: the peer is gone
            return false;
        }
    }
    return true;
}

parse_outcome event_http_server::loop::reject(connection& c, int status, std::string_view why) {
    fake_response resp;
    resp.status = status;
    resp.body = std::string(why) + "\n";
    resp.headers = {{"Content-Type", "text/plain"}};
    resp.close_after = true;
    const detail::answer_shape shape = detail::shape_answer(fake_request{}, resp);
    c.out.clear();
    c.out_sent = 0;
    detail::append_response_head(c.out, resp, shape);
    c.out.append(resp.body);
    c.close_when_sent = true;
    c.drain_when_sent = true;
    c.phase = conn_phase::WRITING;
    c.have_head = false;
    c.in.clear();
    return parse_outcome::REJECTED;
}

parse_outcome event_http_server::loop::parse(connection& c) {
    if (!c.have_head) {
        const size_t from = c.scanned > 3 ? c.scanned - 3 : 0;
        const size_t head_end = c.in.find("\r\n\r\n", from);
        if (head_end == std::string::npos) {
            c.scanned = c.in.size();
            if (c.in.size() > MAX_HEADER_BYTES) return reject(c, 431, "request head longer than 1 MiB");
            return parse_outcome::NEED_MORE;
        }
        c.req.body.clear();  // the other fields are all overwritten, reusing their capacity
        if (!detail::parse_request_head(std::string_view(c.in.data(), head_end), c.req) || c.req.method.empty() ||
            c.req.target.empty() || !valid_version(c.req.version)) {
            return reject(c, 400, "malformed request line (expected METHOD TARGET HTTP/1.x)");
        }
        c.have_head = true;
        c.body_start = head_end + 4;
        c.continue_sent = false;
        c.framing = body_framing::NONE;
        if (auto te = c.req.header("Transfer-Encoding")) {
            if (!detail::iequals(*te, "chunked")) return reject(c, 400, "unsupported Transfer-Encoding");
            c.framing = body_framing::CHUNKED;
        } else if (auto cl = c.req.header("Content-Length")) {
            if (!parse_length(*cl, c.content_length)) return reject(c, 400, "malformed Content-Length");
            c.framing = body_framing::LENGTH;
        }
    }
    size_t consumed = c.body_start;
    bool complete = true;
    if (c.framing == body_framing::LENGTH) {
        if (c.in.size() - c.body_start < c.content_length) {
            complete = false;
        } else {
            c.req.body.assign(c.in, c.body_start, c.content_length);
            consumed = c.body_start + c.content_length;
        }
    } else if (c.framing == body_framing::CHUNKED) {
        // Decoded again from the start as bytes arrive: quadratic, but chunked requests are rare here and small.
        size_t used = 0;
        const auto state = detail::decode_chunked(std::string_view(c.in).substr(c.body_start), c.req.body, used);
        if (state == detail::chunked_state::BAD) return reject(c, 400, "malformed chunked body");
        complete = state == detail::chunked_state::DONE;
        consumed = c.body_start + used;
    }
    if (!complete) {
        if (!c.continue_sent) {
            c.continue_sent = true;
            if (auto expect = c.req.header("Expect"); expect && detail::iequals(*expect, "100-continue")) {
                c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        return parse_outcome::NEED_MORE;
    }
    c.in.erase(0, consumed);
    c.scanned = 0;
    c.have_head = false;
    c.req.body_bytes = c.req.body.size();
    c.req.connection_id = c.id;
    c.req.sequence = request_counter.fetch_add(1);
    return parse_outcome::COMPLETE;
}

void event_http_server::loop::dispatch(connection& c) {
    c.resp = answer ? answer(c.req) : fake_response{};
    c.shape = detail::shape_answer(c.req, c.resp);
    if (c.resp.delay.count() > 0) {
        c.phase = conn_phase::WAITING;
        c.due = clock_type::now() + c.resp.delay;
        if (resolution.count() > 0) {
            // Round to the nearest step of the grid: unbiased, and every answer of a step shares one deadline.
            const auto since_epoch = c.due.time_since_epoch();
            c.due = clock_type::time_point((since_epoch + resolution / 2) / resolution * resolution);
        }
        timers.push(timer{c.due, c.id});
        return;
    }
    act(c);
}

void event_http_server::loop::act(connection& c) {
    if (c.resp.action != fake_action::RESPOND) {
        close_conn(c, c.resp.action == fake_action::RESET);
        return;
    }
    c.out.clear();
    c.out_sent = 0;
    detail::append_response_head(c.out, c.resp, c.shape);
    if (c.resp.pattern_body_bytes > 0) {
        const size_t head = c.out.size();
        c.out.resize(head + c.shape.to_send);
        for (uint64_t offset = 0; offset < c.shape.to_send; ++offset) c.out[head + offset] = pattern_byte(offset);
    } else {
        c.out.append(c.resp.body, 0, c.shape.to_send);
    }
    c.close_when_sent = c.shape.closing;
    c.phase = conn_phase::WRITING;
    c.resp.body.clear();
}

void event_http_server::loop::close_conn(connection& c, bool reset) {
    if (c.fd < 0) return;
    if (reset) {
        linger lin{};
        lin.l_onoff = 1;
        lin.l_linger = 0;  // close() now sends RST instead of FIN
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    } else {
        ::shutdown(c.fd, SHUT_RDWR);
    }
    ::close(c.fd);  // also leaves the epoll set: the fd is not duplicated
    c.fd = -1;
    open_counter.fetch_sub(1);
    dead.push_back(c.id);
}

void event_http_server::loop::close_all() {
    for (auto& [id, conn] : conns) close_conn(*conn, false);
    conns.clear();
    dead.clear();
    timers = {};
    for (int* fd : {&listen_fd, &wake_fd, &epoll_fd}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

event_http_server::event_http_server(handler h) : loop_(std::make_unique<loop>()) {
    loop_->answer = std::move(h);
}

event_http_server::~event_http_server() {
    stop();
}

void event_http_server::set_timer_resolution(std::chrono::microseconds resolution) {
    TARIUS_ASSERT(!started_);
    loop_->resolution = std::max(resolution, std::chrono::microseconds(0));
}

result<void> event_http_server::start(uint16_t port) {
    TARIUS_ASSERT(!started_);
    loop& lp = *loop_;
    auto fail = [&lp](const char* what) {
        std::string why = std::string(what) + ": " + std::strerror(errno);
        lp.close_all();
        return make_error(errc::IO, why);
    };
    lp.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (lp.epoll_fd < 0) return fail("epoll_create1");
    lp.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lp.wake_fd < 0) return fail("eventfd");
    auto listening = detail::listen_loopback(port, SOCK_NONBLOCK | SOCK_CLOEXEC, lp.port);
    if (!listening) {
        lp.close_all();
        return std::move(listening).err();
    }
    lp.listen_fd = *listening;
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: accept_all() takes at most a batch per wake
    ev.data.u64 = LISTEN_TAG;
    if (::epoll_ctl(lp.epoll_fd, EPOLL_CTL_ADD, lp.listen_fd, &ev) != 0) return fail("epoll_ctl(listener)");
    ev.data.u64 = WAKE_TAG;
    if (::epoll_ctl(lp.epoll_fd, EPOLL_CTL_ADD, lp.wake_fd, &ev) != 0) return fail("epoll_ctl(eventfd)");
    started_ = true;
    thread_ = std::thread([&lp] { lp.run(); });
    return ok();
}

void event_http_server::stop() {
    if (!started_) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t woke = ::write(loop_->wake_fd, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    loop_->close_all();
    started_ = false;
}

uint16_t event_http_server::port() const noexcept {
    return loop_->port;
}

std::string event_http_server::url() const {
    return "http://127.0.0.1:" + std::to_string(loop_->port);
}

uint64_t event_http_server::request_count() const noexcept {
    return loop_->request_counter.load();
}

uint64_t event_http_server::connection_count() const noexcept {
    return loop_->connection_counter.load();
}

uint64_t event_http_server::open_connections() const noexcept {
    return loop_->open_counter.load();
}

}  // namespace tarius::fake
