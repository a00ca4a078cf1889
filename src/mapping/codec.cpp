#include "mapping/codec.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace tarius::mapping::detail {
namespace {

constexpr char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t BAD = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
    std::array<uint8_t, 256> table{};
    for (auto& entry : table) entry = BAD;
    for (size_t idx = 0; idx < 64; ++idx) table[static_cast<uint8_t>(ALPHABET[idx])] = static_cast<uint8_t>(idx);
    return table;
}
constexpr auto DECODE = make_decode_table();

uint8_t decode_at(std::string_view text, size_t idx) noexcept {
    return DECODE[static_cast<uint8_t>(text[idx])];
}

constexpr uint64_t K1 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t K2 = 0xc2b2ae3d27d4eb4fULL;
constexpr uint64_t K3 = 0x165667b19e3779f9ULL;

uint64_t rotl(uint64_t value, int shift) noexcept {
    return (value << shift) | (value >> (64 - shift));
}

uint64_t load64(const char* ptr) noexcept {
    uint64_t value;
    std::memcpy(&value, ptr, sizeof value);
    return value;
}

}  // namespace

size_t base64_decoded_size(std::string_view text) noexcept {
    const size_t size = text.size();
    if (size % 4 != 0) return INVALID_BASE64;
    if (size == 0) return 0;
    size_t padding = 0;
    if (text[size - 1] == '=') padding = text[size - 2] == '=' ? 2 : 1;
    for (size_t idx = 0; idx < size - padding; ++idx) {
        if (decode_at(text, idx) == BAD) return INVALID_BASE64;
    }
    // Unused low bits of the last symbol must be zero, or two texts would decode to the same bytes.
    if (padding == 2 && (decode_at(text, size - 3) & 0x0f) != 0) return INVALID_BASE64;
    if (padding == 1 && (decode_at(text, size - 2) & 0x03) != 0) return INVALID_BASE64;
    return size / 4 * 3 - padding;
}

void append_base64_decoded(std::string_view text, std::string& out) {
    const size_t size = text.size();
    for (size_t idx = 0; idx + 4 <= size; idx += 4) {
        const uint32_t aa = decode_at(text, idx);
        const uint32_t bb = decode_at(text, idx + 1);
        out.push_back(static_cast<char>((aa << 2) | (bb >> 4)));
        if (text[idx + 2] == '=') break;
        const uint32_t cc = decode_at(text, idx + 2);
        out.push_back(static_cast<char>(((bb & 0x0f) << 4) | (cc >> 2)));
        if (text[idx + 3] == '=') break;
        const uint32_t dd = decode_at(text, idx + 3);
        out.push_back(static_cast<char>(((cc & 0x03) << 6) | dd));
    }
}

void append_base64(std::string_view bytes, std::string& out) {
    size_t idx = 0;
    const auto byte_at = [&](size_t pos) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos])); };
    for (; idx + 3 <= bytes.size(); idx += 3) {
        const uint32_t word = (byte_at(idx) << 16) | (byte_at(idx + 1) << 8) | byte_at(idx + 2);
        out.push_back(ALPHABET[(word >> 18) & 63]);
        out.push_back(ALPHABET[(word >> 12) & 63]);
        out.push_back(ALPHABET[(word >> 6) & 63]);
        out.push_back(ALPHABET[word & 63]);
    }
    const size_t rest = bytes.size() - idx;
    if (rest == 0) return;
    const uint32_t word = (byte_at(idx) << 16) | (rest == 2 ? byte_at(idx + 1) << 8 : 0);
    out.push_back(ALPHABET[(word >> 18) & 63]);
    out.push_back(ALPHABET[(word >> 12) & 63]);
    out.push_back(rest == 2 ? ALPHABET[(word >> 6) & 63] : '=');
    out.push_back('=');
}

uint64_t hash64(std::string_view bytes) noexcept {
    const char* data = bytes.data();
    size_t size = bytes.size();
    uint64_t state = K3 ^ (static_cast<uint64_t>(size) * K1);
    while (size >= 8) {
        state = rotl(state ^ (load64(data) * K2), 29) * K1;
        data += 8;
        size -= 8;
    }
    if (size > 0) {
        uint64_t tail = 0;
        if (std::endian::native == std::endian::little && bytes.size() >= 8) {
            // The same value as the copy below, from one load of the last 8 bytes (the remainder's bytes end up
            // in the low end): no byte loop for the usual 9..15-byte keys.
            tail = load64(data + size - 8) >> (64 - 8 * size);
        } else {
            std::memcpy(&tail, data, size);
        }
        state = rotl(state ^ ((tail ^ (static_cast<uint64_t>(size) << 56)) * K2), 29) * K1;
    }
    // Final avalanche (xor-shift-multiply) so every input bit reaches every output bit.
    state ^= state >> 33;
    state *= K2;
    state ^= state >> 29;
    state *= K3;
    state ^= state >> 32;
    return state;
}

}  // namespace tarius::mapping::detail
