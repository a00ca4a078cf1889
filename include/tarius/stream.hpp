#pragma once
/// Push-style byte streams: a producer (a file, stdin, an S3 response body) writes chunks into a sink.

#include <memory>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius {

/// A consumer of a byte stream delivered in chunks of any size.
class byte_sink {
public:
    virtual ~byte_sink() = default;
    /// Consumes the next chunk. An error stops the stream; the producer must not write again.
    [[nodiscard]] virtual result<void> write(std::string_view chunk) = 0;
    /// Ends the stream. Called once after the last write.
    [[nodiscard]] virtual result<void> finish() = 0;
};

/// The compression of a stream, recognised by its first bytes.
enum class compression : uint8_t { NONE, GZIP, ZSTD };

/// Returns "none", "gzip" or "zstd".
const char* compression_name(compression c) noexcept;

/// Returns a sink that recognises gzip (1f 8b) and zstd (28 b5 2f fd) by their magic bytes, decodes them while
/// streaming (concatenated gzip members and zstd frames included) and writes the decoded bytes to `next`;
/// other input passes through unchanged. Other archive formats (zip, bzip2, xz, 7z) fail with
/// `errc::CSV_FILE` "unsupported compression: <name>". Corrupt or truncated compressed input fails with
/// `errc::DECODE`. Precondition: `next` outlives the returned sink.
[[nodiscard]] std::unique_ptr<byte_sink> make_decoding_sink(byte_sink& next);

/// Reports which compression a decoding sink detected (NONE until the first bytes arrived).
[[nodiscard]] compression detected_compression(const byte_sink& decoding_sink) noexcept;

/// Reads a local file (or stdin when `path` is "-") in chunks of `chunk_size` bytes into `sink`,
/// then calls `sink.finish()`.
[[nodiscard]] result<void> pump_file(const std::string& path, byte_sink& sink, size_t chunk_size = 1 << 20);

}  // namespace tarius
