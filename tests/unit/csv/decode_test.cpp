// The decoding sink: gzip and zstd inputs are built with zlib's and libzstd's own compressors, fed whole and in
// small chunks; unsupported magic numbers, truncated and corrupt inputs fail with the documented codes.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tarius/stream.hpp"

namespace tarius {
namespace {

/// Collects what reaches it.
class collecting_sink final : public byte_sink {
public:
    result<void> write(std::string_view chunk) override {
        data.append(chunk);
        ++writes;
        return ok();
    }
    result<void> finish() override {
        ++finishes;
        return ok();
    }
    std::string data;
    size_t writes = 0;
    size_t finishes = 0;
};

std::string gzip(std::string_view plain, int level = 6) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&zs, static_cast<uLong>(plain.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    zs.avail_in = static_cast<uInt>(plain.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string zstd(std::string_view plain, int level = 3) {
    std::string out(ZSTD_compressBound(plain.size()), '\0');
    const size_t size = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), level);
    EXPECT_EQ(ZSTD_isError(size), 0U);
    out.resize(size);
    return out;
}

/// A zstd skippable frame built by hand (RFC 8878, 3.1.2): magic 0x184D2A50 + `variant`, the content size, then
/// the content; each 4-byte number little endian.
std::string skippable(uint32_t variant, std::string_view content) {
    std::string out;
    for (const uint32_t number : {0x184D2A50U + variant, static_cast<uint32_t>(content.size())}) {
        for (int byte_idx = 0; byte_idx < 4; ++byte_idx)
            out.push_back(static_cast<char>((number >> (8 * byte_idx)) & 0xFF));
    }
    out.append(content);
    return out;
}

struct decoded {
    bool ok = false;
    errc code = errc::INTERNAL;
    std::string message;
    std::string data;
    compression kind = compression::NONE;
};

decoded decode(std::string_view input, size_t chunk) {
    collecting_sink out;
    auto sink = make_decoding_sink(out);
    decoded d;
    result<void> r = ok();
    for (size_t pos = 0; pos < input.size() && r; pos += chunk) r = sink->write(input.substr(pos, chunk));
    if (r) r = sink->finish();
    d.ok = r.has_value();
    if (!r) {
        d.code = r.err().code;
        d.message = r.err().message;
    } else {
        EXPECT_EQ(out.finishes, 1U);
    }
    d.data = out.data;
    d.kind = detected_compression(*sink);
    return d;
}

std::string big_text() {
    std::string text;
    for (int row = 0; row < 200000; ++row) text += "row " + std::to_string(row) + ",some text,\"quoted\"\n";
    return text;  // ~5 MB: several output buffers' worth
}

TEST(csv_decode, formats_round_trip_in_any_chunking) {
    const std::string small = "a,b\n1,2\n";
    const std::string large = big_text();
    struct format_case {
        const char* name;
        std::string input;
        std::string expected;
        compression kind;
    };
    const std::vector<format_case> cases = {
        {"plain", small, small, compression::NONE},
        {"plain short", "a", "a", compression::NONE},
        {"plain empty", "", "", compression::NONE},
        {"gzip", gzip(small), small, compression::GZIP},
        {"gzip large", gzip(large), large, compression::GZIP},
        {"gzip empty member", gzip(""), "", compression::GZIP},
        {"gzip two members", gzip("a,b\n") + gzip("1,2\n"), small, compression::GZIP},
        {"gzip members and zero padding", gzip("a,b\n") + std::string(5, '\0') + gzip("1,2\n") + std::string(3, '\0'),
         small, compression::GZIP},
        {"zstd", zstd(small), small, compression::ZSTD},
        {"zstd large", zstd(large, 1), large, compression::ZSTD},
        {"zstd three frames", zstd("a,b\n") + zstd("1,") + zstd("2\n"), small, compression::ZSTD},
        // A skippable frame first (metadata some writers add) is valid zstd, not text that fails as UTF-8.
        {"zstd after a skippable frame", skippable(0, "meta") + zstd(small), small, compression::ZSTD},
        {"zstd with skippable frames around and between",
         skippable(15, std::string(300, '\xFF')) + zstd("a,b\n") + skippable(7, "") + zstd("1,2\n") +
             skippable(3, "end"),
         small, compression::ZSTD},
        {"zstd empty frame after a skippable frame", skippable(1, "x") + zstd(""), "", compression::ZSTD},
    };
    for (const auto& c : cases) {
        for (const size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{7}, size_t{1}}) {
            if (chunk == 1 && c.input.size() > 100000) continue;  // slow, and 7 covers splits
            const decoded d = decode(c.input, chunk);
            EXPECT_TRUE(d.ok) << c.name << " chunk " << chunk << ": " << d.message;
            EXPECT_EQ(d.data.size(), c.expected.size()) << c.name << " chunk " << chunk;
            EXPECT_TRUE(d.data == c.expected) << c.name << " chunk " << chunk;
            EXPECT_EQ(d.kind, c.kind) << c.name;
        }
    }
}

TEST(csv_decode, unsupported_and_broken_inputs) {
    const std::string small = "a,b\n1,2\n";
    const std::string gz = gzip(small);
    const std::string zs = zstd(small);
    std::string corrupt_gz = gz;
    corrupt_gz[12] = static_cast<char>(corrupt_gz[12] ^ 0x55);
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 1);
    std::string corrupt_zs = zs;
    corrupt_zs[6] = static_cast<char>(corrupt_zs[6] ^ 0x7F);
    struct bad_case {
        const char* name;
        std::string input;
        errc code;
        std::string message_start;
    };
    const std::vector<bad_case> cases = {
        {"zip", std::string("PK\x03\x04\x14\x00\x00\x00", 8), errc::CSV_FILE, "unsupported compression: zip"},
        {"empty zip", std::string("PK\x05\x06\x00\x00", 6), errc::CSV_FILE, "unsupported compression: zip"},
        {"bzip2", "BZh91AY&SY", errc::CSV_FILE, "unsupported compression: bzip2"},
        {"xz",
         std::string("\xFD"
                     "7zXZ\x00\x00\x04",
                     8),
         errc::CSV_FILE, "unsupported compression: xz"},
        {"7z", std::string("7z\xBC\xAF\x27\x1C\x00\x04", 8), errc::CSV_FILE, "unsupported compression: 7z"},
        {"gzip truncated", gz.substr(0, gz.size() - 5), errc::DECODE, "gzip input is truncated"},
        {"gzip magic only", gz.substr(0, 2), errc::DECODE, "gzip input is truncated"},
        {"gzip corrupt", corrupt_gz, errc::DECODE, "corrupt gzip input"},
        {"gzip bad crc", bad_crc, errc::DECODE, "corrupt gzip input"},
        {"gzip then garbage", gz + "garbage", errc::DECODE, "corrupt gzip input"},
        {"zstd truncated", zs.substr(0, zs.size() - 3), errc::DECODE, "zstd input is truncated"},
        {"zstd corrupt", corrupt_zs, errc::DECODE, "corrupt zstd input"},
        {"zstd skippable frames only", skippable(0, "meta") + skippable(15, ""), errc::DECODE,
         "zstd input holds only skippable frames (metadata), no data frame: there is nothing to read"},
        {"zstd skippable frame truncated", skippable(0, "metadata").substr(0, 10), errc::DECODE,
         "zstd input is truncated"},
        {"zstd skippable frame then garbage", skippable(2, "m") + "a,b\n1,2\n", errc::DECODE, "corrupt zstd input"},
        // Fuzz regressions (fuzz/corpus/fuzz_csv_reader/regression_zstd_*): the checksum fails only at the frame's
        // end, after part of the frame was passed on, so the failure must come from finish-time checks too.
        {"zstd bad checksum",
         std::string("\x28\xB5\x2F\xFD\x04\x58\x41\x00\x00\x61\x7C\x62\x06\x31\x7C\x32\x0A"
                     "\x28\x09\x84\xEA",
                     21),
         errc::DECODE, "corrupt zstd input"},
        {"zstd bad checksum, bad text",
         std::string("\x28\xB5\x2F\xFD\x04\x58\x41\x00\x00\xEA\x7C\x62\x06\x31\x7C"
                     "\x32\x0A\x28\x09\x84\xEA",
                     21),
         errc::DECODE, "corrupt zstd input"},
    };
    for (const auto& c : cases) {
        for (const size_t chunk : {size_t{1} << 20, size_t{3}, size_t{1}}) {
            const decoded d = decode(c.input, chunk);
            EXPECT_FALSE(d.ok) << c.name << " chunk " << chunk;
            EXPECT_EQ(d.code, c.code) << c.name << " chunk " << chunk << ": " << d.message;
            EXPECT_EQ(d.message.substr(0, c.message_start.size()), c.message_start) << c.name << ": " << d.message;
        }
    }
    // Text that merely starts like a magic number is plain CSV.
    for (const std::string text : {"BZh,x\n", "PK,x\n", "7z,x\n"}) {
        const decoded d = decode(text, 1);
        EXPECT_TRUE(d.ok) << text;
        EXPECT_EQ(d.data, text);
    }
}

TEST(csv_decode, compression_names) {
    EXPECT_STREQ(compression_name(compression::NONE), "none");
    EXPECT_STREQ(compression_name(compression::GZIP), "gzip");
    EXPECT_STREQ(compression_name(compression::ZSTD), "zstd");
    collecting_sink plain;
    EXPECT_EQ(detected_compression(plain), compression::NONE);  // not a decoding sink
}

TEST(csv_decode, pump_file_reads_in_chunks) {
    const auto path = std::filesystem::temp_directory_path() / ("tarius_pump_" + std::to_string(::getpid()) + ".gz");
    const std::string text = big_text();
    {
        std::ofstream out(path, std::ios::binary);
        out << gzip(text);
    }
    collecting_sink out;
    auto sink = make_decoding_sink(out);
    ASSERT_TRUE(pump_file(path.string(), *sink, 1000));
    EXPECT_TRUE(out.data == text);
    EXPECT_EQ(out.finishes, 1U);
    std::filesystem::remove(path);

    collecting_sink missing;
    const auto r = pump_file("/nonexistent/tarius.csv", missing);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, errc::IO);
    EXPECT_EQ(missing.finishes, 0U);
}

}  // namespace
}  // namespace tarius
