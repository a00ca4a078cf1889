#include "aws/crypto.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace tarius::aws::detail {
namespace {

constexpr size_t SHA256_BLOCK_SIZE = 64;

// The digest is fetched once: with OpenSSL 3 an implicit EVP_sha256() lookup per call costs a provider
// query, which would dominate the signing of small requests.
const EVP_MD* sha256_md() {
    static const EVP_MD* md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return fetched != nullptr ? fetched : EVP_sha256();
    }();
    return md;
}

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// One context per thread, reused, so hashing allocates nothing after the first call on a thread.
EVP_MD_CTX* thread_ctx() {
    thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    return ctx.get();
}

error digest_error() {
    return make_error(errc::INTERNAL, "openssl: SHA-256 digest failed");
}

// Hashes the concatenation of two byte ranges; HMAC needs exactly two parts per pass.
result<sha256_digest> sha256_two(std::span<const uint8_t> first, std::string_view second) {
    EVP_MD_CTX* ctx = thread_ctx();
    if (ctx == nullptr) return digest_error();
    sha256_digest out{};
    unsigned int out_len = 0;
    if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) return digest_error();
    if (!first.empty() && EVP_DigestUpdate(ctx, first.data(), first.size()) != 1) return digest_error();
    if (!second.empty() && EVP_DigestUpdate(ctx, second.data(), second.size()) != 1) return digest_error();
    if (EVP_DigestFinal_ex(ctx, out.data(), &out_len) != 1 || out_len != SHA256_SIZE) return digest_error();
    return out;
}

}  // namespace

result<sha256_digest> sha256(std::string_view data) {
    return sha256_two({}, data);
}

result<sha256_digest> hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
    // RFC 2104: keys longer than the block are hashed first, shorter ones are zero-padded.
    std::array<uint8_t, SHA256_BLOCK_SIZE> block{};
    if (key.size() > SHA256_BLOCK_SIZE) {
        auto hashed = sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
        if (!hashed) return std::move(hashed).err();
        std::copy(hashed->begin(), hashed->end(), block.begin());
    } else {
        std::copy(key.begin(), key.end(), block.begin());
    }
    std::array<uint8_t, SHA256_BLOCK_SIZE> pad{};
    for (size_t i = 0; i < SHA256_BLOCK_SIZE; ++i) pad[i] = static_cast<uint8_t>(block[i] ^ 0x36U);
    auto inner = sha256_two(pad, data);
    if (!inner) return std::move(inner).err();
    for (size_t i = 0; i < SHA256_BLOCK_SIZE; ++i) pad[i] = static_cast<uint8_t>(block[i] ^ 0x5cU);
    return sha256_two(pad, std::string_view(reinterpret_cast<const char*>(inner->data()), inner->size()));
}

void append_hex(std::string& out, std::span<const uint8_t> bytes) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    const size_t start = out.size();
    out.resize(start + 2 * bytes.size());
    char* dst = out.data() + start;
    for (uint8_t byte : bytes) {
        *dst++ = DIGITS[byte >> 4U];
        *dst++ = DIGITS[byte & 0x0fU];
    }
}

std::string to_hex(std::span<const uint8_t> bytes) {
    std::string out;
    append_hex(out, bytes);
    return out;
}

}  // namespace tarius::aws::detail
