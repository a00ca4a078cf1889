#pragma once
/// A single-threaded epoll HTTP/1.1 server on 127.0.0.1 for stand-ins that must be cheap on CPU (fault_server under
/// benchmark load): one loop thread serves every connection, and a response's delay is a timer, not a sleeping
/// thread. Same handler contract as http_fake; it does not record requests.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "fake/http_wire.hpp"
#include "tarius/result.hpp"

namespace tarius::fake {

/// The server. Construct with a handler, start(); stop() (or the destructor) ends the loop and closes every fd.
class event_http_server {
public:
    /// Computes the answer to a request; runs on the loop thread, so it must be quick (a slow handler stalls every
    /// connection) but needs no locking of its own.
    using handler = std::function<fake_response(const fake_request&)>;

    /// A server answering with `h` (an empty handler answers 200 with an empty body).
    explicit event_http_server(handler h);
    /// Stops the server.
    ~event_http_server();
    event_http_server(const event_http_server&) = delete;
    event_http_server& operator=(const event_http_server&) = delete;

    /// Serves delays on a grid of `resolution` (0, the default: exactly): each deadline is rounded to the nearest
    /// multiple, so an answer comes up to half a step early or late, the mean delay stays exact, and answers due in
    /// the same step leave together in one wake-up of the loop (and of a client waiting for several). Precondition:
    /// not started.
    void set_timer_resolution(std::chrono::microseconds resolution);

    /// Listens on 127.0.0.1:`port` (0 = an ephemeral port) and starts the loop thread. Precondition: not started.
    [[nodiscard]] result<void> start(uint16_t port = 0);
    /// Wakes the loop, joins it and closes the listener, every connection and the loop's own fds; pending delays
    /// are dropped unanswered. Safe to call twice.
    void stop();

    /// The port listened on (valid after start()).
    [[nodiscard]] uint16_t port() const noexcept;
    /// "http://127.0.0.1:<port>".
    [[nodiscard]] std::string url() const;
    /// The number of complete requests received so far.
    [[nodiscard]] uint64_t request_count() const noexcept;
    /// The number of TCP connections accepted so far.
    [[nodiscard]] uint64_t connection_count() const noexcept;
    /// The number of connections open now (read on another thread: a snapshot).
    [[nodiscard]] uint64_t open_connections() const noexcept;

private:
    struct loop;
    std::unique_ptr<loop> loop_;
    std::thread thread_;
    bool started_ = false;
};

}  // namespace tarius::fake
