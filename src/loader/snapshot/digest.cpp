#include "loader/snapshot/digest.hpp"

#include <simdjson.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "json/writer.hpp"
#include "loader/snapshot/bytes.hpp"

namespace tarius::loader::snapshot {
namespace detail {
void file_closer::operator()(std::FILE* f) const noexcept {
    if (f != nullptr) std::fclose(f);
}
void zstd_cctx_free::operator()(ZSTD_CCtx_s* ctx) const noexcept {
    ZSTD_freeCCtx(ctx);
}
void zstd_dctx_free::operator()(ZSTD_DCtx_s* ctx) const noexcept {
    ZSTD_freeDCtx(ctx);
}
}  // namespace detail

namespace {

/// key_hash, hash.hi, hash.lo, key_len.
constexpr size_t ENTRY_FIXED = 8 + 8 + 8 + 2;
constexpr size_t MAX_KEY = 0xFFFF;
/// The rows value in the header is padded to this width so finish() can write it in place (u64 max has 20 digits).
constexpr size_t ROWS_WIDTH = 20;
/// A header line longer than this is not a digest header.
constexpr size_t MAX_HEADER = size_t{64} * 1024;
/// Entries are mostly random bits (the hashes): on 1 M entries (53 MB) level 1 is three times as fast as level 3
/// for about the same size (29–31 MB either way), and its 512 KiB window keeps a reader's memory small. The
/// checksum makes corruption an error.
constexpr int COMPRESSION_LEVEL = 1;

error io_error(const std::string& path, const char* what) {
    return make_error(errc::IO, "digest " + path + ": " + what + ": " + std::strerror(errno));
}

std::string padded_rows(const char* value) {
    std::string out(value);
    out.resize(ROWS_WIDTH, ' ');
    return out;
}

}  // namespace

// ---- writer ----

result<digest_writer> digest_writer::create(const std::string& path, digest_header header) {
    digest_writer w;
    w.path_ = path;
    w.header_ = std::move(header);
    w.header_.rows = 0;
    w.file_.reset(std::fopen(path.c_str(), "wb"));
    if (!w.file_) return io_error(path, "cannot create");

    std::string line = "{\"format\":";
    json::append_string(line, DIGEST_FORMAT);
    const auto field = [&line](const char* name, const std::string& value) {
        line += ",\"";
        line += name;
        line += "\":";
        json::append_string(line, value);
    };
    field("feed", w.header_.feed);
    field("table", w.header_.table);
    field("load_id", w.header_.load_id);
    field("source", w.header_.source);
    field("key_schema", w.header_.key_schema);
    line += ",\"rows\":";
    w.rows_offset_ = static_cast<long>(line.size());
    line += padded_rows("null");  // an unfinished digest is refused by the reader
    line += "}\n";
    if (std::fwrite(line.data(), 1, line.size(), w.file_.get()) != line.size()) return io_error(path, "cannot write");

    w.cctx_.reset(ZSTD_createCCtx());
    if (!w.cctx_) return make_error(errc::INTERNAL, "ZSTD_createCCtx failed");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w.cctx_.get(), ZSTD_c_compressionLevel, COMPRESSION_LEVEL)) != 0 ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w.cctx_.get(), ZSTD_c_checksumFlag, 1)) != 0) {
        return make_error(errc::INTERNAL, "ZSTD_CCtx_setParameter failed");
    }
    w.in_.reserve(ZSTD_CStreamInSize() + ENTRY_FIXED + MAX_KEY);
    w.out_.resize(ZSTD_CStreamOutSize());
    return w;
}

result<void> digest_writer::add(const digest_entry& e) {
    if (finished_ || !file_) return make_error(errc::INTERNAL, "digest " + path_ + ": add() after finish()");
    if (e.key_json.size() > MAX_KEY) {
        return make_error(errc::INVALID_ARGUMENT, "digest " + path_ + ": a key of " +
                                                      std::to_string(e.key_json.size()) +
                                                      " bytes (the limit is 65535): " + e.key_json.substr(0, 80));
    }
    if (header_.rows > 0 && compare_keys(last_hash_, last_key_, e.key_hash, e.key_json) >= 0) {
        return make_error(errc::INTERNAL,
                          "digest " + path_ + ": entry " + std::to_string(header_.rows + 1) +
                              " is not after the previous one in (key_hash, key) order: " + e.key_json.substr(0, 80));
    }
    char fixed[ENTRY_FIXED];
    detail::put_u64(fixed, e.key_hash);
    detail::put_u64(fixed + 8, e.hash.hi);
    detail::put_u64(fixed + 16, e.hash.lo);
    detail::put_u16(fixed + 24, static_cast<uint16_t>(e.key_json.size()));
    in_.append(fixed, sizeof fixed);
    in_.append(e.key_json);
    last_hash_ = e.key_hash;
    last_key_.assign(e.key_json);
    ++header_.rows;
    if (in_.size() >= ZSTD_CStreamInSize()) TARIUS_TRY(compress(false));
    return ok();
}

result<void> digest_writer::compress(bool end) {
    ZSTD_inBuffer in{in_.data(), in_.size(), 0};
    for (;;) {
        ZSTD_outBuffer out{out_.data(), out_.size(), 0};
        const size_t rc = ZSTD_compressStream2(cctx_.get(), &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(rc) != 0) {
            return make_error(errc::INTERNAL, "digest " + path_ + ": zstd: " + ZSTD_getErrorName(rc));
        }
        if (out.pos > 0 && std::fwrite(out_.data(), 1, out.pos, file_.get()) != out.pos) {
            return io_error(path_, "cannot write");
        }
        // ZSTD_e_continue is done when the input is consumed; ZSTD_e_end when the frame is fully flushed (rc 0).
        if (end ? rc == 0 : in.pos == in.size) break;
    }
    in_.clear();
    return ok();
}

result<void> digest_writer::finish() {
    if (finished_ || !file_) return make_error(errc::INTERNAL, "digest " + path_ + ": finish() called twice");
    finished_ = true;
    TARIUS_TRY(compress(true));
    const std::string rows = padded_rows(std::to_string(header_.rows).c_str());
    if (std::fseek(file_.get(), rows_offset_, SEEK_SET) != 0) return io_error(path_, "cannot seek");
    if (std::fwrite(rows.data(), 1, rows.size(), file_.get()) != rows.size()) return io_error(path_, "cannot write");
    if (std::fflush(file_.get()) != 0) return io_error(path_, "cannot write");
    std::FILE* f = file_.release();
    if (std::fclose(f) != 0) return io_error(path_, "cannot close");
    return ok();
}

// ---- reader ----

error digest_reader::corrupt(const std::string& reason) const {
    return make_error(errc::INVALID_ARGUMENT, "digest " + path_ + ": " + reason + " (after " + std::to_string(read_) +
                                                  " of " + std::to_string(header_.rows) + " entries, " +
                                                  std::to_string(file_offset_) + " bytes read)");
}

result<digest_reader> digest_reader::open(const std::string& path) {
    digest_reader r;
    r.path_ = path;
    r.file_.reset(std::fopen(path.c_str(), "rb"));
    if (!r.file_) return io_error(path, "cannot open");
    r.in_cap_ = ZSTD_DStreamInSize() + MAX_HEADER;
    r.in_ = std::make_unique<char[]>(r.in_cap_);
    r.buf_cap_ = ZSTD_DStreamOutSize() + 2 * (ENTRY_FIXED + MAX_KEY);
    r.buf_ = std::make_unique<char[]>(r.buf_cap_);

    r.in_len_ = std::fread(r.in_.get(), 1, r.in_cap_, r.file_.get());
    if (std::ferror(r.file_.get()) != 0) return io_error(path, "cannot read");
    r.file_offset_ = r.in_len_;
    r.eof_ = r.in_len_ < r.in_cap_;
    const std::string_view head(r.in_.get(), std::min(r.in_len_, MAX_HEADER));
    const size_t newline = head.find('\n');
    const auto not_digest = [&path](const std::string& why) {
        return make_error(errc::INVALID_ARGUMENT,
                          "digest " + path + ": not a " + std::string(DIGEST_FORMAT) + " file: " + why);
    };
    if (newline == std::string_view::npos) return not_digest("no JSON header line in its first 64 KiB");
    r.in_pos_ = newline + 1;

    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    const simdjson::padded_string line(head.substr(0, newline));
    if (parser.parse(line).get_object().get(obj) != simdjson::SUCCESS) {
        return not_digest("the first line is not a JSON object");
    }
    std::string_view format;
    if (obj["format"].get_string().get(format) != simdjson::SUCCESS) return not_digest("no \"format\" in the header");
    if (format != DIGEST_FORMAT) return not_digest("format \"" + std::string(format) + "\"");
    const auto text = [&obj](const char* name, std::string& out) {
        std::string_view v;
        if (obj[name].get_string().get(v) != simdjson::SUCCESS) return false;
        out.assign(v);
        return true;
    };
    for (const auto& [name, field] : {std::pair{"feed", &r.header_.feed}, std::pair{"table", &r.header_.table},
                                      std::pair{"load_id", &r.header_.load_id}, std::pair{"source", &r.header_.source},
                                      std::pair{"key_schema", &r.header_.key_schema}}) {
        if (!text(name, *field)) return not_digest(std::string("the header has no string \"") + name + "\"");
    }
    simdjson::dom::element rows;
    if (obj["rows"].get(rows) != simdjson::SUCCESS) return not_digest("the header has no \"rows\"");
    if (rows.is_null()) {
        return make_error(errc::INVALID_ARGUMENT,
                          "digest " + path + ": unfinished (its writer never completed it: \"rows\":null)");
    }
    if (rows.get_uint64().get(r.header_.rows) != simdjson::SUCCESS) return not_digest("\"rows\" is not a count");

    r.dctx_.reset(ZSTD_createDCtx());
    if (!r.dctx_) return make_error(errc::INTERNAL, "ZSTD_createDCtx failed");
    return r;
}

result<bool> digest_reader::fill(size_t needed) {
    if (buf_len_ - buf_pos_ >= needed) return true;
    if (buf_pos_ > 0) {  // at most one entry's bytes move, once per decompressed block
        std::memmove(buf_.get(), buf_.get() + buf_pos_, buf_len_ - buf_pos_);
        buf_len_ -= buf_pos_;
        buf_pos_ = 0;
    }
    while (buf_len_ < needed) {
        if (in_pos_ == in_len_ && !output_full_) {
            if (eof_) break;
            in_len_ = std::fread(in_.get(), 1, in_cap_, file_.get());
            in_pos_ = 0;
            if (std::ferror(file_.get()) != 0) return io_error(path_, "cannot read");
            file_offset_ += in_len_;
            if (in_len_ == 0) {
                eof_ = true;
                break;
            }
        }
        ZSTD_inBuffer in{in_.get(), in_len_, in_pos_};
        ZSTD_outBuffer out{buf_.get() + buf_len_, buf_cap_ - buf_len_, 0};
        const size_t rc = ZSTD_decompressStream(dctx_.get(), &out, &in);
        if (ZSTD_isError(rc) != 0) return corrupt(std::string("corrupt compressed data: ") + ZSTD_getErrorName(rc));
        in_pos_ = in.pos;
        buf_len_ += out.pos;
        output_full_ = out.pos == out.size;
        in_frame_ = rc != 0;  // 0: a frame ended and is fully flushed
        if (rc == 0) frame_seen_ = true;
    }
    if (buf_len_ >= needed) return true;
    if (in_frame_ || !frame_seen_) return corrupt("truncated: the compressed stream is missing or ends mid-frame");
    if (buf_len_ > 0) return corrupt("truncated: the stream ends inside an entry");
    return false;
}

result<bool> digest_reader::next(digest_entry& out) {
    if (done_) return false;
    TARIUS_ASSIGN_OR_RETURN(const bool more, fill(ENTRY_FIXED));
    if (!more) {
        if (read_ != header_.rows) return corrupt("truncated: the stream ends early");
        done_ = true;
        return false;
    }
    const char* p = buf_.get() + buf_pos_;
    const size_t key_len = detail::get_u16(p + 24);
    TARIUS_ASSIGN_OR_RETURN(const bool whole, fill(ENTRY_FIXED + key_len));
    if (!whole) return corrupt("truncated: the stream ends inside an entry");
    p = buf_.get() + buf_pos_;  // fill() may have moved the bytes
    out.key_hash = detail::get_u64(p);
    out.hash.hi = detail::get_u64(p + 8);
    out.hash.lo = detail::get_u64(p + 16);
    out.key_json.assign(p + ENTRY_FIXED, key_len);
    buf_pos_ += ENTRY_FIXED + key_len;
    if (read_ == header_.rows) return corrupt("corrupt: more entries than the header's rows");
    if (has_last_ && compare_keys(last_hash_, last_key_, out.key_hash, out.key_json) >= 0) {
        return corrupt("corrupt: entry " + std::to_string(read_ + 1) + " is out of (key_hash, key) order");
    }
    ++read_;
    has_last_ = true;
    last_hash_ = out.key_hash;
    last_key_.assign(out.key_json);
    return true;
}

}  // namespace tarius::loader::snapshot
