#include <array>
#include <cstdint>
#include <string_view>

#include "tarius/aws/errors.hpp"

namespace tarius::aws {

namespace {

// The reflected IEEE 802.3 polynomial used by zlib's crc32(); the aws layer does not link zlib, and a
// 1 KiB table computed at compile time is all it takes.
constexpr std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t value = byte;
        for (int bit = 0; bit < 8; ++bit) value = (value & 1U) != 0 ? 0xEDB88320U ^ (value >> 1) : value >> 1;
        table[byte] = value;
    }
    return table;
}

constexpr std::array<uint32_t, 256> CRC_TABLE = make_crc_table();

}  // namespace

uint32_t crc32(std::string_view data, uint32_t crc) {
    crc = ~crc;
    for (char c : data) crc = CRC_TABLE[(crc ^ static_cast<unsigned char>(c)) & 0xFFU] ^ (crc >> 8);
    return ~crc;
}

}  // namespace tarius::aws
