#pragma once
// The memory planner of a batch: how much memory the run may use, how many tiles run side
// by side, and with which budget and thread count each.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "batch/discover.hpp"
#include "enrich/enrich_tile.hpp"

namespace lidarmill::batch {

struct PlanOptions {
    std::optional<std::uint64_t> memory_budget;  // nullopt: auto (cgroup- and MemAvailable-aware)
    std::optional<unsigned> workers;             // nullopt: auto
    unsigned threads = 0;                        // for the whole run; 0 = all cores
};

struct FilePlan {
    std::size_t job = 0;  // index into the job list
    std::uint64_t points = 0;
    bool readable = true;
    std::string error;      // when the header could not be read
    enrich::TilePlan tile;  // at the per-worker budget
};

struct BatchPlan {
    std::uint64_t budget = 0;
    bool budget_auto = false;
    unsigned workers = 1;
    unsigned threads_per_worker = 1;
    std::uint64_t worker_budget = 0;
    std::vector<FilePlan> files;         // in processing order: smallest file first
    std::vector<std::string> decisions;  // one line each, for the log and --dry-run
};

// Reads every job's header (cheap) and plans the run. Never throws for a bad input file:
// it is planned as unreadable and fails alone when processed.
BatchPlan plan_batch(const std::vector<Job>& jobs, const enrich::EnrichOptions& enrich,
                     const PlanOptions& options);

}  // namespace lidarmill::batch
