#pragma once
// Little-endian integers in byte buffers, for the digest and the sort runs (files that may move between machines
// keep one byte order).

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace tarius::loader::snapshot::detail {

inline void put_u64(char* dst, uint64_t v) noexcept {
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    std::memcpy(dst, &v, sizeof v);
}

inline uint64_t get_u64(const char* src) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, src, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}

inline void put_u16(char* dst, uint16_t v) noexcept {
    dst[0] = static_cast<char>(v & 0xFFu);
    dst[1] = static_cast<char>(v >> 8);
}

inline uint16_t get_u16(const char* src) noexcept {
    return static_cast<uint16_t>(static_cast<unsigned char>(src[0]) | (static_cast<unsigned char>(src[1]) << 8));
}

inline void put_u32(char* dst, uint32_t v) noexcept {
    for (int byte_idx = 0; byte_idx < 4; ++byte_idx) dst[byte_idx] = static_cast<char>((v >> (8 * byte_idx)) & 0xFFu);
}

inline uint32_t get_u32(const char* src) noexcept {
    const auto* u = reinterpret_cast<const unsigned char*>(src);
    return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) | (static_cast<uint32_t>(u[2]) << 16) |
           (static_cast<uint32_t>(u[3]) << 24);
}

/// Appends a little-endian u64 to `out`.
inline void append_u64(std::string& out, uint64_t v) {
    char b[8];
    put_u64(b, v);
    out.append(b, sizeof b);
}

}  // namespace tarius::loader::snapshot::detail
