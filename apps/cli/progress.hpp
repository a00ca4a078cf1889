#pragma once
// Progress of `tarius load` on stderr: a bar redrawn in place on a terminal (rows/s, MB/s, percent and ETA from the
// object size, write units per second and what limits them: the table's capacity, the budget, or nothing),
// otherwise one JSON log line every few seconds.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>

#include "tarius/loader/load_job.hpp"

namespace tarius::cli {

/// How progress is shown.
enum class progress_mode : uint8_t {
    OFF,  ///< nothing
    BAR,  ///< a bar on a terminal, redrawn in place
    LOG,  ///< a JSON line every `log_every`, and one when the load ends
};

/// Rates and estimates derived from successive progress reports.
struct progress_rates {
    double rows_per_second = 0;   ///< over the last few seconds (the whole run when shorter)
    double bytes_per_second = 0;  ///< bytes read as stored, same window
    double wcu_per_second = 0;    ///< write units DynamoDB consumed per second, same window
    double eta_seconds = -1;      ///< time left at `bytes_per_second`; -1 when unknown (no size, no rate yet)
    double percent = -1;          ///< bytes read / total bytes × 100; -1 when the size is unknown
};

/// Formats "1,234,567".
[[nodiscard]] std::string with_commas(uint64_t value);
/// Formats a duration as "m:ss" or "h:mm:ss".
[[nodiscard]] std::string clock_text(double seconds);
/// The bar line (without "\r" or a line break) for a terminal `columns` wide.
[[nodiscard]] std::string bar_line(const loader::load_progress& p, const progress_rates& rates, int columns);
/// The JSON log line (without a line break).
[[nodiscard]] std::string log_line(const loader::load_progress& p, const progress_rates& rates);

/// Receives the load's progress reports and draws them. One per load; used from the load's thread only.
class progress_reporter {
public:
    /// Draws on `out` (stderr in the CLI). `log_every` is the interval of LOG lines.
    progress_reporter(progress_mode mode, std::chrono::milliseconds log_every, std::FILE* out = stderr);

    /// Takes one report (loader::load_options::progress): updates the rates and draws when due.
    void update(const loader::load_progress& p);

    /// The mode in use.
    [[nodiscard]] progress_mode mode() const noexcept { return mode_; }

private:
    struct sample {
        double seconds;
        uint64_t bytes;
        uint64_t rows;
        double wcu;
    };
    progress_rates rates_for(const loader::load_progress& p);

    progress_mode mode_;
    std::chrono::milliseconds log_every_;
    std::FILE* out_;
    std::deque<sample> window_;
    double last_log_seconds_ = 0;
};

}  // namespace tarius::cli
