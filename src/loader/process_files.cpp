#include "tarius/loader/process_files.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace tarius::loader {

uint64_t raise_open_file_limit() noexcept {
    constexpr rlim_t MOST = rlim_t{1} << 20;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? MOST : std::min(limit.rlim_max, MOST);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        rlimit raised = limit;
        raised.rlim_cur = wanted;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

}  // namespace tarius::loader
