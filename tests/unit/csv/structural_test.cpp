// The structural masks (delimiter, quote, CR, LF per 64-byte block): every vector kernel this CPU can run against
// a byte-by-byte reference, for every delimiter, on random bytes (high bytes included: the compares must not
// be signed) and on runs of blocks of every length up to a few hundred.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "csv/state_machine.hpp"

namespace tarius::csv::detail {
namespace {

uint64_t reference_mask(const char* p, char delimiter) {
    uint64_t bits = 0;
    for (int byte_idx = 0; byte_idx < 64; ++byte_idx) {
        const char c = p[byte_idx];
        if (c == delimiter || c == '"' || c == '\r' || c == '\n') bits |= uint64_t{1} << byte_idx;
    }
    return bits;
}

TEST(csv_structural, every_kernel_matches_the_reference) {
    ASSERT_FALSE(structural_kernels().empty());
    EXPECT_STREQ(structural_kernels().back().name, "baseline");
    std::mt19937 rng(42);
    const std::string alphabet = ",\t|;\"\r\nab \x80\xff\xe2\x82\xac";
    for (const char delimiter : {',', '\t', '|', ';'}) {
        for (const bool dense : {false, true}) {
            std::string data(64 * 300, '\0');
            for (auto& ch : data) {
                ch = dense ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() & 0xff);
            }
            std::vector<uint64_t> expected(300);
            for (size_t block_idx = 0; block_idx < 300; ++block_idx) {
                expected[block_idx] = reference_mask(data.data() + 64 * block_idx, delimiter);
            }
            for (const structural_kernel& kernel : structural_kernels()) {
                for (const size_t count : {size_t{1}, size_t{2}, size_t{7}, size_t{300}}) {
                    std::vector<uint64_t> masks(count + 1, 0x5a5a5a5a5a5a5a5aULL);
                    kernel.masks(data.data(), count, masks.data(), delimiter);
                    for (size_t block_idx = 0; block_idx < count; ++block_idx) {
                        ASSERT_EQ(masks[block_idx], expected[block_idx])
                            << kernel.name << " delimiter " << int(delimiter) << " block " << block_idx;
                    }
                    EXPECT_EQ(masks[count], 0x5a5a5a5a5a5a5a5aULL) << kernel.name;  // wrote exactly `count`
                }
            }
            const structural_finder finder(delimiter);
            std::vector<uint64_t> masks(300);
            finder.blocks(data.data(), 300, masks.data());
            EXPECT_EQ(masks, expected) << "blocks() with delimiter " << int(delimiter);
        }
    }
}

}  // namespace
}  // namespace tarius::csv::detail
