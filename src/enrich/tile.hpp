#pragma once
// What the stages of one tile's pipeline share: the tile as planned (read-only once made)
// and the run's bookkeeping (progress, summary, phase times, warnings), which every stage
// adds to.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "enrich/options.hpp"
#include "enrich/output_layout.hpp"
#include "enrich/phase_timer.hpp"
#include "enrich/plan.hpp"
#include "enrich/progress.hpp"
#include "enrich/summary.hpp"
#include "las/reader.hpp"

namespace lidarmill::enrich {

struct Tile {
    std::filesystem::path input, output;
    const EnrichOptions& options;
    const las::FileMetadata& metadata;
    OutputLayout output_layout;
    RecordLayout layout;
    std::size_t feature_bytes;  // per point
    Frame frame;
    PlannedTile planned;
    double halo;  // the plan's, widened against rounding at chunk borders

    const TilePlan& plan() const { return planned.plan; }
    const ChunkGrid& grid() const { return planned.grid; }
};

// Plans the tile; throws util::InputError when its records cannot take the features (too
// long, or dimensions of the same names already there), util::UsageError for bad options.
Tile make_tile(const std::filesystem::path& input, const std::filesystem::path& output,
               const EnrichOptions& options, const las::FileMetadata& metadata);

struct TileRun {
    explicit TileRun(const Tile& tile)
        : summary(tile.options.features), progress(tile.options.on_progress, tile.plan().points) {}

    SummaryAccumulator summary;
    ProgressCounter progress;
    PhaseTimer::Totals read_time, compute_time, write_time;
    std::vector<std::string> warnings;  // besides the reader's
};

// Warns when the plan was made on the points' footprint because the header's box is far
// larger than the points.
void note_footprint(const Tile& tile, TileRun& run);

}  // namespace lidarmill::enrich
