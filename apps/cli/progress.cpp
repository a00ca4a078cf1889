#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace tarius::cli {
namespace {

constexpr double RATE_WINDOW_SECONDS = 5.0;

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out.push_back(ch);
        }
    }
    out.push_back('"');
}

std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

// "950", "12.3k", "4.56M": short rates for the bar.
std::string short_number(double value) {
    if (value < 1000) return fixed(value, 0);
    if (value < 1e6) return fixed(value / 1e3, value < 1e4 ? 2 : 1) + "k";
    return fixed(value / 1e6, value < 1e7 ? 2 : 1) + "M";
}

// What limits the writes now: the table's capacity (it throttles), the write budget, or nothing (Tarius's pace).
const char* limited_by(const loader::load_progress& p) {
    if (p.table_limited) return "table";
    if (p.budget_wcu > 0 && p.rate_limit > 0 && p.rate_limit >= 0.999 * p.budget_wcu) return "budget";
    return "none";
}

// The write rate and its limit for the bar: "9.98k WCU/s", "9.98k WCU/s table-limited (could use 110k)",
// "8.00k WCU/s (--max-wcu)". Tarius could use more than the table's capacity when it sent more before the table
// first throttled: that is the capacity the table would need for this load not to wait on it.
std::string write_rate_text(const loader::load_progress& p, const progress_rates& rates) {
    std::string out = short_number(rates.wcu_per_second) + " WCU/s";
    const std::string limit = limited_by(p);
    if (limit == "table") {
        out += " table-limited";
        if (p.demand_wcu > 1.2 * std::max(p.table_capacity, rates.wcu_per_second)) {
            out += " (could use " + short_number(p.demand_wcu) + ")";
        }
    } else if (limit == "budget") {
        out += " (--max-wcu)";
    }
    return out;
}

int terminal_columns(std::FILE* out) {
    winsize size{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
    return 80;
}

}  // namespace

std::string with_commas(uint64_t value) {
    const std::string digits = std::to_string(value);
    std::string out;
    for (size_t idx = 0; idx < digits.size(); ++idx) {
        if (idx > 0 && (digits.size() - idx) % 3 == 0) out.push_back(',');
        out.push_back(digits[idx]);
    }
    return out;
}

std::string clock_text(double seconds) {
    const auto total = static_cast<uint64_t>(std::max(0.0, std::round(seconds)));
    char buf[32];
    if (total >= 3600) {
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(total / 3600),
                      static_cast<unsigned long long>(total / 60 % 60), static_cast<unsigned long long>(total % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(total / 60),
                      static_cast<unsigned long long>(total % 60));
    }
    return buf;
}

std::string bar_line(const loader::load_progress& p, const progress_rates& rates, int columns) {
    std::string tail = "  " + with_commas(p.rows) + " rows";
    if (p.done) {
        tail += " in " + fixed(p.elapsed_seconds, 1) + " s (" + short_number(rates.rows_per_second) + " rows/s, " +
                fixed(rates.bytes_per_second / 1e6, 1) + " MB/s)";
        if (p.rows_rejected) tail += ", " + with_commas(p.rows_rejected) + " rejected";
        if (p.wcu_consumed > 0) {
            tail += ", " + short_number(rates.wcu_per_second) + " WCU/s";
            if (p.throttles) tail += ", " + fixed(100 * p.throttled_share, 0) + "% of requests throttled";
        }
    } else {
        tail +=
            "  " + short_number(rates.rows_per_second) + " rows/s  " + fixed(rates.bytes_per_second / 1e6, 1) + " MB/s";
        if (rates.eta_seconds >= 0)
            tail += "  ETA " + clock_text(rates.eta_seconds);
        else if (p.total_bytes == 0)
            tail += "  " + fixed(static_cast<double>(p.bytes_read) / 1e6, 1) + " MB read";
        if (p.wcu_consumed > 0) tail += "  " + write_rate_text(p, rates);
    }
    if (rates.percent < 0) return tail.substr(2);
    const std::string percent = fixed(std::min(rates.percent, 100.0), 0);
    std::string line;
    line.append(3 - std::min<size_t>(3, percent.size()), ' ');
    line.append(percent);
    line.append("% [");
    // The bar takes what the numbers leave of the line, within sensible bounds.
    const int room = columns - 1 - static_cast<int>(line.size() + 1 + tail.size());
    const int width = std::clamp(room, 10, 50);
    const int filled = static_cast<int>(std::lround(std::min(rates.percent, 100.0) / 100.0 * width));
    line.append(static_cast<size_t>(filled), '#');
    line.append(static_cast<size_t>(width - filled), '.');
    line.push_back(']');
    line.append(tail);
    return line;
}

std::string log_line(const loader::load_progress& p, const progress_rates& rates) {
    std::string out = "{\"level\":\"info\",\"msg\":\"load progress\",\"source\":";
    append_json_string(out, p.source);
    out += ",\"bytes_read\":" + std::to_string(p.bytes_read);
    out += ",\"total_bytes\":" + std::to_string(p.total_bytes);
    if (rates.percent >= 0) out += ",\"percent\":" + fixed(rates.percent, 1);
    out += ",\"rows\":" + std::to_string(p.rows);
    out += ",\"items_written\":" + std::to_string(p.items_written);
    if (p.done) out += ",\"rows_rejected\":" + std::to_string(p.rows_rejected);
    out += ",\"throttles\":" + std::to_string(p.throttles);
    out += ",\"throttled_share\":" + fixed(p.throttled_share, 3);
    out += ",\"wcu_per_second\":" + fixed(rates.wcu_per_second, 0);
    out += ",\"limited_by\":";
    append_json_string(out, limited_by(p));
    if (p.rate_limit > 0) out += ",\"rate_limit_wcu\":" + fixed(p.rate_limit, 0);
    if (p.table_capacity > 0) out += ",\"table_capacity_wcu\":" + fixed(p.table_capacity, 0);
    out += ",\"handed_back_share\":" + fixed(p.recent_handed_back, 3);
    if (p.demand_wcu > 0) out += ",\"demand_wcu\":" + fixed(p.demand_wcu, 0);
    out += ",\"rows_per_second\":" + fixed(rates.rows_per_second, 0);
    out += ",\"mb_per_second\":" + fixed(rates.bytes_per_second / 1e6, 2);
    if (rates.eta_seconds >= 0 && !p.done) out += ",\"eta_seconds\":" + fixed(rates.eta_seconds, 0);
    out += ",\"elapsed_seconds\":" + fixed(p.elapsed_seconds, 1);
    out += ",\"done\":";
    out += p.done ? "true" : "false";
    out += "}";
    return out;
}

progress_reporter::progress_reporter(progress_mode mode, std::chrono::milliseconds log_every, std::FILE* out)
    : mode_(mode), log_every_(log_every), out_(out) {}

progress_rates progress_reporter::rates_for(const loader::load_progress& p) {
    window_.push_back({p.elapsed_seconds, p.bytes_read, p.rows, p.wcu_consumed});
    while (window_.size() > 2 && p.elapsed_seconds - window_[1].seconds >= RATE_WINDOW_SECONDS) window_.pop_front();
    progress_rates rates;
    if (p.done) {
        // The final line shows whole-run averages.
        if (p.elapsed_seconds > 0) {
            rates.rows_per_second = static_cast<double>(p.rows) / p.elapsed_seconds;
            rates.bytes_per_second = static_cast<double>(p.bytes_read) / p.elapsed_seconds;
            rates.wcu_per_second = p.wcu_consumed / p.elapsed_seconds;
        }
    } else {
        const sample& first = window_.size() > 1 ? window_.front() : sample{0, 0, 0, 0};
        const double span = p.elapsed_seconds - first.seconds;
        if (span > 0) {
            rates.rows_per_second = static_cast<double>(p.rows - std::min(p.rows, first.rows)) / span;
            rates.bytes_per_second = static_cast<double>(p.bytes_read - std::min(p.bytes_read, first.bytes)) / span;
            rates.wcu_per_second = std::max(0.0, p.wcu_consumed - first.wcu) / span;
        }
    }
    if (p.total_bytes > 0) {
        rates.percent = p.done && p.bytes_read >= p.total_bytes
                            ? 100.0
                            : 100.0 * static_cast<double>(p.bytes_read) / static_cast<double>(p.total_bytes);
        if (!p.done && rates.bytes_per_second > 0 && p.bytes_read <= p.total_bytes) {
            rates.eta_seconds = static_cast<double>(p.total_bytes - p.bytes_read) / rates.bytes_per_second;
        }
    }
    return rates;
}

void progress_reporter::update(const loader::load_progress& p) {
    if (mode_ == progress_mode::OFF) return;
    const progress_rates rates = rates_for(p);
    if (mode_ == progress_mode::BAR) {
        // "\r" and erase-to-end redraw the one line; the final state stays on screen with its line break.
        std::fprintf(out_, "\r%s\x1b[K%s", bar_line(p, rates, terminal_columns(out_)).c_str(), p.done ? "\n" : "");
        std::fflush(out_);
        return;
    }
    const double due = last_log_seconds_ + std::chrono::duration<double>(log_every_).count();
    if (!p.done && p.elapsed_seconds < due) return;
    last_log_seconds_ = p.elapsed_seconds;
    std::fprintf(out_, "%s\n", log_line(p, rates).c_str());
    std::fflush(out_);
}

}  // namespace tarius::cli
