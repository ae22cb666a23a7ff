// lidarmill enrich --input DIR|FILE... --output DIR [options]: per-point geometric features
// appended as extra-bytes dimensions; a thin layer over batch::run_batch.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <sstream>

#include "batch/run.hpp"
#include "commands.hpp"
#include "features/feature.hpp"
#include "util/error.hpp"
#include "util/size.hpp"

namespace lidarmill::app {

namespace {

struct EnrichArgs {
    std::vector<std::string> inputs;
    std::string output;
    std::string mode = "core";
    std::string features;
    int k = 20;
    double radius = 2.0;
    double max_radius = 5.0;
    std::string ground_classes = "2";
    double ground_cell = 1.0;
    std::string precision = "float32";
    std::string workers = "auto";
    std::string memory_budget = "auto";
    unsigned threads = 0;
    std::string temp_dir;
    bool force = false;
    std::string output_format = "laz";
    bool dry_run = false;
    std::string progress;
    std::uint64_t chunk_points = 0;
};

std::vector<std::uint8_t> parse_classes(const std::string& csv) {
    std::vector<std::uint8_t> classes;
    std::stringstream in(csv);
    for (std::string item; std::getline(in, item, ',');) {
        try {
            std::size_t used = 0;
            const int value = std::stoi(item, &used);
            if (value < 0 || value > 255) throw std::out_of_range("class");
            classes.push_back(static_cast<std::uint8_t>(value));
        } catch (const std::exception&) {
            throw util::UsageError("--ground-classes: '" + item + "' is not a class code 0-255");
        }
    }
    if (classes.empty()) throw util::UsageError("--ground-classes is empty");
    return classes;
}

std::optional<unsigned> parse_workers(const std::string& text) {
    if (text == "auto") return std::nullopt;
    try {
        std::size_t used = 0;
        const int n = std::stoi(text, &used);
        if (used == text.size() && n >= 1) return static_cast<unsigned>(n);
    } catch (const std::exception&) {
    }
    throw util::UsageError("--num-workers must be a positive number or 'auto', not '" + text + "'");
}

batch::BatchOptions to_options(const EnrichArgs& a) {
    batch::BatchOptions o;
    for (const auto& input : a.inputs) o.inputs.emplace_back(input);
    o.output_dir = a.output;
    auto& e = o.enrich;
    e.features = a.features.empty() ? features::features_for_mode(a.mode)
                                    : features::parse_feature_list(a.features);
    e.neighbourhood = {a.k, a.max_radius, a.radius};
    e.ground.cell_size = a.ground_cell;
    e.ground_classes = parse_classes(a.ground_classes);
    e.precision = enrich::parse_precision(a.precision);
    e.max_chunk_points = a.chunk_points;
    o.plan.workers = parse_workers(a.workers);
    if (a.memory_budget != "auto") o.plan.memory_budget = util::parse_size(a.memory_budget);
    o.plan.threads = a.threads;
    o.temp_dir = a.temp_dir;
    o.force = a.force;
    o.format = batch::parse_output_format(a.output_format);
    o.dry_run = a.dry_run;
    o.progress = progress_style(a.progress);
    return o;
}

}  // namespace

Command register_enrich(CLI::App& app) {
    auto a = std::make_shared<EnrichArgs>();
    app.add_option("-i,--input", a->inputs, "Input LAS/LAZ/COPC files or folders (recursive)")
        ->required()
        ->expected(1, -1);
    app.add_option("-o,--output", a->output, "Output folder; input folders are mirrored into it")
        ->required();
    app.add_option("--mode", a->mode, "Feature set: core, building or full")
        ->check(CLI::IsMember({"core", "building", "full"}))
        ->capture_default_str();
    app.add_option("--features", a->features, "Comma-separated feature list (overrides --mode)");
    app.add_option("--k-neighbors", a->k, "Neighbours per point, the point included")
        ->check(CLI::Range(3, 1000))
        ->capture_default_str();
    app.add_option("--radius", a->radius, "Radius for points_in_radius, metres")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--max-radius", a->max_radius,
                   "Farthest neighbour kept, metres (bounds the halo)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--ground-classes", a->ground_classes, "Classes used as ground, comma-separated")
        ->capture_default_str();
    app.add_option("--ground-cell", a->ground_cell, "Ground grid cell size, metres")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--precision", a->precision,
                   "float32, or compact: bounded features as scaled int16")
        ->check(CLI::IsMember({"float32", "compact"}))
        ->capture_default_str();
    app.add_option("--num-workers", a->workers, "Tiles processed side by side: N or auto")
        ->capture_default_str();
    app.add_option("--memory-budget", a->memory_budget,
                   "Peak memory for the whole run: SIZE (512M, 4G) or auto (cgroup-aware)")
        ->capture_default_str();
    app.add_option("--threads", a->threads, "Threads for the whole run (0 = all cores)");
    app.add_option("--temp-dir", a->temp_dir,
                   "Folder for out-of-core scratch files (default: inside the output folder)");
    app.add_flag("--force", a->force, "Redo tiles whose output already exists");
    app.add_option("--output-format", a->output_format, "laz or las")
        ->check(CLI::IsMember({"laz", "las"}))
        ->capture_default_str();
    app.add_flag("--dry-run", a->dry_run, "Print the plan (files, memory, workers) and stop");
    app.add_option("--progress", a->progress, "Progress: bar, plain, json or none");
    app.add_option("--chunk-points", a->chunk_points,
                   "Cap on points per spatial chunk (tuning; default from the budget)");
    return [a]() {
        const auto options = to_options(*a);
        const auto report = batch::run_batch(options);
        if (options.dry_run) {
            std::vector<batch::Job> jobs =
                batch::discover_jobs(options.inputs, options.output_dir, options.format);
            std::cout << batch::describe_plan(options, jobs, report.plan);
            return 0;
        }
        if (!quiet_mode) std::cerr << report.summary_text();
        return report.exit_code();
    };
}

}  // namespace lidarmill::app
