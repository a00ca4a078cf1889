#include "aws/credentials_providers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

extern char** environ;  // NOLINT: POSIX

namespace tarius::aws::detail {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-from-days inverse).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
    year -= month <= 2 ? 1 : 0;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

bool read_digits(std::string_view text, size_t pos, size_t count, int& out) {
    if (pos + count > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
    auto bad = [&] { return make_error(errc::DECODE, "invalid ISO 8601 timestamp '" + std::string(text) + "'"); };
    int year = 0;
    int month = 0;
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (!read_digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
        text[7] != '-' || !read_digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        !read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' ||
        !read_digits(text, 17, 2, second)) {
        return bad();
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
    size_t pos = 19;
    int64_t micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int64_t scale = 100000;
        size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            micros += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return bad();
    }
    int64_t offset_seconds = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        int sign = text[pos] == '-' ? -1 : 1;
        int offset_hours = 0;
        int offset_minutes = 0;
        if (!read_digits(text, pos + 1, 2, offset_hours) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !read_digits(text, pos + 4, 2, offset_minutes)) {
            return bad();
        }
        offset_seconds = int64_t{sign} * (int64_t{offset_hours} * 3600 + int64_t{offset_minutes} * 60);
        pos += 6;
    } else {
        return bad();
    }
    if (pos != text.size()) return bad();
    int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    int64_t seconds = days * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + int64_t{second} - offset_seconds;
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(seconds) + std::chrono::microseconds(micros)));
}

std::string form_encode(std::string_view text) {
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') ||
            byte == '-' || byte == '_' || byte == '.' || byte == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(HEX[byte >> 4]);
            out.push_back(HEX[byte & 0x0F]);
        }
    }
    return out;
}

result<std::vector<std::string>> split_command_line(std::string_view command) {
    std::vector<std::string> words;
    std::string current;
    bool in_word = false;
    for (size_t i = 0; i < command.size(); ++i) {
        char c = command[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(current));
            current.clear();
            in_word = false;
        } else if (c == '\'') {
            auto end = command.find('\'', i + 1);
            if (end == std::string_view::npos) return make_error(errc::INVALID_ARGUMENT, "unterminated ' quote");
            current.append(command.substr(i + 1, end - i - 1));
            i = end;
            in_word = true;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < command.size() && command[j] != '"'; ++j) {
                if (command[j] == '\\' && j + 1 < command.size() && (command[j + 1] == '"' || command[j + 1] == '\\')) {
                    ++j;
                }
                current.push_back(command[j]);
            }
            if (j >= command.size()) return make_error(errc::INVALID_ARGUMENT, "unterminated \" quote");
            i = j;
            in_word = true;
        } else if (c == '\\' && i + 1 < command.size()) {
            current.push_back(command[++i]);
            in_word = true;
        } else {
            current.push_back(c);
            in_word = true;
        }
    }
    if (in_word) words.push_back(std::move(current));
    if (words.empty()) return make_error(errc::INVALID_ARGUMENT, "empty command");
    return words;
}

result<std::string> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    if (argv.empty()) return make_error(errc::INVALID_ARGUMENT, "empty command");
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return make_error(errc::IO, std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));  // NOLINT: posix_spawn's API
    args.push_back(nullptr);
    pid_t pid = 0;
    int spawn_error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawn_error != 0) {
        ::close(pipe_fds[0]);
        return make_error(errc::IO, "cannot run '" + argv[0] + "': " + std::strerror(spawn_error));
    }
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    char buffer[4096];
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd fd{pipe_fds[0], POLLIN, 0};
        int ready = ::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000000)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        output.append(buffer, static_cast<size_t>(got));
        if (output.size() > (1U << 20)) {
            timed_out = false;
            ::kill(pid, SIGKILL);
            ::close(pipe_fds[0]);
            int status = 0;
            ::waitpid(pid, &status, 0);
            return make_error(errc::LIMIT, "'" + argv[0] + "' wrote more than 1 MiB");
        }
    }
    ::close(pipe_fds[0]);
    // A child that closed stdout may still be running: it gets the rest of the time limit, then SIGKILL.
    int status = 0;
    while (!timed_out) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            timed_out = true;
            break;
        }
        ::usleep(5000);
    }
    if (timed_out) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (timed_out) {
        return make_error(errc::IO, "'" + argv[0] + "' timed out after " + std::to_string(timeout.count()) + " ms",
                          true);
    }
    if (WIFSIGNALED(status)) {
        return make_error(errc::IO, "'" + argv[0] + "' was killed by signal " + std::to_string(WTERMSIG(status)));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return make_error(errc::IO, "'" + argv[0] + "' exited with status " + std::to_string(WEXITSTATUS(status)));
    }
    return output;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        size_t pos = 0;
        while ((pos = text.find(secret, pos)) != std::string::npos) {
            text.replace(pos, secret.size(), "<redacted>");
            pos += 10;
        }
    }
    return text;
}

}  // namespace tarius::aws::detail
