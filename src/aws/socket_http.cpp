/// The socket transport (see socket_http.hpp).
///
/// Life of a request: submit() validates it, finds its origin (scheme, host, port) and queues it; dispatch()
/// hands the head of the queue to an idle connection of that origin (the most recently used first), or opens a
/// new one when fewer than max_connections are open. A connection carries one request at a time: CONNECTING,
/// (HANDSHAKE for https,) SENDING, RECEIVING, then IDLE again or closed. Sockets are registered once with epoll,
/// edge-triggered for input and output, so nothing is re-armed per request; each handler reads or writes until
/// the kernel says EAGAIN (or a short read shows the socket drained).
///
/// Matching answers to requests: a connection is reused only after a complete answer that left no extra byte
/// behind, and an idle connection that receives anything is closed. A request that met EOF or a reset before
/// any answer byte is never sent again here (libcurl would, once, on a reused connection): the server may have
/// applied it, and only the caller can tell what a second send means (the loader counts a conditional write
/// sent twice apart), so it ends as a retryable NETWORK error.
///
/// Connections closed while an epoll batch is being handled are freed only after the batch (reap()), because a
/// later event of the same batch may still point at them.

#include "aws/socket_http.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "aws/curl_http.hpp"
#include "aws/http1_parser.hpp"
#include "aws/http_url.hpp"
#include "aws/proxy_env.hpp"
#include "aws/tls_stream.hpp"
#include "tarius/aws/endpoints.hpp"
#include "tarius/text.hpp"

namespace tarius::aws {
namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

constexpr time_point NEVER = time_point::max();
// Keep-alive probes as in the libcurl transport: a pooled connection a NAT dropped silently is noticed.
constexpr int TCP_KEEPIDLE_S = 30;
constexpr int TCP_KEEPINTVL_S = 15;
constexpr size_t READ_BUFFER_BYTES = size_t{64} * 1024;
// A TLS request body up to this size is copied behind the head: one record, one SSL_write.
constexpr size_t TLS_COALESCE_BYTES = size_t{64} * 1024;
// Resolved addresses of an origin are reused for this long by new connections.
constexpr std::chrono::seconds DNS_CACHE_TTL{60};
// After a failed lookup with addresses still known, the next lookup comes this soon.
constexpr std::chrono::seconds DNS_RETRY_AFTER_FAILURE{5};
// libcurl's default CURLOPT_MAXAGE_CONN: an idle connection older than this is closed instead of reused.
constexpr std::chrono::seconds MAX_IDLE_AGE{118};
// libcurl's default when no connect timeout is set.
constexpr std::chrono::milliseconds DEFAULT_CONNECT_TIMEOUT{300000};

/// Header text must not smuggle a second header or request line into the stream (as in the libcurl transport).
bool header_text_ok(std::string_view s, bool is_name) {
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') return false;
        if (is_name && (c == ':' || c == ' ' || c == '\t')) return false;
    }
    return true;
}

/// A request-target tail (after the authority) that can go on the request line as it is.
bool target_ok(std::string_view tail) {
    for (char c : tail) {
        if (c == ' ' || c == '\r' || c == '\n' || c == '\0' || c == '\t') return false;
    }
    return true;
}

struct connection;

/// One scheme + host + port: its idle connections and resolved addresses.
struct origin {
    detail::http_url url;               // host, port, scheme (target unused)
    std::string host_header;            // "host[:port]"
    std::vector<std::string> prefixes;  // URL prefixes seen for it ("http://127.0.0.1:8000"), matched as given
    std::vector<connection*> idle;      // most recently used last
    std::vector<sockaddr_storage> addresses;
    std::vector<socklen_t> address_lengths;
    time_point resolved_at{};
};

/// A request from submit() to its completion.
struct pending {
    http_request request;
    http_callback done;
    origin* org = nullptr;
    std::string_view tail;  // path?query as given, into request.url (may be empty or start with '?')
    time_point deadline = NEVER;
    bool stall_only = false;  // timeout -1: the deadline moves with every byte received
    http_response response;
};

enum class phase : uint8_t { CONNECTING, HANDSHAKE, SENDING, RECEIVING, IDLE, CLOSED };

struct connection {
    int fd = -1;
    origin* org = nullptr;
    phase state = phase::CONNECTING;
    std::unique_ptr<detail::tls_stream> tls;
    std::unique_ptr<pending> req;
    std::string out;  // the request head (and a small TLS body), capacity kept between requests
    size_t sent = 0;  // bytes of head + body written
    bool body_in_out = false;
    detail::http1_parser parser;
    time_point connect_deadline = NEVER;
    time_point idle_since{};
    size_t address_idx = 0;
    int connect_errno = 0;
};

/// A finished request waiting for its callback to run.
struct completion {
    http_callback done;
    result<http_response> outcome;
};

std::string describe(const http_request& req) {
    return req.method + " " + detail::redact_url(req.url) + ": ";
}

class socket_http_client final : public http_client {
public:
    explicit socket_http_client(const http_options& options)
        : options_(options),
          max_connections_(std::max<size_t>(options.max_connections, 1)),
          connect_timeout_(options.connect_timeout.count() > 0 ? options.connect_timeout : DEFAULT_CONNECT_TIMEOUT),
          read_buffer_(new char[READ_BUFFER_BYTES]) {
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) init_errno_ = errno;
    }

    socket_http_client(const socket_http_client&) = delete;
    socket_http_client& operator=(const socket_http_client&) = delete;

    ~socket_http_client() override {
        closing_ = true;
        // Every callback runs exactly once: requests still queued or on a connection end as CANCELLED.
        std::vector<completion> batch;
        for (completion& c : ready_) batch.push_back(std::move(c));
        ready_.clear();
        for (std::unique_ptr<pending>& p : queue_) batch.push_back(cancelled(*p));
        queue_.clear();
        for (std::unique_ptr<connection>& conn : conns_) {
            if (conn->req) batch.push_back(cancelled(*conn->req));
            conn->req.reset();
            conn->tls.reset();
            if (conn->fd >= 0) ::close(conn->fd);
            conn->fd = -1;
        }
        for (completion& c : batch) {
            if (c.done) c.done(std::move(c.outcome));
        }
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
    }

    result<http_response> perform(http_request request) override {
        std::call_once(sync_once_, [this] { sync_ = make_curl_http_client(options_); });
        return sync_->perform(std::move(request));
    }

    void submit(http_request request, http_callback done) override {
        if (closing_) {
            done(make_error(errc::CANCELLED, "HTTP client is being destroyed"));
            return;
        }
        std::unique_ptr<pending> p = take_pending();
        p->request = std::move(request);
        p->done = std::move(done);
        if (result<void> valid = admit(*p); !valid) {
            ready_.push_back(completion{std::move(p->done), std::move(valid).err()});
            recycle(std::move(p));
            return;
        }
        const http_request& req = p->request;
        const time_point now = clock_type::now();
        const std::chrono::milliseconds timeout = req.timeout.count() == 0 ? options_.request_timeout : req.timeout;
        if (timeout.count() > 0) {
            p->deadline = now + timeout;
        } else if (timeout.count() < 0 && options_.request_timeout.count() > 0) {
            // No deadline for the whole request, but a stall as long as the default timeout still ends it.
            p->stall_only = true;
            p->deadline = now + options_.request_timeout;
        }
        next_check_ = std::min(next_check_, p->deadline);
        ++outstanding_;
        queue_.push_back(std::move(p));
        dispatch();
    }

    size_t poll(std::chrono::milliseconds wait) override {
        drive(wait);
        deliver();
        return outstanding_ + ready_.size();
    }

private:
    // ---- submission -------------------------------------------------------------------------------------------

    std::unique_ptr<pending> take_pending() {
        if (spare_.empty()) return std::make_unique<pending>();
        std::unique_ptr<pending> p = std::move(spare_.back());
        spare_.pop_back();
        return p;
    }

    void recycle(std::unique_ptr<pending> p) {
        if (spare_.size() >= max_connections_) return;
        p->request = http_request{};
        p->done = nullptr;
        p->org = nullptr;
        p->tail = {};
        p->deadline = NEVER;
        p->stall_only = false;
        p->response = http_response{};
        spare_.push_back(std::move(p));
    }

    /// Checks the request and finds its origin; errors are INVALID_ARGUMENT, nothing is sent.
    result<void> admit(pending& p) {
        const http_request& req = p.request;
        if (epoll_fd_ < 0) {
            return make_error(errc::INTERNAL, std::string("epoll_create1: ") + std::strerror(init_errno_));
        }
        if (req.method.empty() || !header_text_ok(req.method, true)) {
            return make_error(errc::INVALID_ARGUMENT, "invalid HTTP method");
        }
        // Without a Content-Length its bytes would reach the server as the start of another request.
        if (req.method == "HEAD" && !req.body.empty()) {
            return make_error(errc::INVALID_ARGUMENT, "a HEAD request carries no body");
        }
        for (const http_header& h : req.headers) {
            if (h.name.empty() || !header_text_ok(h.name, true) || !header_text_ok(h.value, false)) {
                return make_error(errc::INVALID_ARGUMENT,
                                  "invalid HTTP header name or value (header '" +
                                      (header_text_ok(h.name, true) ? h.name : std::string("?")) + "')");
            }
        }
        const std::string& url = req.url;
        // Fast path: a URL prefix seen before (every request of a writer shares one).
        for (const std::unique_ptr<origin>& o : origins_) {
            for (const std::string& prefix : o->prefixes) {
                if (url.size() >= prefix.size() && url.compare(0, prefix.size(), prefix) == 0 &&
                    (url.size() == prefix.size() || url[prefix.size()] == '/' || url[prefix.size()] == '?' ||
                     url[prefix.size()] == '#')) {
                    std::string_view tail = std::string_view(url).substr(prefix.size());
                    tail = tail.substr(0, tail.find('#'));
                    if (!target_ok(tail)) {
                        return make_error(errc::INVALID_ARGUMENT,
                                          "invalid URL " + detail::redact_url(url) + ": control character in the path");
                    }
                    p.org = o.get();
                    p.tail = tail;
                    return ok();
                }
            }
        }
        TARIUS_ASSIGN_OR_RETURN(detail::http_url parsed, detail::parse_http_url(url));
        const size_t scheme_end = url.find("://") + 3;
        const size_t authority_end = url.find_first_of("/?#", scheme_end);
        std::string prefix = url.substr(0, authority_end);
        const std::string key = parsed.origin();
        origin* found = nullptr;
        for (const std::unique_ptr<origin>& o : origins_) {
            if (o->url.origin() == key) found = o.get();
        }
        if (found == nullptr) {
            auto o = std::make_unique<origin>();
            o->host_header = parsed.host_header();
            o->url = std::move(parsed);
            found = o.get();
            origins_.push_back(std::move(o));
        }
        if (found->prefixes.size() < 8) found->prefixes.push_back(prefix);
        std::string_view tail = std::string_view(url).substr(std::min(authority_end, url.size()));
        p.org = found;
        p.tail = tail.substr(0, tail.find('#'));
        return ok();
    }

    // ---- scheduling -------------------------------------------------------------------------------------------

    /// Starts queued requests while connections allow, in submission order.
    void dispatch() {
        if (dispatching_ || closing_) return;
        dispatching_ = true;
        while (!queue_.empty()) {
            pending& head = *queue_.front();
            origin* o = head.org;
            if (!o->idle.empty()) {
                connection* conn = o->idle.back();
                if (clock_type::now() - conn->idle_since > MAX_IDLE_AGE) {
                    // Idle longer than libcurl keeps a connection: servers drop such ones (all older ones too).
                    while (!o->idle.empty()) close_connection(*o->idle.front());
                    continue;
                }
                if (!idle_still_open(*conn)) {
                    close_connection(*conn);
                    continue;
                }
                o->idle.pop_back();
                std::unique_ptr<pending> p = std::move(queue_.front());
                queue_.pop_front();
                conn->req = std::move(p);
                start_request(*conn);
                continue;
            }
            if (open_ >= max_connections_) {
                connection* victim = pick_idle_victim(o);
                if (victim == nullptr) break;  // wait for a connection to finish its request
                close_connection(*victim);
            }
            std::unique_ptr<pending> p = std::move(queue_.front());
            queue_.pop_front();
            open_connection(std::move(p));
        }
        dispatching_ = false;
    }

    /// An idle connection of another origin to close so that `wanted` gets a new one (an idle one of `wanted`
    /// would have been taken).
    connection* pick_idle_victim(origin* wanted) {
        for (const std::unique_ptr<origin>& o : origins_) {
            if (o.get() != wanted && !o->idle.empty()) return o->idle.front();
        }
        return nullptr;
    }

    // ---- connections ------------------------------------------------------------------------------------------

    /// Resolves the origin's addresses (cached for a minute). Blocking, but only on new connections.
    result<void> resolve(origin& o, const http_request& req) {
        const time_point now = clock_type::now();
        if (!o.addresses.empty() && now - o.resolved_at < DNS_CACHE_TTL) return ok();
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        addrinfo* list = nullptr;
        const std::string port = std::to_string(o.url.port);
        const int rc = ::getaddrinfo(o.url.host.c_str(), port.c_str(), &hints, &list);
        if ((rc != 0 || list == nullptr) && !o.addresses.empty()) {
            // A resolver that fails for a moment does not fail connections the addresses it gave still serve:
            // they stay, and the lookup is tried again a few seconds on.
            o.resolved_at = now - DNS_CACHE_TTL + DNS_RETRY_AFTER_FAILURE;
            return ok();
        }
        if (rc != 0 || list == nullptr) {
            return make_error(errc::NETWORK,
                              describe(req) + "Couldn't resolve host name (" + o.url.host + ": " +
                                  (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)) + ")",
                              true);
        }
        o.addresses.clear();
        o.address_lengths.clear();
        for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
            if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
            sockaddr_storage ss{};
            std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
            o.addresses.push_back(ss);
            o.address_lengths.push_back(ai->ai_addrlen);
        }
        ::freeaddrinfo(list);
        o.resolved_at = now;
        return ok();
    }

    void open_connection(std::unique_ptr<pending> p) {
        origin& o = *p->org;
        if (result<void> resolved = resolve(o, p->request); !resolved) {
            complete(std::move(p), std::move(resolved).err());
            return;
        }
        auto owned = std::make_unique<connection>();
        connection& conn = *owned;
        conn.org = &o;
        conn.req = std::move(p);
        conn.connect_deadline = clock_type::now() + connect_timeout_;
        next_check_ = std::min(next_check_, conn.connect_deadline);
        conns_.push_back(std::move(owned));
        ++open_;
        try_connect(conn);
    }

    /// Tries the addresses from conn.address_idx on until one connects or is in progress.
    void try_connect(connection& conn) {
        origin& o = *conn.org;
        while (conn.address_idx < o.addresses.size()) {
            const size_t idx = conn.address_idx;
            const auto* addr = reinterpret_cast<const sockaddr*>(&o.addresses[idx]);
            close_socket(conn);
            const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                conn.connect_errno = errno;
                ++conn.address_idx;
                continue;
            }
            conn.fd = fd;
            const int one = 1;
            const int idle_s = TCP_KEEPIDLE_S;
            const int interval_s = TCP_KEEPINTVL_S;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            ev.data.ptr = &conn;
            if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
                conn.connect_errno = errno;
                ++conn.address_idx;
                continue;
            }
            conn.state = phase::CONNECTING;
            if (::connect(fd, addr, o.address_lengths[idx]) == 0) {
                connected(conn);
                return;
            }
            if (errno == EINPROGRESS || errno == EINTR) return;  // EPOLLOUT tells the outcome
            conn.connect_errno = errno;
            ++conn.address_idx;
        }
        fail_connection(
            conn, make_error(errc::NETWORK,
                             describe(conn.req->request) + "Couldn't connect to server (" + o.url.host + " port " +
                                 std::to_string(o.url.port) + ": " +
                                 std::strerror(conn.connect_errno != 0 ? conn.connect_errno : ECONNREFUSED) + ")",
                             true));
    }

    void on_connect_event(connection& conn) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err == 0) {
            connected(conn);
            return;
        }
        conn.connect_errno = err;
        ++conn.address_idx;
        try_connect(conn);
    }

    void connected(connection& conn) {
        if (!conn.org->url.https) {
            conn.connect_deadline = NEVER;
            start_request(conn);
            return;
        }
        if (!tls_) {
            auto made = detail::tls_context::create(detail::select_ca_bundle(options_.ca_bundle));
            if (!made) {
                error err = std::move(made).err();
                err.message = describe(conn.req->request) + err.message;
                fail_connection(conn, std::move(err));
                return;
            }
            tls_ = std::move(made).value();
        }
        auto started = detail::tls_stream::start(*tls_, conn.fd, conn.org->url.host);
        if (!started) {
            error err = std::move(started).err();
            err.message = describe(conn.req->request) + err.message;
            fail_connection(conn, std::move(err));
            return;
        }
        conn.tls = std::move(started).value();
        conn.state = phase::HANDSHAKE;
        continue_handshake(conn);
    }

    void continue_handshake(connection& conn) {
        switch (conn.tls->handshake()) {
            case detail::io_status::OK:
                conn.connect_deadline = NEVER;
                start_request(conn);
                return;
            case detail::io_status::WANT_READ:
            case detail::io_status::WANT_WRITE: return;
            default: break;
        }
        // A refused certificate fails the same way every time: not retryable (libcurl's default case).
        const bool verify = conn.tls->verification_failed();
        std::string message = describe(conn.req->request) +
                              (verify ? "SSL peer certificate or SSH remote key was not OK (" : "SSL connect error (") +
                              conn.tls->failure() + ")";
        fail_connection(conn, make_error(errc::NETWORK, std::move(message), !verify));
    }

    // ---- one request on a connection --------------------------------------------------------------------------

    void start_request(connection& conn) {
        pending& p = *conn.req;
        const http_request& req = p.request;
        const bool is_head = req.method == "HEAD";
        const bool sends_body =
            !is_head && (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH");
        std::string& out = conn.out;
        out.clear();
        out.append(req.method).push_back(' ');
        if (p.tail.empty() || p.tail.front() == '?') out.push_back('/');
        out.append(p.tail).append(" HTTP/1.1\r\n");
        bool caller_host = false;
        for (const http_header& h : req.headers) {
            // Content-Length comes from the body; Expect would ask for a round trip this transport never waits for.
            if (equals_ignoring_case(h.name, "Content-Length") || equals_ignoring_case(h.name, "Expect")) continue;
            if (equals_ignoring_case(h.name, "Host")) caller_host = true;
            out.append(h.name).append(": ").append(h.value).append("\r\n");
        }
        if (!caller_host) out.append("Host: ").append(conn.org->host_header).append("\r\n");
        if (sends_body) out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
        out.append("\r\n");
        conn.body_in_out = false;
        if (conn.tls && !req.body.empty() && req.body.size() <= TLS_COALESCE_BYTES) {
            out.append(req.body);
            conn.body_in_out = true;
        }
        conn.sent = 0;
        p.response.headers.reserve(8);
        conn.parser.reset(&p.response, is_head, req.body_sink);
        conn.state = phase::SENDING;
        // The answer, when it comes, raises an input edge: no read is tried now.
        continue_send(conn);
    }

    size_t total_bytes(const connection& conn) const {
        return conn.out.size() + (conn.body_in_out ? 0 : conn.req->request.body.size());
    }

    void continue_send(connection& conn) {
        const std::string& body = conn.req->request.body;
        const size_t total = total_bytes(conn);
        while (conn.sent < total) {
            const size_t head = conn.out.size();
            if (conn.tls) {
                const char* data = conn.sent < head ? conn.out.data() + conn.sent : body.data() + (conn.sent - head);
                const size_t len = conn.sent < head ? head - conn.sent : total - conn.sent;
                detail::io_result r = conn.tls->write(data, len);
                if (r.status == detail::io_status::OK) {
                    conn.sent += r.bytes;
                    continue;
                }
                if (r.status == detail::io_status::WANT_READ || r.status == detail::io_status::WANT_WRITE) return;
                send_failed(conn, r.status == detail::io_status::CLOSED ? EPIPE : r.sys_errno,
                            r.status == detail::io_status::CLOSED ? std::string() : conn.tls->failure());
                return;
            }
            std::array<iovec, 2> iov{};
            size_t count = 0;
            if (conn.sent < head) {
                iov[count++] = iovec{const_cast<char*>(conn.out.data() + conn.sent), head - conn.sent};
                if (!body.empty()) iov[count++] = iovec{const_cast<char*>(body.data()), body.size()};
            } else {
                const size_t off = conn.sent - head;
                iov[count++] = iovec{const_cast<char*>(body.data() + off), body.size() - off};
            }
            msghdr msg{};
            msg.msg_iov = iov.data();
            msg.msg_iovlen = count;
            const ssize_t n = ::sendmsg(conn.fd, &msg, MSG_NOSIGNAL);
            if (n >= 0) {
                conn.sent += static_cast<size_t>(n);
                continue;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT resumes
            send_failed(conn, errno, {});
            return;
        }
        conn.state = phase::RECEIVING;
    }

    void send_failed(connection& conn, int err, const std::string& detail_text) {
        std::string reason = detail_text.empty() ? std::string(std::strerror(err != 0 ? err : EPIPE)) : detail_text;
        fail_connection(
            conn, make_error(errc::NETWORK,
                             describe(conn.req->request) + "Failed sending data to the peer (" + reason + ")", true));
    }

    void continue_receive(connection& conn) {
        char* buf = read_buffer_.get();
        for (;;) {
            size_t got = 0;
            bool eof = false;
            int err = 0;
            std::string tls_failure;
            if (conn.tls) {
                detail::io_result r = conn.tls->read(buf, READ_BUFFER_BYTES);
                switch (r.status) {
                    case detail::io_status::OK: got = r.bytes; break;
                    case detail::io_status::WANT_READ:
                    case detail::io_status::WANT_WRITE: return;
                    case detail::io_status::CLOSED: eof = true; break;
                    case detail::io_status::FAILED:
                        err = r.sys_errno != 0 ? r.sys_errno : EIO;
                        tls_failure = conn.tls->failure();
                        break;
                }
            } else {
                const ssize_t n = ::recv(conn.fd, buf, READ_BUFFER_BYTES, 0);
                if (n > 0) {
                    got = static_cast<size_t>(n);
                } else if (n == 0) {
                    eof = true;
                } else if (errno == EINTR) {
                    continue;
                } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return;
                } else {
                    err = errno;
                }
            }
            if (eof) {
                result<void> ended = conn.parser.finish_at_eof();
                if (ended) {
                    finish_request(conn, false);
                } else {
                    error e = std::move(ended).err();
                    e.message = describe(conn.req->request) + e.message;
                    fail_connection(conn, std::move(e));
                }
                return;
            }
            if (err != 0) {
                fail_connection(conn, make_error(errc::NETWORK,
                                                 describe(conn.req->request) + "Recv failure: " +
                                                     (tls_failure.empty() ? std::strerror(err) : tls_failure),
                                                 true));
                return;
            }
            if (conn.req->stall_only) conn.req->deadline = clock_type::now() + options_.request_timeout;
            result<size_t> used = conn.parser.feed(std::string_view(buf, got));
            if (!used) {
                error e = std::move(used).err();
                if (e.code == errc::NETWORK) e.message = describe(conn.req->request) + e.message;
                fail_connection(conn, std::move(e));
                return;
            }
            if (conn.parser.done()) {
                // Bytes beyond the answer belong to no request: the connection is not reused.
                const bool extra = *used < got || (conn.tls && conn.tls->pending());
                finish_request(conn, conn.parser.keep_alive() && !extra);
                return;
            }
        }
    }

    /// An idle connection became readable: the server closed it, or sent bytes no request asked for.
    void on_idle_event(connection& conn) {
        if (!idle_still_open(conn)) close_connection(conn);
    }

    /// Whether an idle connection still stands: nothing to read (a server that closed it sent a FIN or a reset;
    /// bytes no request asked for end it too). Asked before it takes a request as well, since the loop may not
    /// have looked since the server closed it (libcurl checks the same before reuse): a request sent on it would
    /// end with no answer.
    bool idle_still_open(connection& conn) {
        char* buf = read_buffer_.get();
        if (conn.tls) {
            // TLS 1.3 session tickets arrive after the handshake: OpenSSL consumes them and wants more.
            detail::io_result r = conn.tls->read(buf, READ_BUFFER_BYTES);
            // Part of a record read (an answer no request asked for, arriving): not open for a new request.
            return (r.status == detail::io_status::WANT_READ || r.status == detail::io_status::WANT_WRITE) &&
                   !conn.tls->pending();
        }
        const ssize_t n = ::recv(conn.fd, buf, READ_BUFFER_BYTES, 0);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }

    void finish_request(connection& conn, bool reusable) {
        std::unique_ptr<pending> p = std::move(conn.req);
        if (reusable) {
            conn.state = phase::IDLE;
            conn.idle_since = clock_type::now();
            conn.org->idle.push_back(&conn);
        } else {
            close_connection(conn);
        }
        http_response response = std::move(p->response);
        complete(std::move(p), std::move(response));
        dispatch();
    }

    /// The connection failed: its request (if any) ends with `err`, the connection closes.
    void fail_connection(connection& conn, error err) {
        std::unique_ptr<pending> p = std::move(conn.req);
        close_connection(conn);
        if (p) complete(std::move(p), std::move(err));
        dispatch();
    }

    void close_connection(connection& conn) {
        if (conn.state == phase::CLOSED) return;
        if (conn.state == phase::IDLE) {
            auto& idle = conn.org->idle;
            idle.erase(std::find(idle.begin(), idle.end(), &conn));
        }
        conn.state = phase::CLOSED;
        conn.tls.reset();
        close_socket(conn);
        --open_;
        reap_needed_ = true;
    }

    /// Leaves the epoll set, then closes. close() alone leaves it only with the last reference to the socket: a
    /// child process between fork and exec (credential_process) holds one, and events of a connection already
    /// freed could still come.
    void close_socket(connection& conn) {
        if (conn.fd < 0) return;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
        ::close(conn.fd);
        conn.fd = -1;
    }

    /// Frees closed connections (never while an epoll batch may still point at them).
    void reap() {
        if (!reap_needed_) return;
        reap_needed_ = false;
        conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                    [](const std::unique_ptr<connection>& c) { return c->state == phase::CLOSED; }),
                     conns_.end());
    }

    // ---- completion -------------------------------------------------------------------------------------------

    void complete(std::unique_ptr<pending> p, result<http_response> outcome) {
        ready_.push_back(completion{std::move(p->done), std::move(outcome)});
        --outstanding_;
        recycle(std::move(p));
    }

    completion cancelled(pending& p) {
        return completion{
            std::move(p.done),
            make_error(errc::CANCELLED, describe(p.request) + "HTTP client destroyed with the request in flight")};
    }

    /// Runs the callbacks of finished requests. A callback may submit again.
    void deliver() {
        if (ready_.empty()) return;
        std::vector<completion> batch;
        batch.swap(ready_);
        size_t idx = 0;
        try {
            for (; idx < batch.size(); ++idx) {
                if (batch[idx].done) batch[idx].done(std::move(batch[idx].outcome));
            }
        } catch (...) {
            for (++idx; idx < batch.size(); ++idx) ready_.push_back(std::move(batch[idx]));
            throw;
        }
        batch.clear();
        if (ready_.empty()) ready_.swap(batch);  // keep the capacity
    }

    // ---- time -------------------------------------------------------------------------------------------------

    std::string timeout_message(const pending& p) const {
        const auto limit = p.request.timeout.count() == 0 ? options_.request_timeout : p.request.timeout;
        std::string text = describe(p.request) + "Timeout was reached (operation timed out after ";
        text.append(std::to_string(limit.count() < 0 ? options_.request_timeout.count() : limit.count()))
            .append(" milliseconds")
            .append(p.stall_only ? " without data" : "")
            .append(" with ")
            .append(std::to_string(p.response.body_bytes))
            .append(" body bytes received)");
        return text;
    }

    /// Fails every request whose deadline passed and every connect that took too long. Scans only when the
    /// earliest known deadline is due.
    void check_timeouts(time_point now) {
        if (now < next_check_) return;
        // Deadlines added while scanning (connections opened by the dispatch of a failure) lower it again.
        next_check_ = NEVER;
        time_point next = NEVER;
        for (auto it = queue_.begin(); it != queue_.end();) {
            if ((*it)->deadline <= now) {
                std::unique_ptr<pending> p = std::move(*it);
                it = queue_.erase(it);
                std::string message = timeout_message(*p);
                complete(std::move(p), make_error(errc::NETWORK, std::move(message), true));
            } else {
                next = std::min(next, (*it)->deadline);
                ++it;
            }
        }
        for (size_t idx = 0; idx < conns_.size(); ++idx) {
            connection& conn = *conns_[idx];
            if (conn.state == phase::CLOSED || !conn.req) continue;
            if (conn.req->deadline <= now) {
                std::string message = timeout_message(*conn.req);
                fail_connection(conn, make_error(errc::NETWORK, std::move(message), true));
                continue;
            }
            if (conn.state == phase::CONNECTING && conn.connect_deadline <= now &&
                conn.address_idx + 1 < conn.org->addresses.size()) {
                // This address does not answer (a black hole): the next one gets a connect timeout of its own.
                ++conn.address_idx;
                conn.connect_deadline = now + connect_timeout_;
                try_connect(conn);
                if (conn.state == phase::CLOSED || !conn.req) continue;
            }
            if ((conn.state == phase::CONNECTING || conn.state == phase::HANDSHAKE) && conn.connect_deadline <= now) {
                std::string message = describe(conn.req->request) + "Timeout was reached (connection to " +
                                      conn.org->url.host + " port " + std::to_string(conn.org->url.port) +
                                      " timed out after " + std::to_string(connect_timeout_.count()) + " milliseconds)";
                fail_connection(conn, make_error(errc::NETWORK, std::move(message), true));
                continue;
            }
            next = std::min(next, conn.req->deadline);
            if (conn.state == phase::CONNECTING || conn.state == phase::HANDSHAKE) {
                next = std::min(next, conn.connect_deadline);
            }
        }
        next_check_ = std::min(next_check_, next);
    }

    // ---- the loop ---------------------------------------------------------------------------------------------

    void on_event(connection& conn, uint32_t events) {
        switch (conn.state) {
            case phase::CLOSED: return;
            case phase::CONNECTING:
                if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) on_connect_event(conn);
                return;
            case phase::HANDSHAKE: continue_handshake(conn); return;
            case phase::SENDING:
                continue_send(conn);
                if (conn.state == phase::RECEIVING) continue_receive(conn);
                return;
            case phase::RECEIVING: continue_receive(conn); return;
            case phase::IDLE:
                if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) on_idle_event(conn);
                return;
        }
    }

    /// Runs until a callback is ready, nothing is in flight, or `wait` has passed.
    void drive(std::chrono::milliseconds wait) {
        const time_point deadline = clock_type::now() + std::max(wait, std::chrono::milliseconds(0));
        std::array<epoll_event, 128> events{};
        // The first round always looks at the sockets, so poll(0ms) makes progress too.
        for (bool first = true;; first = false) {
            // A deadline is due: first take what the sockets already hold. An answer that arrived while this
            // thread was busy elsewhere is an answer, not a timeout.
            if (clock_type::now() >= next_check_ && !handle_events(events, 0)) return;
            time_point now = clock_type::now();
            check_timeouts(now);
            reap();
            if (!ready_.empty() || outstanding_ == 0 || epoll_fd_ < 0) return;
            if (now >= deadline && !first) return;
            const time_point until = std::max(now, std::min(deadline, next_check_));
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
            const int timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, std::numeric_limits<int>::max()));
            if (!handle_events(events, timeout_ms)) return;
        }
    }

    /// Waits up to `timeout_ms` for socket events and handles them; false when epoll itself fails.
    bool handle_events(std::array<epoll_event, 128>& events, int timeout_ms) {
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
        if (n < 0) return errno == EINTR;
        for (int idx = 0; idx < n; ++idx) {
            const epoll_event& ev = events[static_cast<size_t>(idx)];
            on_event(*static_cast<connection*>(ev.data.ptr), ev.events);
        }
        reap();
        return true;
    }

    http_options options_;
    size_t max_connections_;
    std::chrono::milliseconds connect_timeout_;
    int epoll_fd_ = -1;
    int init_errno_ = 0;
    std::unique_ptr<char[]> read_buffer_;
    std::shared_ptr<detail::tls_context> tls_;
    std::vector<std::unique_ptr<origin>> origins_;
    std::vector<std::unique_ptr<connection>> conns_;
    std::deque<std::unique_ptr<pending>> queue_;
    std::vector<std::unique_ptr<pending>> spare_;
    std::vector<completion> ready_;
    size_t open_ = 0;         // connections not closed
    size_t outstanding_ = 0;  // requests admitted and not yet completed
    time_point next_check_ = NEVER;
    bool dispatching_ = false;
    bool reap_needed_ = false;
    bool closing_ = false;
    std::once_flag sync_once_;
    std::unique_ptr<http_client> sync_;
};

}  // namespace

std::unique_ptr<http_client> make_socket_http_client(const http_options& options) {
    return std::make_unique<socket_http_client>(options);
}

std::unique_ptr<http_client> make_item_write_http_client(const http_options& options, const client_context& context) {
    auto ep = resolve_endpoint("dynamodb", context.region, context.env, context.config);
    // libcurl reads the proxy variables from the process environment, whatever the context's lookup says.
    if (!ep || detail::proxy_applies(ep->url(), process_environment())) return make_curl_http_client(options);
    return make_socket_http_client(options);
}

}  // namespace tarius::aws
