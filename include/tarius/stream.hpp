#pragma once
/// Push-style byte streams: a producer (a file, stdin, an S3 response body) writes chunks into a sink.

#include <cstddef>
#include <memory>
#include <span>
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
    /// Optional zero-copy input: a buffer of at least `min_size` bytes that the producer may read the next chunk
    /// into and then pass (a prefix of it) to write(). The sink may go on reading those bytes after write()
    /// returns, so the producer must not touch them again: it asks before each chunk. Empty when the sink has
    /// no such buffer (the default); the producer then uses its own.
    [[nodiscard]] virtual std::span<char> input_buffer(size_t min_size) {
        (void)min_size;
        return {};
    }
    /// Asked by a producer that can wait for its next chunk (a network download) while it waits: true ends the
    /// stream (the producer fails with errc::CANCELLED). By default, never.
    [[nodiscard]] virtual bool stop_requested() { return false; }
};

/// The compression of a stream, recognised by its first bytes.
enum class compression : uint8_t { NONE, GZIP, ZSTD };

/// Returns "none", "gzip" or "zstd".
const char* compression_name(compression c) noexcept;

/// Returns a sink that recognises gzip (1f 8b) and zstd (28 b5 2f fd, or a skippable frame 5? 2a 4d 18) by their
/// magic bytes, decodes them while streaming (concatenated gzip members and zstd frames included, skippable
/// frames passed over) and writes the decoded bytes to `next`;
/// other input passes through unchanged. Other archive formats (zip, bzip2, xz, 7z) fail with
/// `errc::CSV_FILE` "unsupported compression: <name>". Corrupt or truncated compressed input, and zstd input of
/// skippable frames only, fail with `errc::DECODE`. Precondition: `next` outlives the returned sink.
[[nodiscard]] std::unique_ptr<byte_sink> make_decoding_sink(byte_sink& next);

/// Reports which compression a decoding sink detected (NONE until the first bytes arrived).
[[nodiscard]] compression detected_compression(const byte_sink& decoding_sink) noexcept;

/// Reads a local file (or stdin when `path` is "-") in chunks of `chunk_size` bytes into `sink` (into the sink's
/// own memory when it offers some, see `byte_sink::input_buffer`), then calls `sink.finish()`. The default size
/// keeps a chunk in a core's L2 cache between the read and the scan.
[[nodiscard]] result<void> pump_file(const std::string& path, byte_sink& sink, size_t chunk_size = 256 << 10);

/// How `pump_file` reads.
struct pump_options {
    size_t chunk_size = 256 << 10;  ///< bytes per read
    /// Read the next chunks on a second thread while the sink works on the current one (regular files only;
    /// stdin and pipes are read in turn). The sink is still called from the calling thread, in order, and the
    /// reading thread is never more than a few chunks ahead.
    bool read_ahead = false;
};

/// `pump_file` with options.
[[nodiscard]] result<void> pump_file(const std::string& path, byte_sink& sink, const pump_options& options);

}  // namespace tarius
