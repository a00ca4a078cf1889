#pragma once
/// `TARIUS_ASSERT`: checks a programmer's invariant, never input (STYLE.md §4).

#include <cstdio>
#include <cstdlib>

namespace tarius::detail {
[[noreturn]] inline void assert_failed(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "tarius: internal invariant broken: %s at %s:%d\n", expr, file, line);
    std::abort();
}
}  // namespace tarius::detail

/// Aborts with the failed expression when `cond` is false; active in every build type because a broken
/// invariant in a loader must never write wrong data silently.
#define TARIUS_ASSERT(cond) ((cond) ? static_cast<void>(0) : ::tarius::detail::assert_failed(#cond, __FILE__, __LINE__))
