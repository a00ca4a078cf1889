#include "tarius/loader/log.hpp"

#include <cstdlib>
#include <string>

namespace tarius::loader {

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

}  // namespace tarius::loader
