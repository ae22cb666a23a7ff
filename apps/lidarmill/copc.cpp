// lidarmill copc INPUT... -o OUT.copc.laz [--memory-budget SIZE|auto] [--threads N]
//                [--temp-dir DIR] [--progress bar|plain|json] [--a-srs WKT|EPSG:N]
#include <spdlog/spdlog.h>

#include <memory>

#include "commands.hpp"
#include "copc/converter.hpp"
#include "copc/plan.hpp"
#include "util/error.hpp"
#include "util/size.hpp"

namespace lidarmill::app {

namespace {
struct CopcArgs {
    std::vector<std::string> inputs;
    std::string output;
    std::string memory_budget = "auto";
    unsigned threads = 0;
    std::string temp_dir;
    std::string progress;
    std::string a_srs;
};
}  // namespace

Command register_copc(CLI::App& app) {
    auto a = std::make_shared<CopcArgs>();
    app.add_option("inputs", a->inputs, "Input LAS/LAZ files or folders (searched recursively)")
        ->required();
    app.add_option("-o,--output", a->output, "Output COPC file (.copc.laz)")->required();
    app.add_option("--memory-budget", a->memory_budget, "Peak memory: a size (512M, 4G) or 'auto'");
    app.add_option("--threads", a->threads, "Worker threads (0 = all cores)");
    app.add_option("--temp-dir", a->temp_dir,
                   "Folder for temporary data (default: the output's folder)");
    app.add_option("--progress", a->progress, "Progress: bar, plain, json or none");
    app.add_option("--a-srs", a->a_srs,
                   "Output CRS: OGC WKT or EPSG:N (overrides the inputs' CRS)");
    return [a]() {
        copc::ConvertOptions o;
        o.inputs = copc::collect_inputs(a->inputs);
        o.output = a->output;
        if (a->memory_budget != "auto") {
            o.memory_budget = util::parse_size(a->memory_budget);
            if (o.memory_budget < (256ull << 20)) {
                spdlog::warn("--memory-budget {} is below 256 MiB; peak memory may exceed it",
                             a->memory_budget);
            }
        }
        o.threads = a->threads;
        o.temp_dir = a->temp_dir;
        o.a_srs = a->a_srs;
        o.progress = progress_style(a->progress);
        const auto r = copc::convert(o);
        for (const auto& w : r.warnings) spdlog::warn("{}", w);
        spdlog::info(
            "{}: {} points, {} nodes (depth {}), {} hierarchy pages, {} units; peak temporary disk "
            "{} in {} files",
            a->output, r.points, r.nodes, r.max_depth, r.pages, r.units,
            util::format_size(r.peak_temp_bytes), r.temp_files);
        return 0;
    };
}

}  // namespace lidarmill::app
