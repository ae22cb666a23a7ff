#include "batch/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <thread>

#include "io/open.hpp"
#include "util/memory.hpp"
#include "util/size.hpp"
#include "util/threads.hpp"

namespace lidarmill::batch {

namespace {

// A worker is worth adding only if each keeps at least this much (or what its tile needs
// to run fully in memory, if less): many starved workers are slower than a few fed ones.
constexpr std::uint64_t kComfortableWorkerBytes = 384 * enrich::kMiB;

struct Need {
    std::uint64_t minimum = 0, comfortable = 0;
};

Need need_of(const las::FileMetadata& m, const enrich::EnrichOptions& enrich) {
    Need need;
    need.minimum = enrich::minimum_tile_memory(m, enrich);
    auto at_large = enrich;
    at_large.memory_budget = std::uint64_t{1} << 50;
    const auto in_core = enrich::plan_tile(m, at_large).in_core_bytes;
    need.comfortable = std::max(need.minimum, std::min(in_core, kComfortableWorkerBytes));
    return need;
}

}  // namespace

BatchPlan plan_batch(const std::vector<Job>& jobs, const enrich::EnrichOptions& enrich,
                     const PlanOptions& options) {
    BatchPlan plan;
    plan.budget_auto = !options.memory_budget;
    plan.budget = options.memory_budget.value_or(util::auto_memory_budget());
    if (plan.budget_auto) {
        const auto info = util::probe_memory();
        plan.decisions.push_back(fmt::format(
            "memory budget {} (auto: 80% of available memory; MemAvailable {}, cgroup {})",
            util::format_size(plan.budget), util::format_size(info.mem_available),
            info.cgroup_limit ? util::format_size(*info.cgroup_limit) + " limit" : "unlimited"));
    } else {
        plan.decisions.push_back(fmt::format("memory budget {}", util::format_size(plan.budget)));
    }

    std::vector<std::size_t> order(jobs.size());
    std::iota(order.begin(), order.end(), 0);
    std::ranges::stable_sort(
        order, [&](std::size_t a, std::size_t b) { return jobs[a].file_size < jobs[b].file_size; });

    Need largest;
    std::vector<las::FileMetadata> metadata(jobs.size());
    for (const std::size_t j : order) {
        FilePlan file{j};
        try {
            util::File handle(jobs[j].input, util::File::Mode::read);
            metadata[j] = las::read_metadata(handle);
            file.points = metadata[j].readable_points;
            const Need need = need_of(metadata[j], enrich);
            largest.minimum = std::max(largest.minimum, need.minimum);
            largest.comfortable = std::max(largest.comfortable, need.comfortable);
        } catch (const std::exception& e) {
            file.readable = false;
            file.error = e.what();
        }
        plan.files.push_back(std::move(file));
    }

    const unsigned cores = util::resolve_threads(options.threads);
    const auto jobs_count = static_cast<unsigned>(std::max<std::size_t>(jobs.size(), 1));
    const auto fit = [&](std::uint64_t need) {
        return static_cast<unsigned>(
            std::max<std::uint64_t>(1, plan.budget / std::max<std::uint64_t>(need, 1)));
    };
    if (options.workers) {
        plan.workers = std::min(*options.workers, fit(largest.minimum));
        if (plan.workers < *options.workers) {
            plan.decisions.push_back(fmt::format(
                "workers: {} instead of the {} asked for: the largest tile needs at least {}",
                plan.workers, *options.workers, util::format_size(largest.minimum)));
        }
    } else {
        plan.workers = std::min({cores, jobs_count, fit(largest.comfortable)});
    }
    plan.workers = std::max(plan.workers, 1u);
    plan.worker_budget = plan.budget / plan.workers;
    plan.threads_per_worker = std::max(1u, cores / plan.workers);
    plan.decisions.push_back(fmt::format(
        "workers: {} x {} each, {} thread(s) per worker ({} cores; the largest tile needs at least "
        "{}, {} to run comfortably)",
        plan.workers, util::format_size(plan.worker_budget), plan.threads_per_worker, cores,
        util::format_size(largest.minimum), util::format_size(largest.comfortable)));
    if (largest.minimum > plan.worker_budget) {
        plan.decisions.push_back(fmt::format(
            "warning: the budget per worker ({}) is below what the largest tile needs ({}); "
            "peak memory may exceed it",
            util::format_size(plan.worker_budget), util::format_size(largest.minimum)));
    }

    auto worker_options = enrich;
    worker_options.memory_budget = plan.worker_budget;
    worker_options.threads = plan.threads_per_worker;
    for (auto& file : plan.files) {
        const auto& job = jobs[file.job];
        if (!file.readable) {
            plan.decisions.push_back(
                fmt::format("{}: unreadable ({})", job.relative.string(), file.error));
            continue;
        }
        try {
            file.tile = enrich::plan_tile(metadata[file.job], worker_options);
        } catch (const std::exception& e) {
            file.readable = false;
            file.error = e.what();
            plan.decisions.push_back(fmt::format("{}: {}", job.relative.string(), file.error));
            continue;
        }
        const auto& t = file.tile;
        plan.decisions.push_back(fmt::format(
            "{}: {} points, {}, {} chunk(s) of ~{} points ({}x{}, {:.0f} m, halo {:.1f} m), "
            "estimated peak {}",
            job.relative.string(), file.points, t.out_of_core ? "out of core" : "in memory",
            t.chunk_count(), t.chunk_points, t.chunk_columns, t.chunk_rows, t.chunk_side, t.halo,
            util::format_size(t.estimated_peak_bytes)));
    }
    return plan;
}

}  // namespace lidarmill::batch
