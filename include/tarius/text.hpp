#pragma once
/// Small text helpers shared by the layers.

#include <cstddef>
#include <string_view>

namespace tarius {

/// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8 character (for
/// messages, keys and subjects that must stay valid UTF-8 when shortened).
[[nodiscard]] std::string_view utf8_prefix(std::string_view text, size_t max_bytes) noexcept;

}  // namespace tarius
