#pragma once
/// A generator of products-like CSV (the shape of the original system's feed) of any size, for the demo,
/// tests and benchmarks. Deterministic for a given seed.

#include <cstdint>
#include <string>

#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::sample {

/// What to generate.
struct options {
    uint64_t rows = 1000;     ///< data rows (bad and duplicate rows included)
    uint64_t seed = 1;        ///< same seed, same bytes
    bool edge_cases = false;  ///< valid but tricky rows: quoted commas, doubled quotes, newlines, unicode, empty cells
    uint64_t bad_every = 0;   ///< every Nth row is bad (cycling: field count, empty key, bad price, invalid UTF-8)
    uint64_t duplicate_every = 0;  ///< every Nth row repeats the previous row's ID (a later version of it)
    bool crlf = false;             ///< CRLF line breaks instead of LF
};

/// The header line the generator writes (without line break).
inline constexpr const char* HEADER = "ID,Title,Availability,Brand,Categories,Price (USD),SellerID,SellerName,Url";

/// Writes the header and `opts.rows` rows into `out`, then finishes it.
[[nodiscard]] result<void> generate(const options& opts, byte_sink& out);

}  // namespace tarius::sample
