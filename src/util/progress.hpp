#pragma once
// Progress reporting for long tasks: a redrawn bar on a terminal, periodic lines in logs,
// or NDJSON events for programs that drive lidarmill.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace lidarmill::util {

enum class ProgressStyle { bar, plain, json, none };

// "bar" | "plain" | "json" | "none"; throws UsageError otherwise.
ProgressStyle parse_progress_style(std::string_view text);

// bar when stderr is a terminal, plain otherwise (a redrawn line would garble log files).
ProgressStyle default_progress_style();

// Reports how far a task has got. Thread-safe: advance() may be called from any number of
// worker threads; it costs one atomic add, plus a clock read once every few thousand units
// (or every call when the total is small or unknown). No background thread: output happens
// inside advance() calls when the report interval has passed, and in finish().
//
// Output per style:
//   bar:   one line redrawn with '\r' at most ~10 times/s,
//          "task [#########...........] 45% 1.2M points/s ETA 0:12", ended by finish().
//   plain: "task: 45% (1.2M of 2.7M points, 1.2M points/s, ETA 0:12)" every ~5 s and a final
//          "task: done, 2700000 points in 2.3 s (1.2M points/s)".
//   json:  one NDJSON object per line, about once a second,
//          {"event":"progress","task":..,"done":..,"total":..,"rate":..,"eta_s":..,"elapsed_s":..}
//          and a final {"event":"done","task":..,"done":..,"total":..,"rate":..,"elapsed_s":..}.
//          rate is units/s; total and eta_s are null when unknown.
//   none:  nothing.
// A total of 0 means unknown: no percentage or ETA is shown.
class Progress {
  public:
    Progress(std::string task, std::uint64_t total, ProgressStyle style,
             std::string unit = "points", std::ostream* out = &std::cerr);
    // Finishes if finish() was not called.
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void advance(std::uint64_t n);
    void set_total(std::uint64_t total);
    // Writes the final report once; later calls and later advance() output do nothing.
    void finish();

    std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }
    std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }

    // Minimum time between two periodic reports; the default depends on the style
    // (bar 100 ms, plain 5 s, json 1 s). Tests set it to zero to see every report.
    void set_report_interval(std::chrono::nanoseconds interval);

  private:
    struct Snapshot {
        std::uint64_t done = 0;
        std::uint64_t total = 0;
        double elapsed_s = 0;
        double rate = 0;              // units per second since the start
        std::optional<double> eta_s;  // unknown without a total or a rate
    };

    std::int64_t elapsed_ns() const;
    Snapshot snapshot() const;
    void maybe_report();
    void write_report(const Snapshot& now, bool final);
    void write_bar(const Snapshot& now, bool final);
    void write_plain(const Snapshot& now, bool final);
    void write_json(const Snapshot& now, bool final);

    std::string task_;
    std::string unit_;
    ProgressStyle style_;
    std::ostream* out_;
    std::chrono::steady_clock::time_point start_;
    std::atomic<std::uint64_t> done_{0};
    std::atomic<std::uint64_t> total_{0};
    std::atomic<std::uint64_t> check_stride_{1};  // units between two clock reads
    std::atomic<std::int64_t> interval_ns_{0};
    std::atomic<std::int64_t> next_report_ns_{0};  // since start_; claimed by compare-exchange
    std::atomic<bool> finished_{false};
    std::mutex output_mutex_;
    std::size_t last_line_width_ = 0;  // bar only: to blank leftovers of a longer line
};

}  // namespace lidarmill::util
