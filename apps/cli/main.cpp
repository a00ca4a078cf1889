// tarius: the command-line front end of the Tarius core.

#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>

#include "commands.hpp"
#include "tarius/loader/process_files.hpp"
#include "tarius/loader/process_memory.hpp"

namespace {

constexpr const char* USAGE =
    "usage: tarius COMMAND [flags]\n"
    "\n"
    "Loads CSV files into DynamoDB: streamed, validated, typed, every row accounted for.\n"
    "\n"
    "commands:\n"
    "  validate   check a CSV file against a mapping; print the summary and the first problems\n"
    "  convert    write the BatchWriteItem requests a load would send, one per line\n"
    "  infer      print a starter feed for a file: delimiter, a type per column, empty cells, key candidates\n"
    "  gen        write products-like sample CSV of any size\n"
    "  load       load one file (local or s3://) into a DynamoDB table\n"
    "  worker     load the files announced on an SQS queue of S3 notifications\n"
    "  loads      list recent loads from the load ledger\n"
    "\n"
    "Run 'tarius COMMAND --help' for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
    tarius::loader::configure_process_memory();
    (void)tarius::loader::raise_open_file_limit();
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
        std::strcmp(argv[1], "help") == 0) {
        std::fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? tarius::cli::EXIT_FAILED : tarius::cli::EXIT_OK;
    }
    const std::string_view command = argv[1];
    const std::span<char* const> rest(argv + 2, static_cast<size_t>(argc - 2));
    if (command == "validate") return tarius::cli::run_validate(rest);
    if (command == "convert") return tarius::cli::run_convert(rest);
    if (command == "infer") return tarius::cli::run_infer(rest);
    if (command == "gen") return tarius::cli::run_gen(rest);
    if (command == "load") return tarius::cli::run_load(rest);
    if (command == "worker") return tarius::cli::run_worker(rest);
    if (command == "loads") return tarius::cli::run_loads(rest);
    std::fprintf(stderr, "tarius: unknown command '%.*s' (see tarius --help)\n", static_cast<int>(command.size()),
                 command.data());
    return tarius::cli::EXIT_FAILED;
}
