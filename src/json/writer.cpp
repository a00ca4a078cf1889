#include "json/writer.hpp"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace tarius::json {
namespace {

// 1 for bytes that need escaping inside a JSON string: controls, '"' and '\'.
constexpr std::array<uint8_t, 256> make_escape_table() {
    std::array<uint8_t, 256> table{};
    for (int byte = 0; byte < 0x20; ++byte) table[static_cast<size_t>(byte)] = 1;
    table['"'] = 1;
    table['\\'] = 1;
    return table;
}
constexpr auto NEEDS_ESCAPE = make_escape_table();

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
    const char* data = text.data();
    const size_t size = text.size();
    size_t run_start = 0;
    for (size_t idx = 0; idx < size; ++idx) {
        const auto byte = static_cast<uint8_t>(data[idx]);
        if (!NEEDS_ESCAPE[byte]) [[likely]] continue;
        out.append(data + run_start, idx - run_start);
        run_start = idx + 1;
        switch (byte) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            case '\b': out.append("\\b"); break;
            case '\f': out.append("\\f"); break;
            default: {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", byte);
                out.append(buf, 6);
            }
        }
    }
    out.append(data + run_start, size - run_start);
}

void writer::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (need_comma_) out_.push_back(',');
}

writer& writer::open(char bracket) {
    separate();
    out_.push_back(bracket);
    need_comma_ = false;
    return *this;
}

writer& writer::close(char bracket) {
    out_.push_back(bracket);
    need_comma_ = true;
    return *this;
}

writer& writer::key(std::string_view name) {
    separate();
    append_string(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

writer& writer::value(std::string_view text) {
    separate();
    append_string(out_, text);
    need_comma_ = true;
    return *this;
}

writer& writer::value(bool flag) { return raw(flag ? "true" : "false"); }

writer& writer::value(int64_t number) {
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%" PRId64, number);
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::value(uint64_t number) {
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%" PRIu64, number);
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::value(double number) {
    if (!std::isfinite(number)) return null();
    char buf[40];
    const int len = std::snprintf(buf, sizeof buf, "%.17g", number);
    // Shorter when exact enough: reports show durations like 0.8, not 0.80000000000000004.
    char short_buf[40];
    const int short_len = std::snprintf(short_buf, sizeof short_buf, "%.6g", number);
    if (std::strtod(short_buf, nullptr) == number || std::fabs(number) < 1e9) {
        return raw(std::string_view(short_buf, static_cast<size_t>(short_len)));
    }
    return raw(std::string_view(buf, static_cast<size_t>(len)));
}

writer& writer::null() { return raw("null"); }

writer& writer::raw(std::string_view json_text) {
    separate();
    out_.append(json_text);
    need_comma_ = true;
    return *this;
}

}  // namespace tarius::json
