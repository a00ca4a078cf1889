// The open-file limit the loader raises at start: up to the hard limit, never beyond it.

#include "tarius/loader/process_files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>

namespace {

TEST(process_files, the_soft_limit_rises_to_the_hard_one) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    // Start from a low soft limit, as a shell's default 1,024 would be.
    rlimit low = before;
    if (low.rlim_max == RLIM_INFINITY || low.rlim_max > 256) low.rlim_cur = 256;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    const uint64_t now = tarius::loader::raise_open_file_limit();
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(now, static_cast<uint64_t>(after.rlim_cur));
    EXPECT_EQ(after.rlim_max, before.rlim_max);  // the hard limit is never touched
    if (before.rlim_max == RLIM_INFINITY) {
        EXPECT_EQ(after.rlim_cur, rlim_t{1} << 20);
    } else {
        EXPECT_EQ(after.rlim_cur, std::min<rlim_t>(before.rlim_max, rlim_t{1} << 20));
    }
    EXPECT_EQ(tarius::loader::raise_open_file_limit(), now);  // again: nothing changes
}

}  // namespace
