#pragma once
/// Rejected rows: a re-droppable CSV (the original header and row bytes, unchanged) and a JSON Lines file with
/// one entry per rejected row (line, byte offset, column, reason, message).

#include <cstdint>
#include <string>
#include <string_view>

#include "tarius/reject.hpp"
#include "tarius/result.hpp"
#include "tarius/stream.hpp"

namespace tarius::pipeline {

/// Writes rejects into two byte sinks. Bytes are buffered and handed on in chunks of `flush_bytes`.
class rejects_writer {
public:
    /// Precondition: both sinks outlive the writer.
    rejects_writer(byte_sink& csv_out, byte_sink& reasons_out, size_t flush_bytes = 1 << 20);

    /// Records the header line (original bytes, line break included; empty when the file has no header).
    /// Called once before any reject; nothing is written until the first reject.
    void set_header(std::string_view raw_header);

    /// Writes one rejected row. `raw` is the row's original bytes; a missing final line break is added
    /// (the header's style) so rows never run together; `raw_complete` false marks an oversized row whose
    /// bytes were cut, which goes to the reasons file only.
    [[nodiscard]] result<void> reject(const row_problem& problem, std::string_view raw, bool raw_complete);

    /// Flushes both outputs and finishes both sinks.
    [[nodiscard]] result<void> finish();

    /// Rows written to the rejects CSV.
    [[nodiscard]] uint64_t csv_rows() const noexcept { return csv_rows_; }
    /// Entries written to the reasons file.
    [[nodiscard]] uint64_t reasons() const noexcept { return reasons_; }

private:
    [[nodiscard]] result<void> drain(bool force);

    byte_sink& csv_out_;
    byte_sink& reasons_out_;
    size_t flush_bytes_;
    std::string header_;
    std::string line_break_ = "\n";
    bool header_written_ = false;
    std::string csv_buf_;
    std::string reasons_buf_;
    uint64_t csv_rows_ = 0;
    uint64_t reasons_ = 0;
};

/// A sink that writes to a local file (created or truncated on the first write or at finish).
class file_sink final : public byte_sink {
public:
    explicit file_sink(std::string path);
    ~file_sink() override;
    file_sink(const file_sink&) = delete;
    file_sink& operator=(const file_sink&) = delete;
    [[nodiscard]] result<void> write(std::string_view chunk) override;
    [[nodiscard]] result<void> finish() override;

private:
    [[nodiscard]] result<void> open();
    std::string path_;
    int fd_ = -1;
};

/// A sink that discards everything (counts bytes).
class null_sink final : public byte_sink {
public:
    [[nodiscard]] result<void> write(std::string_view chunk) override {
        bytes_ += chunk.size();
        return ok();
    }
    [[nodiscard]] result<void> finish() override { return ok(); }
    [[nodiscard]] uint64_t bytes() const noexcept { return bytes_; }

private:
    uint64_t bytes_ = 0;
};

/// A sink that keeps everything in memory (tests, small outputs).
class string_sink final : public byte_sink {
public:
    [[nodiscard]] result<void> write(std::string_view chunk) override {
        data_.append(chunk);
        return ok();
    }
    [[nodiscard]] result<void> finish() override {
        finished_ = true;
        return ok();
    }
    [[nodiscard]] const std::string& data() const noexcept { return data_; }
    [[nodiscard]] bool finished() const noexcept { return finished_; }

private:
    std::string data_;
    bool finished_ = false;
};

}  // namespace tarius::pipeline
