#pragma once
// The tarius subcommands. Each returns the process exit code: 0 ok, 1 rows rejected, 2 failure or bad usage.

#include <span>

namespace tarius::cli {

int run_validate(std::span<char* const> args);
int run_convert(std::span<char* const> args);
int run_gen(std::span<char* const> args);
int run_load(std::span<char* const> args);
int run_worker(std::span<char* const> args);
int run_loads(std::span<char* const> args);
int run_infer(std::span<char* const> args);

/// Exit codes shared by the commands.
inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_REJECTS = 1;
inline constexpr int EXIT_FAILED = 2;

}  // namespace tarius::cli
