// Structural masks for runs of 64-byte blocks with the widest vector instructions the CPU supports, chosen once at
// run time: the build targets baseline x86-64 (SSE2), but most machines have AVX2 and many AVX-512BW, which find
// the delimiters, quotes and line breaks of a block in a few instructions instead of some forty.
#include <array>
#include <cstdint>

#include "csv/state_machine.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TARIUS_WIDE_KERNELS 1
#endif

namespace tarius::csv::detail {
namespace {

void masks_baseline(const char* p, size_t count, uint64_t* out, char delimiter) {
    const structural_finder finder(delimiter);
    for (size_t block_idx = 0; block_idx < count; ++block_idx) out[block_idx] = finder.block(p + 64 * block_idx);
}

#if defined(TARIUS_WIDE_KERNELS)

__attribute__((target("avx2"))) void masks_avx2(const char* p, size_t count, uint64_t* out, char delimiter) {
    const __m256i delim = _mm256_set1_epi8(delimiter);
    const __m256i quote = _mm256_set1_epi8('"');
    const __m256i cr = _mm256_set1_epi8('\r');
    const __m256i lf = _mm256_set1_epi8('\n');
    for (size_t block_idx = 0; block_idx < count; ++block_idx) {
        const char* block = p + 64 * block_idx;
        uint64_t bits = 0;
        for (int half = 0; half < 2; ++half) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32 * half));
            const __m256i hit =
                _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, delim), _mm256_cmpeq_epi8(v, quote)),
                                _mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf)));
            bits |= static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hit))) << (32 * half);
        }
        out[block_idx] = bits;
    }
}

__attribute__((target("avx512f,avx512bw"))) void masks_avx512(const char* p, size_t count, uint64_t* out,
                                                              char delimiter) {
    const __m512i delim = _mm512_set1_epi8(delimiter);
    const __m512i quote = _mm512_set1_epi8('"');
    const __m512i cr = _mm512_set1_epi8('\r');
    const __m512i lf = _mm512_set1_epi8('\n');
    for (size_t block_idx = 0; block_idx < count; ++block_idx) {
        const __m512i v = _mm512_loadu_si512(p + 64 * block_idx);
        out[block_idx] = _mm512_cmpeq_epi8_mask(v, delim) | _mm512_cmpeq_epi8_mask(v, quote) |
                         _mm512_cmpeq_epi8_mask(v, cr) | _mm512_cmpeq_epi8_mask(v, lf);
    }
}

#endif

struct kernel_list {
    std::array<structural_kernel, 3> kernels{};
    size_t count = 0;

    kernel_list() {
#if defined(TARIUS_WIDE_KERNELS)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512f")) {
            kernels[count++] = structural_kernel{"avx512bw", masks_avx512};
        }
        if (__builtin_cpu_supports("avx2")) kernels[count++] = structural_kernel{"avx2", masks_avx2};
#endif
        kernels[count++] = structural_kernel{"baseline", masks_baseline};
    }
};

const kernel_list& available() noexcept {
    static const kernel_list list;
    return list;
}

}  // namespace

std::span<const structural_kernel> structural_kernels() noexcept {
    return std::span<const structural_kernel>(available().kernels.data(), available().count);
}

void structural_finder::blocks(const char* p, size_t count, uint64_t* masks) const noexcept {
    // Chosen once; a function-local static is initialised thread-safely on first use.
    static const auto best = available().kernels[0].masks;
    best(p, count, masks, delimiter_);
}

}  // namespace tarius::csv::detail
