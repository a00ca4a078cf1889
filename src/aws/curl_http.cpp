/// The libcurl HTTP transport: one multi handle driven by poll() from the owning thread for the many requests the
/// loader keeps in flight, plus a thread-safe synchronous perform() on a separate pool of easy handles.
///
/// Threads: submit() and poll() belong to one thread (the multi handle is not shared); perform() may be called from
/// any number of threads at once, each call using a pooled easy handle whose live connection is reused next time.
/// A request's timeout counts from submit(), so time spent queued behind max_connections is included.
/// Streamed downloads (body_sink) of large objects should pass `timeout = -1ms`: no deadline for the whole
/// transfer, but a transfer stalled (under 1 byte/s) for the default request timeout still fails as a timeout.
///
/// Proxies: libcurl reads `http_proxy` (lower case only: it ignores upper-case HTTP_PROXY on purpose, the
/// "httpoxy" CGI issue), `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` and `no_proxy`/`NO_PROXY`. We set
/// no CURLOPT_PROXY so those variables apply unchanged.

#include "aws/curl_http.hpp"
#include "tarius/text.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tarius::aws {
namespace detail {

std::string select_ca_bundle(std::string_view configured, const char* aws_ca_bundle_env,
                             const std::function<bool(const std::string&)>& exists) {
    if (!configured.empty()) return std::string(configured);
    if (aws_ca_bundle_env != nullptr && *aws_ca_bundle_env != '\0') return aws_ca_bundle_env;
    for (std::string_view candidate : DEFAULT_CA_BUNDLES) {
        std::string path(candidate);
        if (exists(path)) return path;
    }
    return {};
}

std::string select_ca_bundle(std::string_view configured) {
    return select_ca_bundle(configured, std::getenv("AWS_CA_BUNDLE"), [](const std::string& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    });
}

std::string redact_url(std::string_view url) {
    size_t cut = url.find_first_of("?#");
    return std::string(url.substr(0, cut));
}

}  // namespace detail

namespace {

// Keep-alive probes: an idle pooled connection that a NAT or load balancer dropped silently is noticed instead of
// hanging a later request until its timeout.
constexpr long TCP_KEEPIDLE_S = 30;
constexpr long TCP_KEEPINTVL_S = 15;
// A larger receive buffer than libcurl's 16 KB default cuts write callbacks (and sink calls) for streamed S3
// bodies. Only for those: libcurl allocates it per transfer on the multi path, and a 128 KB malloc/free per small
// DynamoDB request made glibc trim the heap (brk) every time, a third of the client's CPU.
constexpr long RECEIVE_BUFFER_BYTES = 128 * 1024;

std::once_flag g_curl_init_once;
CURLcode g_curl_init_code = CURLE_OK;

/// curl_global_init is not safe to race with itself on every libcurl build, so it runs exactly once per process.
CURLcode ensure_curl_global_init() {
    std::call_once(g_curl_init_once, [] { g_curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT); });
    return g_curl_init_code;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

bool has_header(const std::vector<http_header>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const http_header& h) { return equals_ignoring_case(h.name, name); });
}

/// Header text must not smuggle a second header or request line into the stream.
bool header_text_ok(std::string_view s, bool is_name) {
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') return false;
        if (is_name && (c == ':' || c == ' ' || c == '\t')) return false;
    }
    return true;
}

/// One request on its way: owns the request (libcurl reads the body in place) and collects the response.
struct transfer {
    http_request request;
    http_callback done;  // empty for perform()
    http_response response;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    bool status_checked = false;
    bool stream_to_sink = false;
    std::optional<error> callback_error;  // why a callback stopped the transfer (sink failure, no memory)
    char error_buffer[CURL_ERROR_SIZE] = {};

    transfer() = default;
    transfer(const transfer&) = delete;
    transfer& operator=(const transfer&) = delete;
    ~transfer() { curl_slist_free_all(header_list); }
};

size_t on_header(char* data, size_t size, size_t count, void* user) noexcept {
    auto* t = static_cast<transfer*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    try {
        if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
            // A new status line (after "100 Continue" or an auth round): earlier headers belonged to it.
            t->response.headers.clear();
            return n;
        }
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            // obs-fold continuation of the previous header (RFC 7230 3.2.4): join with one space.
            std::string_view more = trim(line);
            if (!t->response.headers.empty() && !more.empty()) {
                t->response.headers.back().value.append(" ").append(more);
            }
            return n;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return n;  // the blank line ending the header block
        t->response.headers.push_back(
            http_header{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    } catch (const std::bad_alloc&) {
        t->callback_error = make_error(errc::INTERNAL, "out of memory storing response headers");
        return 0;
    }
    return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) noexcept {
    auto* t = static_cast<transfer*>(user);
    const size_t n = size * count;
    if (!t->status_checked) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        t->stream_to_sink = t->request.body_sink != nullptr && status >= 200 && status < 300;
        t->status_checked = true;
    }
    if (t->stream_to_sink) {
        result<void> written = t->request.body_sink->write(std::string_view(data, n));
        if (!written) {
            t->callback_error = std::move(written).err();
            return 0;  // fewer bytes than offered: libcurl aborts with CURLE_WRITE_ERROR
        }
    } else {
        try {
            t->response.body.append(data, n);
        } catch (const std::bad_alloc&) {
            t->callback_error = make_error(errc::INTERNAL, "out of memory storing a response body");
            return 0;
        }
    }
    t->response.body_bytes += n;
    return n;
}

// Runs about once a second while a streamed download waits: the sink may want the transfer to end (a load whose
// deadline came while the object stalled).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    auto* t = static_cast<transfer*>(user);
    if (t->request.body_sink == nullptr || !t->request.body_sink->stop_requested()) return 0;
    t->callback_error = make_error(errc::CANCELLED, "the reader of the body stopped the transfer");
    return 1;  // libcurl aborts with CURLE_ABORTED_BY_CALLBACK
}

/// Settings applied to every easy handle.
struct easy_settings {
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds request_timeout;
    std::string ca_bundle;
};

long to_curl_ms(std::chrono::milliseconds ms) {
    auto count = ms.count();
    if (count <= 0) return 0;
    if (count > std::numeric_limits<long>::max()) return std::numeric_limits<long>::max();
    return static_cast<long>(count);
}

/// Prepares `easy` (reset first: handles are pooled) to send `t.request`.
result<void> configure(CURL* easy, transfer& t, const easy_settings& settings) {
    const http_request& req = t.request;
    if (req.method.empty() || !header_text_ok(req.method, true)) {
        return make_error(errc::INVALID_ARGUMENT, "invalid HTTP method");
    }
    for (const http_header& h : req.headers) {
        if (h.name.empty() || !header_text_ok(h.name, true) || !header_text_ok(h.value, false)) {
            return make_error(errc::INVALID_ARGUMENT, "invalid HTTP header name or value (header '" +
                                                          (header_text_ok(h.name, true) ? h.name : std::string("?")) +
                                                          "')");
        }
    }

    curl_easy_reset(easy);
    t.easy = easy;
    if (curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str()) != CURLE_OK) {
        return make_error(errc::INVALID_ARGUMENT, "invalid URL " + detail::redact_url(req.url));
    }
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    // SigV4 signs the path exactly as sent; libcurl must not squash "/../" or "/./" in S3 keys.
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, to_curl_ms(settings.connect_timeout));
    std::chrono::milliseconds timeout = req.timeout.count() == 0 ? settings.request_timeout : req.timeout;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, to_curl_ms(timeout));  // negative = none = 0 for libcurl
    if (timeout.count() < 0) {
        // No deadline for the whole transfer (a multi-GB stream), but a stalled one still ends: less than one
        // byte per second for the default request timeout is a timeout.
        auto stall_s = std::chrono::duration_cast<std::chrono::seconds>(settings.request_timeout).count();
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<int64_t>(stall_s, 1)));
    }
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, TCP_KEEPIDLE_S);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, TCP_KEEPINTVL_S);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    if (req.body_sink != nullptr) {
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (!settings.ca_bundle.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, settings.ca_bundle.c_str());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);

    const bool is_head = req.method == "HEAD";
    const bool sends_body =
        !is_head && (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH");
    if (is_head) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
        // POSTFIELDS points at the request's own string (kept alive by the transfer): no copy of large bodies.
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
        if (req.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method == "GET") {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    curl_slist* list = nullptr;
    auto append = [&list](const std::string& line) -> bool {
        curl_slist* grown = curl_slist_append(list, line.c_str());
        if (grown == nullptr) return false;
        list = grown;
        return true;
    };
    bool appended = true;
    for (const http_header& h : req.headers) {
        if (equals_ignoring_case(h.name, "Content-Length")) continue;  // computed from the body by libcurl
        // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove the header).
        appended = appended && append(h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
    }
    // No "Expect: 100-continue" round trip before bodies (libcurl adds it above 1 MB).
    if (!has_header(req.headers, "Expect")) appended = appended && append("Expect:");
    // POSTFIELDS would otherwise add "Content-Type: application/x-www-form-urlencoded".
    if (sends_body && !has_header(req.headers, "Content-Type")) appended = appended && append("Content-Type:");
    t.header_list = list;
    if (!appended) return make_error(errc::INTERNAL, "out of memory building request headers");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    return ok();
}

/// True for libcurl failures that a new attempt may not hit: connection trouble, resets, timeouts.
bool is_transient(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_PARTIAL_FILE:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_QUIC_CONNECT_ERROR:
        case CURLE_AGAIN:
        case CURLE_NO_CONNECTION_AVAILABLE:
        case CURLE_PROXY: return true;
        default: return false;
    }
}

/// Turns the end of a transfer into its result. Messages name the method, the URL without its query and
/// libcurl's reason; never headers or bodies.
result<http_response> finish(transfer& t, CURLcode code) {
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
        t.response.status = status;
        return std::move(t.response);
    }
    if (t.callback_error) return std::move(*t.callback_error);

    std::string message = t.request.method + " " + detail::redact_url(t.request.url) + ": " + curl_easy_strerror(code);
    if (t.error_buffer[0] != '\0') message.append(" (").append(t.error_buffer).append(")");
    if (code == CURLE_PARTIAL_FILE) {
        curl_off_t expected = -1;
        curl_easy_getinfo(t.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
        message.append(": body cut off at byte offset ").append(std::to_string(t.response.body_bytes));
        if (expected >= 0) message.append(" of ").append(std::to_string(expected));
        return make_error(errc::NETWORK, std::move(message), true);
    }
    if (is_transient(code)) return make_error(errc::NETWORK, std::move(message), true);
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_BAD_FUNCTION_ARGUMENT: return make_error(errc::INVALID_ARGUMENT, std::move(message));
        case CURLE_OUT_OF_MEMORY: return make_error(errc::INTERNAL, std::move(message));
        default:
            // TLS verification failures and the like: retrying the same request would fail the same way.
            return make_error(errc::NETWORK, std::move(message));
    }
}

struct easy_deleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;

/// A finished transfer waiting for its callback to run on the polling thread.
struct completion {
    std::unique_ptr<transfer> t;
    result<http_response> outcome;
};

class curl_http_client final : public http_client {
public:
    explicit curl_http_client(const http_options& options)
        : settings_{options.connect_timeout, options.request_timeout, detail::select_ca_bundle(options.ca_bundle)},
          max_connections_(std::max<size_t>(options.max_connections, 1)) {
        init_code_ = ensure_curl_global_init();
        if (init_code_ != CURLE_OK) return;
        multi_ = curl_multi_init();
        if (multi_ == nullptr) return;
        long limit = static_cast<long>(std::min<size_t>(max_connections_, 1 << 20));
        curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit);  // further transfers wait in a queue
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, limit);            // idle connections kept for reuse
    }

    curl_http_client(const curl_http_client&) = delete;
    curl_http_client& operator=(const curl_http_client&) = delete;

    ~curl_http_client() override {
        closing_ = true;
        // Every callback runs exactly once: transfers still in flight end as CANCELLED.
        std::vector<completion> pending;
        for (auto& [easy, t] : in_flight_) {
            curl_multi_remove_handle(multi_, easy);
            std::string message = t->request.method + " " + detail::redact_url(t->request.url) +
                                  ": HTTP client destroyed with the request in flight";
            pending.push_back(completion{std::move(t), make_error(errc::CANCELLED, std::move(message))});
            curl_easy_cleanup(easy);
        }
        in_flight_.clear();
        for (completion& c : ready_) pending.push_back(std::move(c));
        ready_.clear();
        for (completion& c : pending) {
            if (c.t->done) c.t->done(std::move(c.outcome));
        }
        multi_pool_.clear();
        if (multi_ != nullptr) curl_multi_cleanup(multi_);
    }

    result<http_response> perform(http_request request) override {
        if (init_code_ != CURLE_OK) return init_error();
        transfer t;
        t.request = std::move(request);
        easy_ptr easy = acquire_sync();
        if (!easy) return make_error(errc::INTERNAL, "curl_easy_init failed");
        result<void> configured = configure(easy.get(), t, settings_);
        if (!configured) {
            release_sync(std::move(easy));
            return std::move(configured).err();
        }
        CURLcode code = curl_easy_perform(easy.get());
        result<http_response> outcome = finish(t, code);
        release_sync(std::move(easy));
        return outcome;
    }

    void submit(http_request request, http_callback done) override {
        auto t = std::make_unique<transfer>();
        t->request = std::move(request);
        t->done = std::move(done);
        if (closing_) {
            t->done(make_error(errc::CANCELLED, "HTTP client is being destroyed"));
            return;
        }
        if (init_code_ != CURLE_OK || multi_ == nullptr) {
            ready_.push_back(completion{std::move(t), init_error()});
            return;
        }
        easy_ptr easy = acquire_multi();
        if (!easy) {
            ready_.push_back(completion{std::move(t), make_error(errc::INTERNAL, "curl_easy_init failed")});
            return;
        }
        result<void> configured = configure(easy.get(), *t, settings_);
        if (!configured) {
            release_multi(std::move(easy));
            ready_.push_back(completion{std::move(t), std::move(configured).err()});
            return;
        }
        CURLMcode added = curl_multi_add_handle(multi_, easy.get());
        if (added != CURLM_OK) {
            release_multi(std::move(easy));
            ready_.push_back(completion{
                std::move(t),
                make_error(errc::INTERNAL, std::string("curl_multi_add_handle: ") + curl_multi_strerror(added))});
            return;
        }
        CURL* raw = easy.release();
        in_flight_.emplace(raw, std::move(t));
    }

    size_t poll(std::chrono::milliseconds wait) override {
        if (multi_ != nullptr) drive(wait);
        deliver();
        return in_flight_.size() + ready_.size();
    }

private:
    error init_error() const {
        return make_error(errc::INTERNAL, std::string("libcurl initialisation failed: ") +
                                              (init_code_ != CURLE_OK ? curl_easy_strerror(init_code_) : "no multi"));
    }

    /// Runs libcurl until a transfer completes, nothing is in flight, or `wait` has passed.
    void drive(std::chrono::milliseconds wait) {
        const auto deadline = std::chrono::steady_clock::now() + std::max(wait, std::chrono::milliseconds(0));
        for (;;) {
            int running = 0;
            CURLMcode mc = curl_multi_perform(multi_, &running);
            collect();
            if (mc != CURLM_OK && mc != CURLM_CALL_MULTI_PERFORM) {
                fail_all(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
                return;
            }
            if (!ready_.empty() || in_flight_.empty()) return;
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return;
            int timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), std::numeric_limits<int>::max()));
            mc = curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
            if (mc != CURLM_OK) {
                fail_all(std::string("curl_multi_poll: ") + curl_multi_strerror(mc));
                return;
            }
        }
    }

    /// Moves finished transfers from libcurl to `ready_`.
    void collect() {
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* easy = msg->easy_handle;
            CURLcode code = msg->data.result;  // msg is invalid after remove_handle
            curl_multi_remove_handle(multi_, easy);
            auto it = in_flight_.find(easy);
            if (it == in_flight_.end()) {
                curl_easy_cleanup(easy);
                continue;
            }
            std::unique_ptr<transfer> t = std::move(it->second);
            in_flight_.erase(it);
            result<http_response> outcome = finish(*t, code);
            release_multi(easy_ptr(easy));
            ready_.push_back(completion{std::move(t), std::move(outcome)});
        }
    }

    /// The multi handle itself broke (out of memory, a bug): every transfer ends with that error.
    void fail_all(const std::string& why) {
        for (auto& [easy, t] : in_flight_) {
            curl_multi_remove_handle(multi_, easy);
            ready_.push_back(completion{std::move(t), make_error(errc::NETWORK, why, true)});
            curl_easy_cleanup(easy);
        }
        in_flight_.clear();
    }

    /// Runs the callbacks of finished transfers. A callback may submit again; those complete on a later poll.
    void deliver() {
        std::vector<completion> batch;
        batch.swap(ready_);
        size_t idx = 0;
        try {
            for (; idx < batch.size(); ++idx) {
                completion& c = batch[idx];
                if (c.t->done) c.t->done(std::move(c.outcome));
            }
        } catch (...) {
            // A throwing callback must not lose the others: they run on the next poll.
            for (++idx; idx < batch.size(); ++idx) ready_.push_back(std::move(batch[idx]));
            throw;
        }
    }

    easy_ptr acquire_multi() {
        if (!multi_pool_.empty()) {
            easy_ptr easy = std::move(multi_pool_.back());
            multi_pool_.pop_back();
            return easy;
        }
        return easy_ptr(curl_easy_init());
    }

    void release_multi(easy_ptr easy) {
        if (multi_pool_.size() < max_connections_) multi_pool_.push_back(std::move(easy));
    }

    easy_ptr acquire_sync() {
        {
            std::lock_guard<std::mutex> lock(sync_mutex_);
            if (!sync_pool_.empty()) {
                easy_ptr easy = std::move(sync_pool_.back());
                sync_pool_.pop_back();
                return easy;
            }
        }
        return easy_ptr(curl_easy_init());
    }

    void release_sync(easy_ptr easy) {
        // Each pooled easy handle keeps its own live connection, so reuse gives keep-alive to perform().
        std::lock_guard<std::mutex> lock(sync_mutex_);
        if (sync_pool_.size() < max_connections_) sync_pool_.push_back(std::move(easy));
    }

    easy_settings settings_;
    size_t max_connections_;
    CURLcode init_code_ = CURLE_OK;
    CURLM* multi_ = nullptr;
    bool closing_ = false;
    std::unordered_map<CURL*, std::unique_ptr<transfer>> in_flight_;
    std::vector<completion> ready_;
    std::vector<easy_ptr> multi_pool_;
    std::mutex sync_mutex_;
    std::vector<easy_ptr> sync_pool_;
};

}  // namespace

std::unique_ptr<http_client> make_curl_http_client(const http_options& options) {
    return std::make_unique<curl_http_client>(options);
}

}  // namespace tarius::aws
