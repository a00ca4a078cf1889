#pragma once
// Small codecs used for keys: strict base64 (DynamoDB B values) and the 64-bit key hash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tarius::mapping::detail {

/// Value returned by `base64_decoded_size` for text that is not canonical padded base64.
inline constexpr size_t INVALID_BASE64 = static_cast<size_t>(-1);

/// Returns the decoded length of standard padded base64 `text` (RFC 4648 §4, length a multiple of 4, unused
/// bits zero so every byte string has one encoding), or INVALID_BASE64.
[[nodiscard]] size_t base64_decoded_size(std::string_view text) noexcept;

/// Appends the bytes encoded by `text`. Precondition: `base64_decoded_size(text) != INVALID_BASE64`.
void append_base64_decoded(std::string_view text, std::string& out);

/// Appends the standard padded base64 encoding of `bytes`.
void append_base64(std::string_view bytes, std::string& out);

/// A fast, well-mixed 64-bit hash of `bytes` (8-byte words folded with multiply-rotate, then a final
/// avalanche); not cryptographic.
[[nodiscard]] uint64_t hash64(std::string_view bytes) noexcept;

}  // namespace tarius::mapping::detail
