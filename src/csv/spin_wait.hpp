#pragma once
// Waiting for another thread of a pipeline: spin briefly, then sleep.

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#endif

namespace tarius::detail {

/// How long spin_until spins before giving up.
inline constexpr std::chrono::microseconds SPIN_TIME{2000};

/// Tells the CPU that this is a spin loop (frees the core's resources for a sibling thread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

/// Spins for up to SPIN_TIME until `done()` holds; the caller then waits on its condition variable, which returns
/// at once if the spin succeeded. Pipeline stages hand each other work every few hundred microseconds, and
/// waking a thread that sleeps in the kernel costs the waker a futex call and, in a virtual machine, an
/// inter-processor interrupt of tens of microseconds; a short spin on a lock-free hint avoids both.
template <typename Done>
void spin_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + SPIN_TIME;
    for (unsigned spins = 1; !done(); ++spins) {
        cpu_relax();
        if (spins % 256 == 0 && std::chrono::steady_clock::now() > deadline) return;
    }
}

}  // namespace tarius::detail
