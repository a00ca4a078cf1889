#pragma once
// SHA-256, HMAC-SHA256 and lower-case hex for request signing, on OpenSSL's EVP digest interface.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::aws::detail {

/// Size in bytes of a SHA-256 digest.
inline constexpr size_t SHA256_SIZE = 32;

/// A raw SHA-256 digest (or HMAC-SHA256 tag).
using sha256_digest = std::array<uint8_t, SHA256_SIZE>;

/// Hex of the SHA-256 of the empty string, the payload hash of every body-less request.
inline constexpr std::string_view EMPTY_SHA256_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Returns the SHA-256 digest of `data`; fails only when OpenSSL cannot run the digest (out of memory).
[[nodiscard]] result<sha256_digest> sha256(std::string_view data);

/// Returns HMAC-SHA256(`key`, `data`) as defined by RFC 2104; `key` may have any length.
[[nodiscard]] result<sha256_digest> hmac_sha256(std::span<const uint8_t> key, std::string_view data);

/// Appends `bytes` to `out` as lower-case hexadecimal, two characters per byte.
void append_hex(std::string& out, std::span<const uint8_t> bytes);

/// Returns `bytes` as lower-case hexadecimal.
[[nodiscard]] std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace tarius::aws::detail
