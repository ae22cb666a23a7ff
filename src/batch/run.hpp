#pragma once
// `lidarmill enrich` over files and directory trees: plans memory and workers, processes
// the smallest tiles first, skips complete outputs, isolates failures, reports progress
// and writes enrich-report.json.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batch/discover.hpp"
#include "batch/planner.hpp"
#include "enrich/enrich_tile.hpp"
#include "util/progress.hpp"

namespace lidarmill::batch {

struct BatchOptions {
    std::vector<std::filesystem::path> inputs;
    std::filesystem::path output_dir;
    // Features and neighbourhoods; the budget, threads, scratch folder and progress hook
    // are set per tile by the runner.
    enrich::EnrichOptions enrich;
    PlanOptions plan;
    std::filesystem::path temp_dir;  // empty: inside the output folder
    bool force = false;
    OutputFormat format = OutputFormat::laz;
    bool dry_run = false;
    util::ProgressStyle progress = util::ProgressStyle::none;
    std::ostream* progress_out = &std::cerr;
};

enum class FileStatus { enriched, skipped, failed };
std::string_view status_name(FileStatus status);

struct FileReport {
    std::filesystem::path input, output;
    FileStatus status = FileStatus::failed;
    std::string reason;  // why it failed or was skipped
    std::uint64_t points = 0;
    double seconds = 0;
    std::uint64_t peak_rss_bytes = 0;
    std::uint32_t chunks = 0;
    std::uint32_t split_chunks = 0;  // out of core, crowded beyond the plan
    bool out_of_core = false;
    std::vector<enrich::FeatureSummary> summary;
    std::vector<std::string> warnings;
};

struct BatchReport {
    BatchPlan plan;
    std::vector<FileReport> files;  // in processing order
    double seconds = 0;
    std::uint64_t peak_rss_bytes = 0;
    std::size_t stale_removed = 0;

    std::size_t count(FileStatus status) const;
    // 0 when nothing failed, 3 (partial failure) otherwise.
    int exit_code() const;
    nlohmann::json to_json() const;
    // Human-readable closing summary, several lines.
    std::string summary_text() const;
};

inline constexpr const char* kReportName = "enrich-report.json";

// Throws util::UsageError for bad options or when no input file is found; a bad tile is
// reported as failed, never thrown.
BatchReport run_batch(const BatchOptions& options);

// The plan only, as text (for --dry-run).
std::string describe_plan(const BatchOptions& options, const std::vector<Job>& jobs,
                          const BatchPlan& plan);

}  // namespace lidarmill::batch
