#include "util/progress.hpp"

#include <exception>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lidarmill::util {

namespace {

constexpr std::size_t kBarWidth = 30;
constexpr std::uint64_t kMaxCheckStride = 4096;

std::chrono::nanoseconds default_interval(ProgressStyle style) {
    using namespace std::chrono_literals;
    switch (style) {
        case ProgressStyle::bar:
            return 100ms;
        case ProgressStyle::plain:
            return 5s;
        case ProgressStyle::json:
            return 1s;
        case ProgressStyle::none:
            break;
    }
    return 1s;
}

// About a thousand clock reads over the whole task, never fewer than one per 4096 units.
std::uint64_t check_stride_for(std::uint64_t total) {
    if (total == 0) return 1;
    return std::clamp<std::uint64_t>(total / 1024, 1, kMaxCheckStride);
}

// "950", "12.3k", "1.2M", "3.4G": compact counts for rates and totals.
std::string compact_count(double value) {
    static constexpr const char* kSuffixes[] = {"", "k", "M", "G", "T"};
    std::size_t index = 0;
    while (value >= 1000.0 && index + 1 < std::size(kSuffixes)) {
        value /= 1000.0;
        ++index;
    }
    char buffer[32];
    if (index == 0) {
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.1f%s", value, kSuffixes[index]);
    }
    return buffer;
}

// "0:12", "12:05", "1:02:03".
std::string clock_duration(double seconds) {
    const auto total = static_cast<std::uint64_t>(std::max(0.0, std::round(seconds)));
    char buffer[32];
    if (total >= 3600) {
        std::snprintf(buffer, sizeof buffer, "%llu:%02llu:%02llu",
                      static_cast<unsigned long long>(total / 3600),
                      static_cast<unsigned long long>(total / 60 % 60),
                      static_cast<unsigned long long>(total % 60));
    } else {
        std::snprintf(buffer, sizeof buffer, "%llu:%02llu",
                      static_cast<unsigned long long>(total / 60),
                      static_cast<unsigned long long>(total % 60));
    }
    return buffer;
}

int percent(std::uint64_t done, std::uint64_t total) {
    if (total == 0) return 0;
    return static_cast<int>(std::min<std::uint64_t>(100, done * 100 / total));
}

std::string bar_cells(std::uint64_t done, std::uint64_t total) {
    const std::size_t filled =
        total == 0 ? 0 : std::min<std::size_t>(kBarWidth, done * kBarWidth / total);
    return std::string(filled, '#') + std::string(kBarWidth - filled, '.');
}

// Three decimals are plenty for a human or a progress widget, and keep lines short.
double rounded(double value) {
    return std::round(value * 1000.0) / 1000.0;
}

}  // namespace

ProgressStyle parse_progress_style(std::string_view text) {
    if (text == "bar") return ProgressStyle::bar;
    if (text == "plain") return ProgressStyle::plain;
    if (text == "json") return ProgressStyle::json;
    if (text == "none") return ProgressStyle::none;
    throw UsageError("invalid progress style \"" + std::string(text) +
                     "\": expected bar, plain, json or none");
}

ProgressStyle default_progress_style() {
    return isatty(STDERR_FILENO) ? ProgressStyle::bar : ProgressStyle::plain;
}

Progress::Progress(std::string task, std::uint64_t total, ProgressStyle style, std::string unit,
                   std::ostream* out)
    : task_(std::move(task)),
      unit_(std::move(unit)),
      style_(out == nullptr ? ProgressStyle::none : style),
      out_(out),
      start_(std::chrono::steady_clock::now()) {
    set_total(total);
    set_report_interval(default_interval(style_));
}

Progress::~Progress() {
    // Unwinding from a failure: a "done" line would contradict the error that follows.
    if (std::uncaught_exceptions() > 0) return;
    try {
        finish();
    } catch (...) {
        // A failing progress stream must not turn stack unwinding into std::terminate.
    }
}

void Progress::set_total(std::uint64_t total) {
    total_.store(total, std::memory_order_relaxed);
    check_stride_.store(check_stride_for(total), std::memory_order_relaxed);
}

void Progress::set_report_interval(std::chrono::nanoseconds interval) {
    interval_ns_.store(interval.count(), std::memory_order_relaxed);
    next_report_ns_.store(elapsed_ns() + interval.count(), std::memory_order_relaxed);
}

void Progress::advance(std::uint64_t n) {
    const std::uint64_t before = done_.fetch_add(n, std::memory_order_relaxed);
    if (style_ == ProgressStyle::none) return;
    const std::uint64_t stride = check_stride_.load(std::memory_order_relaxed);
    if (before / stride == (before + n) / stride) return;
    maybe_report();
}

void Progress::finish() {
    if (finished_.exchange(true)) return;
    if (style_ == ProgressStyle::none) return;
    std::lock_guard lock(output_mutex_);
    write_report(snapshot(), true);
}

std::int64_t Progress::elapsed_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                start_)
        .count();
}

Progress::Snapshot Progress::snapshot() const {
    Snapshot now;
    now.done = done();
    now.total = total();
    now.elapsed_s = static_cast<double>(elapsed_ns()) * 1e-9;
    if (now.elapsed_s > 0) now.rate = static_cast<double>(now.done) / now.elapsed_s;
    if (now.total > 0 && now.done >= now.total) {
        now.eta_s = 0.0;
    } else if (now.total > 0 && now.rate > 0) {
        now.eta_s = static_cast<double>(now.total - now.done) / now.rate;
    }
    return now;
}

// Only the thread that wins the compare-exchange on the deadline writes a report, so
// concurrent workers never queue up on the output mutex.
void Progress::maybe_report() {
    const std::int64_t now_ns = elapsed_ns();
    std::int64_t deadline = next_report_ns_.load(std::memory_order_relaxed);
    if (now_ns < deadline) return;
    const std::int64_t next = now_ns + interval_ns_.load(std::memory_order_relaxed);
    if (!next_report_ns_.compare_exchange_strong(deadline, next, std::memory_order_relaxed)) {
        return;
    }
    std::lock_guard lock(output_mutex_);
    if (finished_.load()) return;
    write_report(snapshot(), false);
}

void Progress::write_report(const Snapshot& now, bool final) {
    switch (style_) {
        case ProgressStyle::bar:
            write_bar(now, final);
            break;
        case ProgressStyle::plain:
            write_plain(now, final);
            break;
        case ProgressStyle::json:
            write_json(now, final);
            break;
        case ProgressStyle::none:
            return;
    }
    out_->flush();
}

void Progress::write_bar(const Snapshot& now, bool final) {
    // Appends rather than "literal" + string: GCC 12 raises a false -Wrestrict on the latter.
    std::string line = task_;
    if (now.total > 0) {
        line.append(" [").append(bar_cells(now.done, now.total)).append("] ");
        line.append(std::to_string(percent(now.done, now.total))).append("% ");
    } else {
        line.append(" ").append(compact_count(static_cast<double>(now.done)));
        line.append(" ").append(unit_).append(" ");
    }
    line.append(compact_count(now.rate)).append(" ").append(unit_).append("/s ");
    if (final) {
        line.append("in ").append(clock_duration(now.elapsed_s));
    } else if (now.eta_s) {
        line.append("ETA ").append(clock_duration(*now.eta_s));
    } else {
        line.append("elapsed ").append(clock_duration(now.elapsed_s));
    }
    const std::size_t width = line.size();
    if (width < last_line_width_) line.append(last_line_width_ - width, ' ');
    last_line_width_ = width;
    *out_ << '\r' << line << (final ? "\n" : "");
}

void Progress::write_plain(const Snapshot& now, bool final) {
    const std::string rate = compact_count(now.rate) + " " + unit_ + "/s";
    if (final) {
        char elapsed[32];
        std::snprintf(elapsed, sizeof elapsed, "%.1f s", now.elapsed_s);
        *out_ << task_ << ": done, " << now.done << ' ' << unit_ << " in " << elapsed << " ("
              << rate << ")\n";
        return;
    }
    const std::string done = compact_count(static_cast<double>(now.done));
    if (now.total == 0) {
        *out_ << task_ << ": " << done << ' ' << unit_ << " (" << rate << ", elapsed "
              << clock_duration(now.elapsed_s) << ")\n";
        return;
    }
    *out_ << task_ << ": " << percent(now.done, now.total) << "% (" << done << " of "
          << compact_count(static_cast<double>(now.total)) << ' ' << unit_ << ", " << rate
          << ", ETA " << (now.eta_s ? clock_duration(*now.eta_s) : "?") << ")\n";
}

void Progress::write_json(const Snapshot& now, bool final) {
    nlohmann::ordered_json event;
    event["event"] = final ? "done" : "progress";
    event["task"] = task_;
    event["done"] = now.done;
    event["total"] = now.total > 0 ? nlohmann::ordered_json(now.total) : nullptr;
    event["rate"] = rounded(now.rate);
    if (!final) event["eta_s"] = now.eta_s ? nlohmann::ordered_json(rounded(*now.eta_s)) : nullptr;
    event["elapsed_s"] = rounded(now.elapsed_s);
    // Replacement of invalid UTF-8 keeps a stray byte in a task name from throwing.
    *out_ << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace lidarmill::util
