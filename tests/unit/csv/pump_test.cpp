// pump_file: in turn and read ahead on a second thread, the sink gets the file's bytes in order, in chunks of the
// asked size, and finish() once; a sink error stops the pump (and joins the reading thread) at once; a sink that
// offers its own memory gets the chunks read into it; pipes are read in turn.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tarius/stream.hpp"

namespace tarius {
namespace {

// Collects what reaches it; fails the write number `fail_at` (0-based) when set.
class collecting_sink : public byte_sink {
public:
    result<void> write(std::string_view chunk) override {
        if (writes == fail_at) return make_error(errc::IO, "sink full");
        data.append(chunk);
        sizes.push_back(chunk.size());
        ++writes;
        return ok();
    }
    result<void> finish() override {
        ++finishes;
        return ok();
    }
    std::string data;
    std::vector<size_t> sizes;
    size_t writes = 0;
    size_t finishes = 0;
    size_t fail_at = SIZE_MAX;
};

// Offers its own buffer (byte_sink::input_buffer) and checks that the chunks come in it.
class buffer_offering_sink final : public collecting_sink {
public:
    std::span<char> input_buffer(size_t min_size) override {
        own.resize(std::max(own.size(), min_size));
        return own;
    }
    result<void> write(std::string_view chunk) override {
        if (!chunk.empty() && chunk.data() == own.data()) ++in_own;
        return collecting_sink::write(chunk);
    }
    std::string own;
    size_t in_own = 0;
};

std::string random_bytes(size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(size, '\0');
    for (auto& ch : out) ch = static_cast<char>(rng() & 0xff);
    return out;
}

struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& content) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("tarius_pump_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::ofstream out(path, std::ios::binary);
        out << content;
    }
    ~temp_file() { std::filesystem::remove(path); }
};

TEST(csv_pump, every_byte_in_order_in_chunks_of_the_asked_size) {
    for (const size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{300007}}) {
        const std::string content = random_bytes(size, static_cast<unsigned>(size));
        const temp_file file(content);
        for (const size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, size_t{256} << 10}) {
            if (chunk == 1 && size > 5000) continue;  // a byte per write: the small files suffice
            for (const bool ahead : {false, true}) {
                collecting_sink sink;
                pump_options options;
                options.chunk_size = chunk;
                options.read_ahead = ahead;
                ASSERT_TRUE(pump_file(file.path.string(), sink, options));
                const std::string what = "size " + std::to_string(size) + " chunk " + std::to_string(chunk) +
                                         (ahead ? " ahead" : " in turn");
                EXPECT_TRUE(sink.data == content) << what;
                EXPECT_EQ(sink.finishes, 1U) << what;
                for (size_t write_idx = 0; write_idx + 1 < sink.sizes.size(); ++write_idx) {
                    EXPECT_EQ(sink.sizes[write_idx], chunk) << what;  // regular files give full chunks
                }
            }
        }
    }
}

TEST(csv_pump, a_sink_error_stops_the_pump) {
    const std::string content = random_bytes(1 << 20, 7);
    const temp_file file(content);
    for (const bool ahead : {false, true}) {
        for (const size_t fail_at : {size_t{0}, size_t{3}, size_t{60}}) {
            collecting_sink sink;
            sink.fail_at = fail_at;
            pump_options options;
            options.chunk_size = 4096;
            options.read_ahead = ahead;
            const auto r = pump_file(file.path.string(), sink, options);
            ASSERT_FALSE(r);
            EXPECT_EQ(r.err().message, "sink full");
            EXPECT_EQ(sink.writes, fail_at);
            EXPECT_EQ(sink.finishes, 0U);
            EXPECT_TRUE(sink.data == content.substr(0, fail_at * 4096));
        }
    }
}

TEST(csv_pump, reads_into_the_sinks_memory_when_offered) {
    const std::string content = random_bytes(100000, 3);
    const temp_file file(content);
    buffer_offering_sink in_turn;
    ASSERT_TRUE(pump_file(file.path.string(), in_turn, 4096));
    EXPECT_TRUE(in_turn.data == content);
    EXPECT_EQ(in_turn.in_own, in_turn.writes);
    // Reading ahead fills the pump's own ring; the offer is not taken (the sink is busy with the last chunk).
    buffer_offering_sink ahead;
    pump_options options;
    options.chunk_size = 4096;
    options.read_ahead = true;
    ASSERT_TRUE(pump_file(file.path.string(), ahead, options));
    EXPECT_TRUE(ahead.data == content);
    EXPECT_EQ(ahead.in_own, 0U);
}

TEST(csv_pump, a_pipe_is_read_in_turn) {
    const auto path = std::filesystem::temp_directory_path() / ("tarius_pump_fifo_" + std::to_string(::getpid()));
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const std::string content = random_bytes(200000, 11);
    std::thread writer([&] {
        std::ofstream out(path, std::ios::binary);
        out << content;
    });
    collecting_sink sink;
    pump_options options;
    options.read_ahead = true;
    const auto r = pump_file(path.string(), sink, options);
    writer.join();
    std::filesystem::remove(path);
    ASSERT_TRUE(r);
    EXPECT_TRUE(sink.data == content);
    EXPECT_EQ(sink.finishes, 1U);
}

TEST(csv_pump, a_missing_file_fails_before_the_sink_is_touched) {
    for (const bool ahead : {false, true}) {
        collecting_sink sink;
        pump_options options;
        options.read_ahead = ahead;
        const auto r = pump_file("/nonexistent/tarius.csv", sink, options);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.err().code, errc::IO);
        EXPECT_EQ(sink.writes, 0U);
        EXPECT_EQ(sink.finishes, 0U);
    }
}

}  // namespace
}  // namespace tarius
