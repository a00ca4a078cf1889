#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tarius/pipeline/rejects.hpp"

namespace tarius::pipeline {

file_sink::file_sink(std::string path) : path_(std::move(path)) {}

file_sink::~file_sink() {
    if (fd_ >= 0) ::close(fd_);
}

result<void> file_sink::open() {
    if (fd_ >= 0) return ok();
    if (path_ == "-") {
        fd_ = ::dup(STDOUT_FILENO);
    } else {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd_ < 0) return make_error(errc::IO, "cannot open " + path_ + " for writing: " + std::strerror(errno));
    return ok();
}

result<void> file_sink::write(std::string_view chunk) {
    TARIUS_TRY(open());
    while (!chunk.empty()) {
        const ssize_t written = ::write(fd_, chunk.data(), chunk.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return make_error(errc::IO, "cannot write " + path_ + ": " + std::strerror(errno));
        }
        chunk.remove_prefix(static_cast<size_t>(written));
    }
    return ok();
}

result<void> file_sink::finish() {
    TARIUS_TRY(open());
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return make_error(errc::IO, "cannot close " + path_ + ": " + std::strerror(errno));
    return ok();
}

}  // namespace tarius::pipeline
