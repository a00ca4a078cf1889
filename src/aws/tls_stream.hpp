#pragma once
/// TLS over a non-blocking socket for the socket transport (src/aws/socket_http.cpp), on OpenSSL: peer
/// verification against a CA bundle (or OpenSSL's default paths), host name or IP check, SNI, TLS 1.2 or newer.
/// Every call returns at once: WANT_READ / WANT_WRITE say which readiness of the socket to wait for.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// What a non-blocking TLS or socket operation did.
enum class io_status : uint8_t {
    OK,          ///< progress: `bytes` moved (handshake: finished)
    WANT_READ,   ///< call again once the socket is readable
    WANT_WRITE,  ///< call again once the socket is writable
    CLOSED,      ///< the peer ended the stream (EOF or close_notify)
    FAILED,      ///< an error; see tls_stream::failure()
};

/// The outcome of one read or write.
struct io_result {
    io_status status = io_status::OK;  ///< what happened
    size_t bytes = 0;                  ///< bytes moved when status is OK
    int sys_errno = 0;                 ///< errno of a failed socket call, else 0
};

/// One SSL_CTX shared by every connection of a client: trust store, protocol floor, verification mode.
class tls_context {
public:
    /// Builds the context: trusts `ca_bundle` (a PEM file) when non-empty, else OpenSSL's default paths. A bundle
    /// that cannot be loaded is a non-retryable errc::NETWORK error naming the file.
    [[nodiscard]] static result<std::shared_ptr<tls_context>> create(const std::string& ca_bundle);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    /// The OpenSSL context.
    [[nodiscard]] SSL_CTX* get() const noexcept { return ctx_; }

private:
    explicit tls_context(SSL_CTX* ctx) : ctx_(ctx) {}
    SSL_CTX* ctx_;
};

/// A TLS session on a connected socket it does not own.
class tls_stream {
public:
    /// Starts a client session on `fd` that expects a certificate for `host` (a DNS name or an IP literal).
    [[nodiscard]] static result<std::unique_ptr<tls_stream>> start(const tls_context& context, int fd,
                                                                   const std::string& host);
    ~tls_stream();
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    /// Advances the handshake: OK once it is complete.
    [[nodiscard]] io_status handshake();
    /// Reads up to `len` decrypted bytes.
    [[nodiscard]] io_result read(char* buf, size_t len);
    /// Writes up to `len` bytes. After WANT_READ/WANT_WRITE the next call must pass the same bytes again.
    [[nodiscard]] io_result write(const char* buf, size_t len);
    /// Bytes OpenSSL holds already, decrypted or of a record not yet whole: an answer has more after it, or an idle
    /// connection is receiving something.
    [[nodiscard]] bool pending() const noexcept;

    /// Why the last operation FAILED, e.g. "certificate verify failed: self-signed certificate".
    [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
    /// True when the last failure was the peer's certificate being refused (retrying cannot help).
    [[nodiscard]] bool verification_failed() const noexcept { return verification_failed_; }

private:
    explicit tls_stream(SSL* ssl) : ssl_(ssl) {}
    /// Classifies the SSL_get_error of a call that returned `ret`.
    io_result classify(int ret);

    SSL* ssl_;
    int fd_ = -1;  // read by the BIO
    std::string failure_;
    bool verification_failed_ = false;
};

}  // namespace tarius::aws::detail
