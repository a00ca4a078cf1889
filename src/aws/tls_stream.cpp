#include "aws/tls_stream.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace tarius::aws::detail {
namespace {

/// The oldest error on OpenSSL's thread-local queue as text (the queue is then cleared), or `fallback`.
std::string take_ssl_errors(std::string_view fallback) {
    unsigned long code = ERR_get_error();
    std::string out;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof(buf));
        out = buf;
    } else {
        out = std::string(fallback);
    }
    ERR_clear_error();
    return out;
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), which raises SIGPIPE (and kills
// the process) when the server has closed the connection. The process does not ignore SIGPIPE.
int bio_fd(BIO* bio) {
    return *static_cast<const int*>(BIO_get_data(bio));  // tls_stream::fd_
}

int bio_write(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::send(bio_fd(bio), data, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
    return -1;
}

int bio_read(BIO* bio, char* data, int len) {
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::recv(bio_fd(bio), data, static_cast<size_t>(len), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
    return -1;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

/// The method table, built once (thread-safe static initialisation).
const BIO_METHOD* nosignal_socket_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tarius nosignal socket");
        if (m == nullptr) return m;
        BIO_meth_set_write(m, &bio_write);
        BIO_meth_set_read(m, &bio_read);
        BIO_meth_set_ctrl(m, &bio_ctrl);
        BIO_meth_set_create(m, &bio_create);
        return m;
    }();
    return method;
}

bool is_ip_literal(const std::string& host) {
    unsigned char addr[16];
    return ::inet_pton(AF_INET, host.c_str(), addr) == 1 || ::inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

}  // namespace

result<std::shared_ptr<tls_context>> tls_context::create(const std::string& ca_bundle) {
    ERR_clear_error();
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return make_error(errc::INTERNAL, "SSL_CTX_new: " + take_ssl_errors("failed"));
    std::shared_ptr<tls_context> out(new tls_context(ctx));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Partial writes and a moving buffer: the caller retries with the rest of its own buffer. An EOF without
    // close_notify reads as a plain EOF; the HTTP framing decides whether the answer was complete.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (!ca_bundle.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, ca_bundle.c_str(), nullptr) != 1) {
            return make_error(errc::NETWORK,
                              "cannot load the CA bundle " + ca_bundle + ": " + take_ssl_errors("no certificates"));
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return make_error(errc::NETWORK, "cannot load OpenSSL's default CA paths: " + take_ssl_errors("failed"));
    }
    return out;
}

tls_context::~tls_context() {
    SSL_CTX_free(ctx_);
}

result<std::unique_ptr<tls_stream>> tls_stream::start(const tls_context& context, int fd, const std::string& host) {
    ERR_clear_error();
    SSL* ssl = SSL_new(context.get());
    if (ssl == nullptr) return make_error(errc::INTERNAL, "SSL_new: " + take_ssl_errors("failed"));
    std::unique_ptr<tls_stream> out(new tls_stream(ssl));
    const BIO_METHOD* method = nosignal_socket_method();
    BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) return make_error(errc::INTERNAL, "BIO_new: " + take_ssl_errors("failed"));
    out->fd_ = fd;
    BIO_set_data(bio, &out->fd_);  // the session (and its BIO) lives inside `out`
    SSL_set_bio(ssl, bio, bio);    // one reference, owned by the session from now on
    bool named = false;
    if (is_ip_literal(host)) {
        // No SNI for addresses (RFC 6066 3); the certificate must carry the IP in its subjectAltName.
        named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    } else {
        named = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
    }
    if (!named) {
        return make_error(errc::INVALID_ARGUMENT,
                          "TLS: cannot expect a certificate for '" + host + "': " + take_ssl_errors("invalid name"));
    }
    SSL_set_connect_state(ssl);
    return out;
}

tls_stream::~tls_stream() {
    SSL_free(ssl_);
}

io_result tls_stream::classify(int ret) {
    const int saved_errno = errno;
    const int code = SSL_get_error(ssl_, ret);
    switch (code) {
        case SSL_ERROR_WANT_READ: return io_result{io_status::WANT_READ, 0, 0};
        case SSL_ERROR_WANT_WRITE: return io_result{io_status::WANT_WRITE, 0, 0};
        case SSL_ERROR_ZERO_RETURN: return io_result{io_status::CLOSED, 0, 0};
        case SSL_ERROR_SYSCALL:
            if (ERR_peek_error() == 0 && saved_errno == 0) return io_result{io_status::CLOSED, 0, 0};
            failure_ = take_ssl_errors(saved_errno != 0 ? std::strerror(saved_errno) : "I/O error");
            return io_result{io_status::FAILED, 0, saved_errno};
        default: break;
    }
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
        verification_failed_ = true;
        ERR_clear_error();
        failure_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    } else {
        failure_ = take_ssl_errors("TLS error");
    }
    return io_result{io_status::FAILED, 0, 0};
}

io_status tls_stream::handshake() {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_);
    if (ret == 1) return io_status::OK;
    io_result r = classify(ret);
    if (r.status == io_status::CLOSED) {
        failure_ = "connection closed during the TLS handshake";
        return io_status::FAILED;
    }
    return r.status;
}

io_result tls_stream::read(char* buf, size_t len) {
    ERR_clear_error();
    errno = 0;
    size_t got = 0;
    const int ret = SSL_read_ex(ssl_, buf, len, &got);
    if (ret == 1) return io_result{io_status::OK, got, 0};
    return classify(ret);
}

io_result tls_stream::write(const char* buf, size_t len) {
    ERR_clear_error();
    errno = 0;
    size_t put = 0;
    const int ret = SSL_write_ex(ssl_, buf, len, &put);
    if (ret == 1) return io_result{io_status::OK, put, 0};
    return classify(ret);
}

bool tls_stream::pending() const noexcept {
    return SSL_has_pending(ssl_) == 1;
}

}  // namespace tarius::aws::detail
