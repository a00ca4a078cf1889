#include "tarius/loader/process_memory.hpp"

#include <malloc.h>

namespace tarius::loader {

void configure_process_memory() noexcept {
#if defined(__GLIBC__)
    // Fixed rather than dynamic: glibc would otherwise raise it to 32 MB after the first large buffer is freed.
    // Batches and request bodies (at most an eighth of the writer's memory bound, 8 MB by default) stay on the
    // heap, where they are reused without page faults; larger ones go back to the system when freed.
    constexpr int MMAP_THRESHOLD = 16 << 20;
    constexpr int TRIM_THRESHOLD = 8 << 20;
    (void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    (void)mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
#endif
}

}  // namespace tarius::loader
