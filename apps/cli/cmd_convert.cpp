// tarius convert: writes the BatchWriteItem request bodies a load would send, one per line.

#include <cstdio>

#include "commands.hpp"
#include "load_flags.hpp"
#include "output_paths.hpp"
#include "report.hpp"

namespace tarius::cli {
namespace {

constexpr std::array<flag_spec, 4> CONVERT_ONLY = {{
    {"table", "NAME", "target table name (required)"},
    {"out", "PATH", "where to write the requests, one JSON object per line (- for stdout; required)"},
    {"json", "", "print the summary as JSON"},
    THREADS_FLAG,
}};
constexpr auto CONVERT_FLAGS = join_flags(LOAD_FLAGS, CONVERT_ONLY);
constexpr command_spec CONVERT = {
    "convert", "tarius convert FILE|- --table NAME --out PATH --key NAME[:TYPE] [flags]",
    "Converts FILE into BatchWriteItem request bodies ({\"RequestItems\":{...}}, at most 25 items each, no key\n"
    "twice in one request), one per line, exactly as a load would send them. The summary goes to stdout, or to\n"
    "stderr with --out - (stdout then holds the requests only). An output that is an input is refused.\n"
    "Exit status: 0 all rows converted, 1 some rows rejected, 2 the file failed as a whole or bad usage.",
    CONVERT_FLAGS};

// Writes each batch body as one line, buffered.
class jsonl_batches final : public pipeline::batch_sink {
public:
    explicit jsonl_batches(byte_sink& out) : out_(out) { buffer_.reserve(BUFFER_BYTES + 64 * 1024); }
    result<void> on_batch(pipeline::batch&& b) override {
        buffer_ += b.body;
        buffer_.push_back('\n');
        if (buffer_.size() < BUFFER_BYTES) return ok();
        return drain();
    }
    result<void> finish() {
        TARIUS_TRY(drain());
        return out_.finish();
    }

private:
    static constexpr size_t BUFFER_BYTES = 1 << 20;
    result<void> drain() {
        auto written = out_.write(buffer_);
        buffer_.clear();
        return written;
    }
    byte_sink& out_;
    std::string buffer_;
};

}  // namespace

int run_convert(std::span<char* const> argv) {
    auto parsed = parse_args(argv, CONVERT);
    if (!parsed) {
        print_error("convert", parsed.err());
        return EXIT_FAILED;
    }
    const parsed_args& args = *parsed;
    if (args.help) {
        std::fputs(help_text(CONVERT).c_str(), stdout);
        return EXIT_OK;
    }
    if (args.positional.size() != 1 || !args.has("table") || !args.has("out")) {
        print_error("convert", make_error(errc::INVALID_ARGUMENT,
                                          "expected FILE, --table NAME and --out PATH (see tarius convert --help)"));
        return EXIT_FAILED;
    }
    if (auto files = check_outputs(files_of(args)); !files) {
        print_error("convert", files.err());
        return EXIT_FAILED;
    }
    const std::string& path = args.positional[0];
    auto options = engine_options_from(args, path);  // sets options->table
    if (!options) {
        print_error("convert", options.err());
        return EXIT_FAILED;
    }
    auto threads = threads_flag(args);
    if (!threads) {
        print_error("convert", threads.err());
        return EXIT_FAILED;
    }
    const std::string out_path = *args.get("out");
    rejects_outputs rejects = open_rejects(args);
    pipeline::file_sink out(out_path);
    jsonl_batches batches(out);
    auto eng = pipeline::engine::create(std::move(*options), batches, rejects.writer.get());
    if (!eng) {
        print_error("convert", eng.err());
        return EXIT_FAILED;
    }
    pump_options pump;
    pump.read_ahead = *threads >= 2;  // the file is read on a second thread while this one maps and encodes
    auto done = pump_file(path, (*eng)->input(), pump);
    if (done) done = batches.finish();
    if (!done) {
        print_error("convert", done.err());
        return EXIT_FAILED;
    }
    // With --out - stdout carries the requests only: the summary goes to stderr, for a person unless --json.
    print_summary((*eng)->current_summary(), args.has("json"), out_path == "-" ? stderr : stdout);
    return exit_code_for((*eng)->current_summary());
}

}  // namespace tarius::cli
