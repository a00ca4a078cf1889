#pragma once
/// How the process's allocator treats the loader's large buffers (request bodies, batches of big rows).

namespace tarius::loader {

/// Makes buffers of a few megabytes and more come from, and go back to, the system on their own (a fixed
/// mmap threshold: glibc otherwise raises it after the first such buffer is freed, and later ones then fragment
/// the heap, which keeps its peak). Call once at the start of main, before any thread starts.
void configure_process_memory() noexcept;

}  // namespace tarius::loader
