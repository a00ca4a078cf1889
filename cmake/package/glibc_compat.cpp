// glibc functions newer than 2.34 that the statically linked GCC 12 runtime references, defined in the Lambda
// executable so that it runs on provided.al2023 (glibc 2.34) although it is built on Debian 12 (glibc 2.36).
// Linked only into the package build (cmake/package.cmake, TARIUS_STATIC=ON). A definition in the
// executable wins over libc's at static link time, so no GLIBC_2.35/2.36 version reference is left behind:
//  - libgcc_eh's unwinder (_Unwind_Find_FDE) calls _dl_find_object (GLIBC_2.35) to find a frame's .eh_frame_hdr;
//  - libstdc++'s std::random_device (random.o) calls arc4random (GLIBC_2.36).
// scripts/package fails if any GLIBC_ version above 2.34 is still referenced.
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace {

struct find_request {
    uintptr_t address;
    uintptr_t page_size;
    dl_find_object* result;
    size_t objects_seen;
};

// dl_iterate_phdr callback: fills the request's result and stops (returns 1) at the object mapping the address.
int match_loaded_object(dl_phdr_info* info, size_t /*size*/, void* data) {
    auto* request = static_cast<find_request*>(data);
    const bool main_program = request->objects_seen++ == 0;  // dl_iterate_phdr reports the executable first
    const uintptr_t page_mask = ~(request->page_size - 1);
    uintptr_t map_start = UINTPTR_MAX;
    uintptr_t map_end = 0;
    uintptr_t eh_frame = 0;
    uintptr_t segment_start = 0;  // the segment holding the address, if any
    uintptr_t segment_end = 0;
    bool contiguous = true;  // each segment starts on the page after the previous one ends
    for (ElfW(Half) phdr_idx = 0; phdr_idx < info->dlpi_phnum; ++phdr_idx) {
        const ElfW(Phdr)& phdr = info->dlpi_phdr[phdr_idx];
        const uintptr_t start = info->dlpi_addr + phdr.p_vaddr;
        if (phdr.p_type == PT_LOAD) {
            const uintptr_t end = start + phdr.p_memsz;
            if (map_end != 0 && (start & page_mask) != ((map_end + request->page_size - 1) & page_mask)) {
                contiguous = false;
            }
            if ((start & page_mask) < map_start) map_start = start & page_mask;
            if (end > map_end) map_end = end;
            if (request->address >= start && request->address < end) {
                segment_start = start;
                segment_end = end;
            }
        } else if (phdr.p_type == PT_GNU_EH_FRAME) {
            eh_frame = start;
        }
    }
    // Like glibc: an object owns the whole span the loader reserved for it, from its first page to its last byte.
    // The kernel maps the executable without reserving the gaps between its segments, where other mappings may
    // land: there glibc answers per segment, and so does this.
    if (main_program && !contiguous) {
        if (segment_end == 0) return 0;
        map_start = segment_start;
        map_end = segment_end;
    }
    if (request->address < map_start || request->address >= map_end) return 0;
    dl_find_object* result = request->result;
    result->dlfo_flags = 0;
    result->dlfo_map_start = reinterpret_cast<void*>(map_start);
    result->dlfo_map_end = reinterpret_cast<void*>(map_end);
    result->dlfo_link_map = nullptr;
    result->dlfo_eh_frame = reinterpret_cast<void*>(eh_frame);
    return 1;
}

// Fills the buffer from the kernel's CSPRNG; getrandom blocks only until the pool is first initialised.
bool fill_random(void* buffer, size_t length) {
    auto* bytes = static_cast<unsigned char*>(buffer);
    size_t done = 0;
    while (done < length) {
        const ssize_t got = getrandom(bytes + done, length - done, 0);
        if (got > 0) {
            done += static_cast<size_t>(got);
        } else if (got < 0 && errno != EINTR) {
            break;
        }
    }
    if (done == length) return true;
    // Kernels without getrandom (before 3.17): the device, as glibc's own fallback does.
    const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    while (done < length) {
        const ssize_t got = read(fd, bytes + done, length - done);
        if (got > 0) {
            done += static_cast<size_t>(got);
        } else if (got == 0 || errno != EINTR) {
            break;
        }
    }
    close(fd);
    return done == length;
}

}  // namespace

/// Finds the loaded object containing `address` and its PT_GNU_EH_FRAME segment, as glibc 2.35's function does
/// (same contract: 0 and `*result` filled when found, -1 otherwise), built on dl_iterate_phdr and dladdr1.
extern "C" int _dl_find_object(void* address, dl_find_object* result) noexcept {
    find_request request{reinterpret_cast<uintptr_t>(address), static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), result,
                         0};
    if (dl_iterate_phdr(match_loaded_object, &request) == 0) return -1;
    // The link map, which dl_iterate_phdr does not give, from dladdr1 (GLIBC_2.34; libgcc does not read it).
    Dl_info symbol{};
    void* map = nullptr;
    if (dladdr1(address, &symbol, &map, RTLD_DL_LINKMAP) != 0) result->dlfo_link_map = static_cast<link_map*>(map);
    return 0;
}

/// A uniformly random 32-bit value from the kernel's CSPRNG, as glibc 2.36's function; aborts if none can be read
/// (glibc aborts too: callers such as std::random_device have no error path).
extern "C" uint32_t arc4random() noexcept {
    uint32_t value = 0;
    if (!fill_random(&value, sizeof value)) std::abort();
    return value;
}
