#include "batch/run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/memory.hpp"
#include "util/scratch_dir.hpp"
#include "util/size.hpp"

namespace lidarmill::batch {
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// An output counts as complete when it holds the input's points and every requested
// dimension: outputs only ever appear complete (temporary name, then rename), so this
// mainly guards against files from another run with other options.
bool output_complete(const fs::path& output, std::uint64_t points,
                     const enrich::EnrichOptions& enrich) {
    std::error_code ec;
    if (!fs::is_regular_file(output, ec)) return false;
    try {
        util::File file(output, util::File::Mode::read);
        const auto m = las::read_metadata(file);
        if (m.readable_points != points || m.header.point_count() != points) return false;
        for (const auto f : enrich.features) {
            if (!m.extra_bytes.find(features::feature_name(f))) return false;
        }
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

void copy_items(const std::vector<CopyItem>& items, std::vector<std::string>& warnings) {
    for (const auto& item : items) {
        try {
            copy_file_atomically(item.from, item.to);
        } catch (const std::exception& e) {
            warnings.push_back(fmt::format("could not copy {}: {}", item.from.string(), e.what()));
        }
    }
}

class Runner {
  public:
    Runner(const BatchOptions& options, const std::vector<Job>& jobs, BatchReport& report,
           const fs::path& scratch)
        : options_(options), jobs_(jobs), report_(report), scratch_(scratch) {
        std::uint64_t total = 0;
        for (const auto& f : report.plan.files) total += f.points;
        overall_ =
            std::make_unique<util::Progress>(fmt::format("enrich ({} files)", jobs.size()), total,
                                             options.progress, "points", options.progress_out);
    }

    void run() {
        const auto& plan = report_.plan;
        report_.files.resize(plan.files.size());
        std::vector<std::thread> workers;
        for (unsigned w = 1; w < plan.workers; ++w) workers.emplace_back([this] { work(); });
        work();
        for (auto& t : workers) t.join();
        overall_->finish();
    }

  private:
    void work() {
        for (std::size_t i = next_++; i < report_.plan.files.size(); i = next_++) {
            report_.files[i] = process(report_.plan.files[i]);
            announce(report_.files[i]);
        }
    }

    FileReport process(const FilePlan& file) {
        const Job& job = jobs_[file.job];
        FileReport r;
        r.input = job.input;
        r.output = job.output;
        const auto start = std::chrono::steady_clock::now();
        std::uint64_t credited = 0;  // points counted in the overall progress
        try {
            if (!file.readable) throw util::InputError("", file.error);
            if (!options_.force && output_complete(job.output, file.points, options_.enrich)) {
                r.status = FileStatus::skipped;
                r.reason = "complete output exists (--force redoes it)";
                r.points = file.points;
                copy_items(job.sidecars, r.warnings);
                credit(file.points, credited);
                return r;
            }
            fs::create_directories(job.output.parent_path());
            auto per_file = per_file_progress(job, file.points);
            enrich::EnrichOptions eo = options_.enrich;
            eo.memory_budget = report_.plan.worker_budget;
            eo.threads = report_.plan.threads_per_worker;
            eo.temp_dir = scratch_;
            eo.on_progress = [&](std::uint64_t done, std::uint64_t total) {
                // Three passes over the points: show points, not passes.
                const std::uint64_t points = total ? done * file.points / total : 0;
                if (per_file) per_file->advance(points - std::min(points, per_file->done()));
                credit(points, credited);
            };
            const auto result = enrich::enrich_file(job.input, job.output, eo);
            if (per_file) per_file->finish();
            copy_items(job.sidecars, r.warnings);
            r.status = FileStatus::enriched;
            r.points = result.points;
            r.chunks = result.chunks;
            r.split_chunks = result.split_chunks;
            r.out_of_core = result.out_of_core;
            r.peak_rss_bytes = result.peak_rss_bytes;
            r.summary = result.summary;
            r.warnings.insert(r.warnings.end(), result.warnings.begin(), result.warnings.end());
            credit(file.points, credited);
        } catch (const std::exception& e) {
            r.status = FileStatus::failed;
            r.reason = e.what();
            credit(file.points, credited);
        }
        r.seconds = seconds_since(start);
        if (r.peak_rss_bytes == 0) r.peak_rss_bytes = util::peak_rss_bytes();
        return r;
    }

    void credit(std::uint64_t points, std::uint64_t& credited) {
        if (points > credited) {
            overall_->advance(points - credited);
            credited = points;
        }
    }

    // Per-file progress where it cannot garble the overall bar.
    std::unique_ptr<util::Progress> per_file_progress(const Job& job, std::uint64_t points) {
        const auto style = options_.progress;
        if (style == util::ProgressStyle::none || style == util::ProgressStyle::bar) return nullptr;
        return std::make_unique<util::Progress>(job.relative.string(), points, style, "points",
                                                options_.progress_out);
    }

    void announce(const FileReport& r) {
        const std::size_t done = ++finished_;
        std::string line = fmt::format("[{}/{}] {}: {}", done, report_.plan.files.size(),
                                       r.input.string(), status_name(r.status));
        if (r.status == FileStatus::enriched) {
            line += fmt::format(", {} points in {:.1f} s ({:.2f} M points/s){}", r.points,
                                r.seconds, r.seconds > 0 ? r.points / r.seconds / 1e6 : 0.0,
                                r.out_of_core ? ", out of core" : "");
        } else if (!r.reason.empty()) {
            line += " (" + r.reason + ")";
        }
        for (const auto& w : r.warnings) spdlog::warn("{}: {}", r.input.string(), w);
        if (r.status == FileStatus::failed) {
            spdlog::error("{}", line);
        } else {
            spdlog::info("{}", line);
        }
        if (options_.progress == util::ProgressStyle::bar ||
            options_.progress == util::ProgressStyle::plain) {
            std::lock_guard lock(output_mutex_);
            *options_.progress_out
                << (options_.progress == util::ProgressStyle::bar ? "\r\033[K" : "") << line
                << "\n";
        }
    }

    const BatchOptions& options_;
    const std::vector<Job>& jobs_;
    BatchReport& report_;
    fs::path scratch_;
    std::unique_ptr<util::Progress> overall_;
    std::atomic<std::size_t> next_{0};
    std::atomic<std::size_t> finished_{0};
    std::mutex output_mutex_;
};

void write_report(const fs::path& path, const BatchReport& report) {
    const std::string text = report.to_json().dump(2) + "\n";
    util::AtomicOutputFile out(path);
    out.file().write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    out.commit();
}

}  // namespace

std::string_view status_name(FileStatus status) {
    switch (status) {
        case FileStatus::enriched:
            return "enriched";
        case FileStatus::skipped:
            return "skipped";
        case FileStatus::failed:
            return "failed";
    }
    return "failed";
}

std::size_t BatchReport::count(FileStatus status) const {
    return static_cast<std::size_t>(
        std::ranges::count_if(files, [&](const FileReport& f) { return f.status == status; }));
}

int BatchReport::exit_code() const {
    return count(FileStatus::failed) > 0 ? static_cast<int>(util::ExitCode::partial_failure)
                                         : static_cast<int>(util::ExitCode::ok);
}

nlohmann::json BatchReport::to_json() const {
    nlohmann::json files_json = nlohmann::json::array();
    for (const auto& f : files) {
        nlohmann::json features_json = nlohmann::json::object();
        for (const auto& s : f.summary) {
            features_json[std::string(features::feature_name(s.feature))] = {
                {"min", s.min}, {"max", s.max}, {"no_data", s.no_data}};
        }
        files_json.push_back({{"input", f.input.string()},
                              {"output", f.output.string()},
                              {"status", status_name(f.status)},
                              {"reason", f.reason},
                              {"points", f.points},
                              {"seconds", f.seconds},
                              {"peak_memory_bytes", f.peak_rss_bytes},
                              {"chunks", f.chunks},
                              {"split_chunks", f.split_chunks},
                              {"out_of_core", f.out_of_core},
                              {"features", features_json},
                              {"warnings", f.warnings}});
    }
    return {{"tool", "lidarmill enrich"},
            {"seconds", seconds},
            {"peak_memory_bytes", peak_rss_bytes},
            {"memory_budget_bytes", plan.budget},
            {"memory_budget_auto", plan.budget_auto},
            {"workers", plan.workers},
            {"threads_per_worker", plan.threads_per_worker},
            {"worker_budget_bytes", plan.worker_budget},
            {"enriched", count(FileStatus::enriched)},
            {"skipped", count(FileStatus::skipped)},
            {"failed", count(FileStatus::failed)},
            {"stale_temporaries_removed", stale_removed},
            {"plan", plan.decisions},
            {"files", files_json}};
}

std::string BatchReport::summary_text() const {
    std::uint64_t points = 0;
    for (const auto& f : files) points += f.status == FileStatus::enriched ? f.points : 0;
    std::string text = fmt::format(
        "enrich: {} file(s): {} enriched, {} skipped, {} failed; {} points in {:.1f} s "
        "({:.2f} M points/s), peak memory {}\n",
        files.size(), count(FileStatus::enriched), count(FileStatus::skipped),
        count(FileStatus::failed), points, seconds, seconds > 0 ? points / seconds / 1e6 : 0.0,
        util::format_size(peak_rss_bytes));
    for (const auto& f : files) {
        if (f.status == FileStatus::failed) {
            text += fmt::format("  failed: {}: {}\n", f.input.string(), f.reason);
        }
    }
    return text;
}

std::string describe_plan(const BatchOptions& options, const std::vector<Job>& jobs,
                          const BatchPlan& plan) {
    std::ostringstream out;
    out << "enrich plan: " << jobs.size() << " file(s) -> " << options.output_dir.string() << "\n";
    for (const auto& line : plan.decisions) out << "  " << line << "\n";
    out << "processing order (smallest first):\n";
    for (const auto& f : plan.files) {
        const auto& job = jobs[f.job];
        out << "  " << job.input.string() << " -> " << job.output.string() << "\n";
    }
    return out.str();
}

BatchReport run_batch(const BatchOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    if (options.inputs.empty()) throw util::UsageError("no --input given");
    if (options.output_dir.empty()) throw util::UsageError("no --output folder given");
    if (options.enrich.features.empty()) throw util::UsageError("no features requested");
    std::error_code ec;
    if (fs::exists(options.output_dir, ec) && !fs::is_directory(options.output_dir, ec)) {
        throw util::UsageError(options.output_dir.string() + ": --output must be a folder");
    }
    const auto jobs = discover_jobs(options.inputs, options.output_dir, options.format);
    if (jobs.empty()) throw util::UsageError("no .las or .laz files found in the inputs");

    BatchReport report;
    report.plan = plan_batch(jobs, options.enrich, options.plan);
    for (const auto& line : report.plan.decisions) spdlog::info("plan: {}", line);
    if (options.dry_run) return report;

    fs::create_directories(options.output_dir);
    report.stale_removed = remove_stale_temporaries(options.output_dir);
    if (!options.temp_dir.empty()) {
        fs::create_directories(options.temp_dir);
        report.stale_removed += remove_stale_temporaries(options.temp_dir);
    }
    if (report.stale_removed) {
        spdlog::info("removed {} leftover(s) of interrupted runs", report.stale_removed);
    }
    {
        const util::ScratchDir scratch(
            options.temp_dir.empty() ? options.output_dir : options.temp_dir, "run");
        std::vector<std::string> warnings;
        copy_items(root_metadata(options.inputs, options.output_dir), warnings);
        for (const auto& w : warnings) spdlog::warn("{}", w);
        Runner(options, jobs, report, scratch.path()).run();
    }
    report.seconds = seconds_since(start);
    report.peak_rss_bytes = util::peak_rss_bytes();
    write_report(options.output_dir / kReportName, report);
    return report;
}

}  // namespace lidarmill::batch
