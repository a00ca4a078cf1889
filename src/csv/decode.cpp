// Decoding sinks (gzip, zstd, pass-through) and the local file pump. Compressed input is decoded while it
// streams: one fixed output buffer per sink, whatever the size of the input.
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv/spin_wait.hpp"
#include "tarius/stream.hpp"

namespace tarius {

namespace {

constexpr size_t OUT_BUFFER_SIZE = size_t{256} << 10;

/// Longest magic number looked at (xz and 7z: 6 bytes).
constexpr size_t MAGIC_BYTES = 6;

/// A zstd data frame starts with 28 B5 2F FD (RFC 8878, 3.1.1).
constexpr std::string_view ZSTD_FRAME_MAGIC("\x28\xB5\x2F\xFD", 4);

/// True when `head` (4 bytes at least) is the magic of a zstd skippable frame: 0x184D2A50 to 0x184D2A5F, little
/// endian (RFC 8878, 3.1.2), so 5? 2A 4D 18 on the wire.
bool is_zstd_skippable_magic(std::string_view head) {
    return head.size() >= 4 && (static_cast<unsigned char>(head[0]) & 0xF0) == 0x50 && head[1] == '\x2A' &&
           head[2] == '\x4D' && head[3] == '\x18';
}

struct magic {
    std::string_view bytes;
    const char* name;
};

/// Formats we recognise but do not read: they fail with a clear message instead of as garbage CSV.
constexpr std::array<magic, 5> UNSUPPORTED = {{
    {std::string_view("PK\x03\x04", 4), "zip"},
    {std::string_view("PK\x05\x06", 4), "zip"},
    {std::string_view("\xFD"
                      "7zXZ\x00",
                      6),
     "xz"},
    {std::string_view("7z\xBC\xAF\x27\x1C", 6), "7z"},
    {std::string_view("BZh", 3), "bzip2"},
}};

class decoding_sink final : public byte_sink {
public:
    explicit decoding_sink(byte_sink& next) : next_(next) {}

    ~decoding_sink() override {
        if (zlib_ready_) inflateEnd(&zs_);
        if (zstd_ != nullptr) ZSTD_freeDCtx(zstd_);
    }

    decoding_sink(const decoding_sink&) = delete;
    decoding_sink& operator=(const decoding_sink&) = delete;

    result<void> write(std::string_view chunk) override {
        if (!detected_) {
            head_.append(chunk);
            if (head_.size() < MAGIC_BYTES) return ok();
            TARIUS_TRY(detect());
            std::string head = std::move(head_);
            head_ = std::string();
            return feed(head);
        }
        return feed(chunk);
    }

    result<void> finish() override {
        if (!detected_) {
            TARIUS_TRY(detect());
            std::string head = std::move(head_);
            head_ = std::string();
            TARIUS_TRY(feed(head));
        }
        switch (kind_) {
            case compression::NONE: break;
            case compression::GZIP:
                if (gzip_in_member_) return make_error(errc::DECODE, "gzip input is truncated (member not complete)");
                break;
            case compression::ZSTD:
                if (zstd_in_frame_) return make_error(errc::DECODE, "zstd input is truncated (frame not complete)");
                if (!zstd_data_seen_) {
                    return make_error(errc::DECODE,
                                      "zstd input holds only skippable frames (metadata), no data frame: "
                                      "there is nothing to read");
                }
                break;
        }
        return next_.finish();
    }

    [[nodiscard]] compression kind() const noexcept { return kind_; }

private:
    result<void> detect() {
        detected_ = true;
        const std::string_view head(head_);
        if (head.size() >= 2 && head[0] == '\x1F' && head[1] == '\x8B') {
            kind_ = compression::GZIP;
            zs_ = z_stream{};
            // 16 + MAX_WBITS: gzip wrapper only.
            if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) return make_error(errc::INTERNAL, "inflateInit2 failed");
            zlib_ready_ = true;
        } else if (head.substr(0, 4) == ZSTD_FRAME_MAGIC || is_zstd_skippable_magic(head)) {
            // A skippable frame (metadata some writers put first) is valid zstd too: libzstd skips it.
            kind_ = compression::ZSTD;
            zstd_ = ZSTD_createDCtx();
            if (zstd_ == nullptr) return make_error(errc::INTERNAL, "ZSTD_createDCtx failed");
        } else {
            for (const magic& m : UNSUPPORTED) {
                if (head.substr(0, m.bytes.size()) != m.bytes) continue;
                // "BZh" alone is also the start of a text line: require the block-size digit too.
                if (std::string_view(m.name) == "bzip2" && (head.size() < 4 || head[3] < '1' || head[3] > '9')) {
                    continue;
                }
                return make_error(errc::CSV_FILE,
                                  std::string("unsupported compression: ") + m.name + " (use gzip, zstd or plain CSV)");
            }
        }
        if (kind_ != compression::NONE) out_.resize(OUT_BUFFER_SIZE);
        return ok();
    }

    result<void> feed(std::string_view chunk) {
        switch (kind_) {
            case compression::NONE: return chunk.empty() ? ok() : next_.write(chunk);
            case compression::GZIP: return inflate_chunk(chunk);
            case compression::ZSTD: return zstd_chunk(chunk);
        }
        return ok();
    }

    result<void> inflate_chunk(std::string_view chunk) {
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
        zs_.avail_in = static_cast<uInt>(chunk.size());
        for (;;) {
            if (!gzip_in_member_) {
                // Between members zero padding is allowed (as gzip(1) and Python do); anything else starts one.
                while (zs_.avail_in > 0 && *zs_.next_in == 0) {
                    ++zs_.next_in;
                    --zs_.avail_in;
                }
                if (zs_.avail_in == 0) return ok();
                if (inflateReset(&zs_) != Z_OK) return make_error(errc::INTERNAL, "inflateReset failed");
                gzip_in_member_ = true;
            }
            zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
            zs_.avail_out = static_cast<uInt>(out_.size());
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            const size_t produced = out_.size() - zs_.avail_out;
            if (rc == Z_STREAM_END) {
                gzip_in_member_ = false;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return make_error(errc::DECODE, std::string("corrupt gzip input: ") +
                                                    (zs_.msg != nullptr ? zs_.msg : "inflate failed"));
            }
            if (produced > 0) TARIUS_TRY(next_.write(std::string_view(out_.data(), produced)));
            // Done when the input is used up and the output buffer was not filled (nothing left inside zlib).
            if (zs_.avail_in == 0 && zs_.avail_out != 0) return ok();
            if (rc == Z_BUF_ERROR && produced == 0) {
                if (zs_.avail_in == 0) return ok();
                return make_error(errc::DECODE, "corrupt gzip input: no progress");
            }
        }
    }

    /// Follows the frames of the stream until the first one that is not skippable, so that a stream of nothing
    /// but skippable frames can be told apart from one with data (even empty data). Looks only at frame headers;
    /// the bytes still all go to libzstd, which decodes (and checks) everything.
    void note_zstd_frames(std::string_view chunk) {
        size_t pos = 0;
        while (!zstd_data_seen_ && pos < chunk.size()) {
            if (zstd_skip_left_ > 0) {
                const size_t skipped = static_cast<size_t>(std::min<uint64_t>(zstd_skip_left_, chunk.size() - pos));
                pos += skipped;
                zstd_skip_left_ -= skipped;
                continue;
            }
            zstd_frame_head_.push_back(chunk[pos++]);
            if (zstd_frame_head_.size() == 4 && !is_zstd_skippable_magic(zstd_frame_head_)) {
                zstd_data_seen_ = true;  // a data frame (or garbage, which libzstd reports)
            } else if (zstd_frame_head_.size() == 8) {
                // Magic, then the content size: 4 bytes, little endian.
                uint64_t size = 0;
                for (size_t byte_idx = 8; byte_idx-- > 4;) {
                    size = (size << 8) | static_cast<unsigned char>(zstd_frame_head_[byte_idx]);
                }
                zstd_skip_left_ = size;
                zstd_frame_head_.clear();
            }
        }
    }

    result<void> zstd_chunk(std::string_view chunk) {
        note_zstd_frames(chunk);
        ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
        while (in.pos < in.size) {
            ZSTD_outBuffer out{out_.data(), out_.size(), 0};
            const size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
            if (ZSTD_isError(rc) != 0) {
                return make_error(errc::DECODE, std::string("corrupt zstd input: ") + ZSTD_getErrorName(rc));
            }
            zstd_in_frame_ = rc != 0;  // 0: a frame just ended and was fully flushed
            if (out.pos > 0) TARIUS_TRY(next_.write(std::string_view(out_.data(), out.pos)));
        }
        // Input consumed, but the decoder may still hold output (the output buffer was full).
        while (zstd_in_frame_) {
            ZSTD_inBuffer empty{nullptr, 0, 0};
            ZSTD_outBuffer out{out_.data(), out_.size(), 0};
            const size_t rc = ZSTD_decompressStream(zstd_, &out, &empty);
            if (ZSTD_isError(rc) != 0) {
                return make_error(errc::DECODE, std::string("corrupt zstd input: ") + ZSTD_getErrorName(rc));
            }
            zstd_in_frame_ = rc != 0;
            if (out.pos == 0) break;
            TARIUS_TRY(next_.write(std::string_view(out_.data(), out.pos)));
        }
        return ok();
    }

    byte_sink& next_;
    bool detected_ = false;
    compression kind_ = compression::NONE;
    std::string head_;
    std::vector<char> out_;
    z_stream zs_{};
    bool zlib_ready_ = false;
    bool gzip_in_member_ = false;
    ZSTD_DCtx* zstd_ = nullptr;
    bool zstd_in_frame_ = false;
    bool zstd_data_seen_ = false;  // a frame that is not skippable has begun
    std::string zstd_frame_head_;  // the first bytes of the frame being looked at (up to 8)
    uint64_t zstd_skip_left_ = 0;  // bytes of a skippable frame's content still to pass over
};

}  // namespace

const char* compression_name(compression c) noexcept {
    switch (c) {
        case compression::NONE: return "none";
        case compression::GZIP: return "gzip";
        case compression::ZSTD: return "zstd";
    }
    return "none";
}

std::unique_ptr<byte_sink> make_decoding_sink(byte_sink& next) {
    return std::make_unique<decoding_sink>(next);
}

compression detected_compression(const byte_sink& decoding) noexcept {
    const auto* sink = dynamic_cast<const decoding_sink*>(&decoding);
    return sink == nullptr ? compression::NONE : sink->kind();
}

namespace {

// Reads into the sink's own memory when it offers some (no copy on its side), else into `own`.
result<void> pump_in_turn(int fd, const std::string& path, byte_sink& sink, size_t chunk_size) {
    std::vector<char> own;
    for (;;) {
        char* buffer = nullptr;
        const std::span<char> offered = sink.input_buffer(chunk_size);
        if (offered.size() >= chunk_size) {
            buffer = offered.data();
        } else {
            if (own.empty()) own.resize(chunk_size);
            buffer = own.data();
        }
        const ssize_t got = ::read(fd, buffer, chunk_size);
        if (got < 0) {
            if (errno == EINTR) continue;
            return make_error(errc::IO, "cannot read " + path + ": " + std::strerror(errno));
        }
        if (got == 0) return ok();
        TARIUS_TRY(sink.write(std::string_view(buffer, static_cast<size_t>(got))));
    }
}

// Reads a regular file ahead on a second thread into a ring of chunks, so that the kernel's copy of the next
// chunks overlaps the sink's work on the current one. Chunks are handed over in order; the reader never gets
// more than the ring ahead of the sink.
class read_ahead {
public:
    read_ahead(int fd, const std::string& path, size_t chunk_size) : fd_(fd), path_(path), chunk_size_(chunk_size) {
        for (auto& s : slots_) s.data = std::make_unique_for_overwrite<char[]>(chunk_size);
    }
    read_ahead(const read_ahead&) = delete;
    read_ahead& operator=(const read_ahead&) = delete;
    ~read_ahead() { stop(); }

    // False when the thread could not be started (the caller then reads in turn).
    bool start() {
        // std::thread reports a failure to start by throwing.
        try {
            thread_ = std::thread([this] { read_all(); });
        } catch (const std::system_error&) {
            return false;
        }
        return true;
    }

    result<void> drain_into(byte_sink& sink) {
        for (size_t chunk_idx = 0;; ++chunk_idx) {
            detail::spin_until([&] {
                return filled_hint_.load(std::memory_order_acquire) > chunk_idx ||
                       ended_hint_.load(std::memory_order_acquire);
            });
            {
                std::unique_lock<std::mutex> lock(mutex_);
                filled_changed_.wait(lock, [&] { return filled_ > chunk_idx || ended_; });
                if (filled_ <= chunk_idx) {
                    if (read_error_) return *read_error_;
                    return ok();
                }
            }
            const slot& s = slots_[chunk_idx % SLOTS];
            auto written = sink.write(std::string_view(s.data.get(), s.size));
            bool wake = false;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                consumed_ = chunk_idx + 1;
                wake = reader_waiting_ && filled_ - consumed_ <= SLOTS / 2;
            }
            if (wake) consumed_changed_.notify_one();
            if (!written) return written;
        }
    }

    void stop() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        consumed_changed_.notify_one();
        thread_.join();
    }

private:
    static constexpr size_t SLOTS = 8;

    struct slot {
        std::unique_ptr<char[]> data;
        size_t size = 0;
    };

    void read_all() {
        for (size_t chunk_idx = 0;; ++chunk_idx) {
            {
                // The reader is normally ahead: when the ring is full it sleeps until half of it is free, so
                // the sink's thread wakes it once per SLOTS / 2 chunks, not for every chunk.
                std::unique_lock<std::mutex> lock(mutex_);
                if (chunk_idx - consumed_ >= SLOTS) {
                    reader_waiting_ = true;
                    consumed_changed_.wait(lock, [&] { return chunk_idx - consumed_ <= SLOTS / 2 || stopping_; });
                    reader_waiting_ = false;
                }
                if (stopping_) return;
            }
            slot& s = slots_[chunk_idx % SLOTS];
            ssize_t got = 0;
            do {
                got = ::read(fd_, s.data.get(), chunk_size_);
            } while (got < 0 && errno == EINTR);
            const int read_errno = errno;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (got > 0) {
                    s.size = static_cast<size_t>(got);
                    filled_ = chunk_idx + 1;
                    filled_hint_.store(filled_, std::memory_order_release);
                } else {
                    if (got < 0) {
                        read_error_ = make_error(errc::IO, "cannot read " + path_ + ": " + std::strerror(read_errno));
                    }
                    ended_ = true;
                    ended_hint_.store(true, std::memory_order_release);
                }
            }
            filled_changed_.notify_one();
            if (got <= 0) return;
        }
    }

    const int fd_;
    const std::string& path_;
    const size_t chunk_size_;
    std::array<slot, SLOTS> slots_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable filled_changed_;
    std::condition_variable consumed_changed_;
    size_t filled_ = 0;    // chunks read so far (the ring holds chunks consumed_ .. filled_ - 1)
    size_t consumed_ = 0;  // chunks the sink is done with
    bool ended_ = false;   // end of file or a read error: no chunk after filled_
    bool stopping_ = false;
    bool reader_waiting_ = false;  // the reader sleeps until the ring is half free
    std::optional<error> read_error_;
    // Lock-free copies of the above for spin_until (the condition variables decide).
    std::atomic<size_t> filled_hint_{0};
    std::atomic<bool> ended_hint_{false};
};

}  // namespace

result<void> pump_file(const std::string& path, byte_sink& sink, size_t chunk_size) {
    pump_options options;
    options.chunk_size = chunk_size;
    return pump_file(path, sink, options);
}

result<void> pump_file(const std::string& path, byte_sink& sink, const pump_options& options) {
    const bool use_stdin = path == "-";
    const int fd = use_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(errc::IO, "cannot open " + path + ": " + std::strerror(errno));
    const size_t chunk_size = std::max<size_t>(options.chunk_size, 1);
    // Only regular files are read ahead: a read from a pipe or a terminal may block for good, and the reading
    // thread must be joinable as soon as the sink stops.
    struct stat info {};
    const bool ahead = options.read_ahead && !use_stdin && ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
    result<void> outcome = ok();
    if (ahead) {
        read_ahead reader(fd, path, chunk_size);
        outcome = reader.start() ? reader.drain_into(sink) : pump_in_turn(fd, path, sink, chunk_size);
    } else {
        outcome = pump_in_turn(fd, path, sink, chunk_size);
    }
    if (!use_stdin) ::close(fd);
    if (!outcome) return outcome;
    return sink.finish();
}

}  // namespace tarius
