#include "tarius/loader/log.hpp"

#include <cstdlib>
#include <mutex>
#include <string>

#include "json/writer.hpp"
#include "tarius/loader/counts.hpp"

namespace tarius::loader {
namespace {

std::FILE* g_stream = nullptr;  // stdout when null
thread_local std::string t_request_id;
std::mutex g_print_mutex;  // lines of concurrent loads (the worker) never interleave

std::FILE* stream() {
    return g_stream ? g_stream : stdout;
}

}  // namespace

result<log_level> parse_log_level(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lower == "debug") return log_level::DEBUG;
    if (lower == "info") return log_level::INFO;
    if (lower == "warn" || lower == "warning") return log_level::WARN;
    if (lower == "error") return log_level::ERROR;
    return make_error(errc::INVALID_ARGUMENT,
                      "TARIUS_LOG_LEVEL: expected debug, info, warn or error, not '" + std::string(text) + "'");
}

bool log_enabled(std::string_view level) {
    static const log_level configured = [] {
        const char* text = std::getenv("TARIUS_LOG_LEVEL");
        if (text == nullptr) return log_level::INFO;
        auto parsed = parse_log_level(text);
        return parsed ? *parsed : log_level::INFO;
    }();
    auto wanted = parse_log_level(level);
    return !wanted || *wanted >= configured;
}

void set_log_stream(std::FILE* s) noexcept {
    g_stream = s;
}

void set_log_request_id(std::string request_id) {
    t_request_id = std::move(request_id);
}

void print_log_line(std::string_view json_line) {
    std::lock_guard<std::mutex> lock(g_print_mutex);
    std::fwrite(json_line.data(), 1, json_line.size(), stream());
    std::fputc('\n', stream());
    std::fflush(stream());
}

log_entry::log_entry(const char* level, std::string_view msg) : enabled_(log_enabled(level)) {
    if (!enabled_) return;
    level_ = level;
    msg_ = msg;
}

log_entry::~log_entry() {
    if (!enabled_) return;
    std::string out;
    json::writer w(out);
    w.begin_object().key("level").value(level_).key("msg").value(msg_);
    if (!t_request_id.empty()) w.key("request_id").value(t_request_id);
    for (const auto& [key, value] : fields_) w.key(key).raw(value);
    w.end_object();
    print_log_line(out);
}

log_entry& log_entry::with(std::string_view key, std::string_view value) {
    if (!enabled_) return *this;
    std::string text;
    json::writer(text).value(value);
    fields_.emplace_back(std::string(key), std::move(text));
    return *this;
}

log_entry& log_entry::with(std::string_view key, uint64_t value) {
    if (enabled_) fields_.emplace_back(std::string(key), std::to_string(value));
    return *this;
}

log_entry& log_entry::with(std::string_view key, double value) {
    if (!enabled_) return *this;
    std::string text;
    json::writer(text).value(value);
    fields_.emplace_back(std::string(key), std::move(text));
    return *this;
}

log_entry& log_entry::with_counts(const load_counts& counts) {
    if (!enabled_) return *this;
    std::string text;
    json::writer w(text);
    write_counts(w, counts);
    fields_.emplace_back("counts", std::move(text));
    return *this;
}

}  // namespace tarius::loader
