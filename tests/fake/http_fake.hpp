#pragma once
/// An in-process HTTP/1.1 server on 127.0.0.1 for tests: keep-alive, many concurrent connections (one thread
/// each), a scripted handler per request and fault injection (delays, truncated bodies, closed or reset
/// connections). It records every request it receives.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake/http_wire.hpp"
#include "tarius/result.hpp"

namespace tarius::fake {

/// The server. Construct, set a handler, start(); stop() (or the destructor) joins every thread.
class http_fake {
public:
    /// Computes the answer to a request; runs on the connection's thread, so it must be thread-safe.
    using handler = std::function<fake_response(const fake_request&)>;

    /// A server answering 200 with an empty body until set_handler() is called.
    http_fake();
    /// A server answering with `h`.
    explicit http_fake(handler h);
    /// Stops the server.
    ~http_fake();
    http_fake(const http_fake&) = delete;
    http_fake& operator=(const http_fake&) = delete;

    /// Listens on 127.0.0.1:`port` (0 = an ephemeral port) and starts accepting. Precondition: not started.
    [[nodiscard]] result<void> start(uint16_t port = 0);
    /// Closes the listener and every connection and joins all threads. Safe to call twice.
    void stop();

    /// The port listened on (valid after start()).
    [[nodiscard]] uint16_t port() const noexcept;
    /// "http://127.0.0.1:<port>".
    [[nodiscard]] std::string url() const;

    /// Replaces the handler; requests already being answered keep the old one.
    void set_handler(handler h);
    /// Whether recorded requests keep their bodies (default true); off for benchmarks.
    void set_record_bodies(bool keep);
    /// Whether requests are recorded at all (default true); off for long-running benchmarks.
    void set_recording(bool on);

    /// A copy of the requests received so far, in arrival order.
    [[nodiscard]] std::vector<fake_request> requests() const;
    /// The number of requests received so far (also counted when not recorded).
    [[nodiscard]] uint64_t request_count() const;
    /// The number of TCP connections accepted so far.
    [[nodiscard]] uint64_t connection_count() const;
    /// Forgets the recorded requests (counters keep running).
    void clear_requests();

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace tarius::fake
