#include "enrich/enrich_tile.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/task_arena.h>

#include <chrono>

#include "enrich/in_memory.hpp"
#include "enrich/out_of_core.hpp"
#include "enrich/output.hpp"
#include "enrich/tile.hpp"
#include "io/open.hpp"
#include "util/error.hpp"
#include "util/memory.hpp"

namespace lidarmill::enrich {
namespace fs = std::filesystem;
namespace {

void log_phase_times(const Tile& tile, const TileRun& run, bool reused_layers) {
    spdlog::debug(
        "{}: CPU/wall seconds: read {:.2f}/{:.2f}, features {:.2f}/{:.2f}, write "
        "{:.2f}/{:.2f} ({})",
        tile.metadata.path, run.read_time.cpu, run.read_time.wall, run.compute_time.cpu,
        run.compute_time.wall, run.write_time.cpu, run.write_time.wall,
        reused_layers ? "compressed input layers copied" : "records encoded again");
}

EnrichResult enrich_tile(const fs::path& input, const fs::path& output,
                         const EnrichOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    // The first pass needs positions and classes only; the output takes every field from
    // the input again (by copying compressed layers, or by a second full read).
    auto reader = io::open_reader(input, {options.threads, laz::DecodeScope::positions});
    const Tile tile = make_tile(input, output, options, reader->metadata());
    TileRun run(tile);
    note_footprint(tile, run);
    const std::optional<LayerReuse> reuse = plan_layer_reuse(tile);

    ComputedTile computed = tile.plan().out_of_core
                                ? compute_out_of_core(tile, *reader, reuse.has_value(), run)
                                : compute_in_memory(tile, *reader, reuse.has_value(), run);
    const FirstPass& pass = computed.first_pass;
    const bool reused = reuse && pass.points == tile.plan().points;
    write_output(tile, *computed.feed, reused ? &*reuse : nullptr, pass.stats, pass.points, run);
    computed.feed.reset();  // out of core: the scratch folder goes
    log_phase_times(tile, run, reused);

    EnrichResult result;
    result.plan = tile.plan();
    result.out_of_core = tile.plan().out_of_core;
    result.chunks = tile.grid().count();
    result.split_chunks = computed.split_chunks;
    result.scratch_bytes = computed.scratch_bytes;
    result.points = pass.points;
    result.reused_compressed_layers = reused;
    result.summary = run.summary.result();
    result.warnings = tile.metadata.warnings;
    result.warnings.insert(result.warnings.end(), run.warnings.begin(), run.warnings.end());
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.peak_rss_bytes = util::peak_rss_bytes();
    return result;
}

}  // namespace

EnrichResult enrich_file(const fs::path& input, const fs::path& output,
                         const EnrichOptions& options) {
    std::error_code ec;
    if (fs::exists(output, ec) && fs::equivalent(input, output, ec)) {
        throw util::UsageError(fmt::format("{}: output would overwrite the input", input.string()));
    }
    validate_options(options);
    tbb::task_arena arena(options.threads > 0 ? static_cast<int>(options.threads)
                                              : tbb::task_arena::automatic);
    return arena.execute([&] { return enrich_tile(input, output, options); });
}

}  // namespace lidarmill::enrich
