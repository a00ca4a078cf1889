#pragma once
// The CSV state machine: a byte-indexed transition table (duckdb's CSVStateMachine::Transition idea) and the
// structural-byte search that lets the scanner jump over runs of plain bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace tarius::csv::detail {

/// Where the scanner is inside a row (Python's csv module states for the excel dialect, strict=False).
enum class state : uint8_t {
    ROW_START,        ///< before the first byte of a row (or of a blank line)
    FIELD_START,      ///< just after a delimiter
    UNQUOTED,         ///< inside an unquoted field, or in text after a closing quote
    QUOTED,           ///< inside quotes
    QUOTE_IN_QUOTED,  ///< just after a quote inside quotes: closes the quotes unless another quote follows
    AFTER_CR,         ///< just after a CR that ended a line outside quotes: an LF here belongs to that line break
    COUNT_,
};

/// What the scanner does for one structural byte in one state; each action implies the next state.
enum class action : uint8_t {
    NONE,           ///< stays in the state (a delimiter inside quotes, a quote inside an unquoted field)
    QUOTED_CR,      ///< a CR inside quotes: counts a line
    QUOTED_LF,      ///< an LF inside quotes: counts a line unless it follows a CR
    BLANK_LF,       ///< an LF at a row start: a blank line
    BLANK_CR,       ///< a CR at a row start: a blank line, maybe followed by its LF
    ROW_DELIM,      ///< a delimiter at a row start: begins the row with an empty field
    ROW_QUOTE,      ///< a quote at a row start: begins the row with a quoted field
    FIELD_QUOTE,    ///< a quote after a delimiter: a quoted field
    FIELD_END,      ///< a delimiter ending a field
    ROW_END_LF,     ///< an LF ending the row
    ROW_END_CR,     ///< a CR ending the row; an LF may still follow
    CLOSE_QUOTE,    ///< a quote inside quotes
    ESCAPED_QUOTE,  ///< the second quote of `""` inside quotes
    CR_LF,          ///< the LF of a CRLF that ended a row or a blank line
    CR_OTHER,       ///< anything else after such a CR: the pending row is complete, redo the byte at row start
};

/// Per state, per byte: the action. Plain bytes (anything but the delimiter, `"`, CR, LF) never reach the table
/// in the scanner; their transitions (start an unquoted field, append text after a closing quote) are applied
/// when the scanner notices a gap between structural bytes.
class transition_table {
public:
    explicit transition_table(char delimiter) noexcept {
        for (auto& row : table_) row.fill(action::NONE);
        const auto delim = static_cast<uint8_t>(delimiter);
        constexpr uint8_t quote = '"';
        constexpr uint8_t cr = '\r';
        constexpr uint8_t lf = '\n';
        set(state::ROW_START, delim, action::ROW_DELIM);
        set(state::ROW_START, quote, action::ROW_QUOTE);
        set(state::ROW_START, cr, action::BLANK_CR);
        set(state::ROW_START, lf, action::BLANK_LF);
        set(state::FIELD_START, delim, action::FIELD_END);
        set(state::FIELD_START, quote, action::FIELD_QUOTE);
        set(state::FIELD_START, cr, action::ROW_END_CR);
        set(state::FIELD_START, lf, action::ROW_END_LF);
        set(state::UNQUOTED, delim, action::FIELD_END);
        set(state::UNQUOTED, cr, action::ROW_END_CR);
        set(state::UNQUOTED, lf, action::ROW_END_LF);
        set(state::QUOTED, quote, action::CLOSE_QUOTE);
        set(state::QUOTED, cr, action::QUOTED_CR);
        set(state::QUOTED, lf, action::QUOTED_LF);
        set(state::QUOTE_IN_QUOTED, delim, action::FIELD_END);
        set(state::QUOTE_IN_QUOTED, quote, action::ESCAPED_QUOTE);
        set(state::QUOTE_IN_QUOTED, cr, action::ROW_END_CR);
        set(state::QUOTE_IN_QUOTED, lf, action::ROW_END_LF);
        for (auto& a : table_[static_cast<size_t>(state::AFTER_CR)]) a = action::CR_OTHER;
        set(state::AFTER_CR, lf, action::CR_LF);
    }

    /// The action for byte `c` in state `s`.
    [[nodiscard]] action at(state s, uint8_t c) const noexcept { return table_[static_cast<size_t>(s)][c]; }

private:
    void set(state s, uint8_t c, action a) noexcept { table_[static_cast<size_t>(s)][c] = a; }

    std::array<std::array<action, 256>, static_cast<size_t>(state::COUNT_)> table_{};
};

/// Finds the structural bytes (delimiter, quote, CR, LF) of a 64-byte block: bit i is set when p[i] is one.
/// Reads exactly 64 bytes.
class structural_finder {
public:
    explicit structural_finder(char delimiter) noexcept : delimiter_(delimiter) {}

    [[nodiscard]] uint64_t block(const char* p) const noexcept {
#if defined(__SSE2__)
        const __m128i delim = _mm_set1_epi8(delimiter_);
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i cr = _mm_set1_epi8('\r');
        const __m128i lf = _mm_set1_epi8('\n');
        uint64_t bits = 0;
        for (int part = 0; part < 4; ++part) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * part));
            const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, quote)),
                                             _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
            bits |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(hit))) << (16 * part);
        }
        return bits;
#elif defined(__ARM_NEON)
        const uint8x16_t delim = vdupq_n_u8(static_cast<uint8_t>(delimiter_));
        const uint8x16_t quote = vdupq_n_u8('"');
        const uint8x16_t cr = vdupq_n_u8('\r');
        const uint8x16_t lf = vdupq_n_u8('\n');
        uint64_t bits = 0;
        for (int part = 0; part < 4; ++part) {
            const uint8x16_t v = vld1q_u8(reinterpret_cast<const uint8_t*>(p + 16 * part));
            const uint8x16_t hit =
                vorrq_u8(vorrq_u8(vceqq_u8(v, delim), vceqq_u8(v, quote)), vorrq_u8(vceqq_u8(v, cr), vceqq_u8(v, lf)));
            // Narrow each byte to 4 bits, then keep one bit per byte.
            const uint64_t nibbles = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(hit), 4)), 0);
            uint64_t part_bits = 0;
            for (int byte_idx = 0; byte_idx < 16; ++byte_idx) {
                part_bits |= ((nibbles >> (4 * byte_idx)) & 1U) << byte_idx;
            }
            bits |= part_bits << (16 * part);
        }
        return bits;
#else
        uint64_t bits = 0;
        for (int byte_idx = 0; byte_idx < 64; ++byte_idx) {
            const char c = p[byte_idx];
            if (c == delimiter_ || c == '"' || c == '\r' || c == '\n') bits |= uint64_t{1} << byte_idx;
        }
        return bits;
#endif
    }

    /// Fills `masks[i]` with `block(p + 64 * i)` for `i < count`, with the widest vector instructions the CPU
    /// has (AVX-512BW, AVX2, else `block`): one call per run of blocks, so the choice costs nothing per block.
    void blocks(const char* p, size_t count, uint64_t* masks) const noexcept;

    /// Like `block` for the last `len` (< 64) bytes of a buffer; the bytes past `len` never match.
    [[nodiscard]] uint64_t tail(const char* p, size_t len) const noexcept {
        char padded[64];
        std::memset(padded, 0, sizeof padded);
        std::memcpy(padded, p, len);
        const uint64_t bits = block(padded);
        return len == 0 ? 0 : bits & (~uint64_t{0} >> (64 - len));
    }

    /// The delimiter searched for.
    [[nodiscard]] char delimiter() const noexcept {
        return delimiter_;
    }

private:
    char delimiter_;
};

/// A way to compute structural masks for runs of 64-byte blocks (for tests: every one the CPU supports).
struct structural_kernel {
    const char* name;                                                           ///< e.g. "avx2"
    void (*masks)(const char* p, size_t count, uint64_t* out, char delimiter);  ///< as structural_finder::blocks
};

/// The kernels this CPU can run, widest first; the first one is what structural_finder::blocks uses.
[[nodiscard]] std::span<const structural_kernel> structural_kernels() noexcept;

}  // namespace tarius::csv::detail
