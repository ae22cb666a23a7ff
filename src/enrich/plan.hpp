#pragma once
// How a tile will be processed, decided from its header (or, when the header's box is
// suspect, from where its points are) and the options, before any point is read: in
// memory or out of core, the chunk grid, and the memory each choice needs. The batch
// planner asks the same questions of every tile before it runs them.
#include <cstdint>
#include <memory>

#include "enrich/chunk_grid.hpp"
#include "enrich/footprint.hpp"
#include "enrich/options.hpp"
#include "las/reader.hpp"

namespace lidarmill::enrich {

struct TilePlan {
    std::uint64_t points = 0;
    std::uint16_t input_record_length = 0, output_record_length = 0;
    bool out_of_core = false;
    std::uint64_t chunk_points = 0;  // target own points per chunk
    // Own points of the most crowded chunk, when the points' footprint was read (a header
    // box far larger than the points); else 0.
    std::uint64_t crowded_chunk_points = 0;
    // Own points a chunk can hold within the budget (chunks are planned for half of it, so
    // that denser parts of the tile fit); out of core, a chunk holding more is split.
    std::uint64_t chunk_capacity = 0;
    std::uint32_t chunk_columns = 1, chunk_rows = 1;
    double chunk_side = 0;  // metres
    double halo = 0;        // metres
    std::uint64_t estimated_peak_bytes = 0;
    std::uint64_t in_core_bytes = 0;  // what processing fully in memory would need
    std::uint64_t minimum_bytes = 0;  // below this the budget cannot be honoured
    std::uint32_t chunk_count() const { return chunk_columns * chunk_rows; }
};

// Throws util::UsageError for unusable options (no features, bad radii).
TilePlan plan_tile(const las::FileMetadata& metadata, const EnrichOptions& options);

// Memory the tile needs at the least (smallest workable chunks, out of core); the batch
// planner uses it to decide how many tiles may run side by side.
std::uint64_t minimum_tile_memory(const las::FileMetadata& metadata, const EnrichOptions& options);

// Throws util::UsageError for unusable options.
void validate_options(const EnrichOptions& options);

// The plan with what the pipeline needs besides: the chunk grid, and the points'
// footprint when it was read.
struct PlannedTile {
    TilePlan plan;
    ChunkGrid grid;
    std::shared_ptr<const TileFootprint> footprint;
};
PlannedTile make_plan(const las::FileMetadata& metadata, const EnrichOptions& options);

// Input and output record lengths; throws util::InputError when the features do not fit.
struct RecordLayout {
    std::uint16_t in = 0, out = 0;
};
RecordLayout record_layout(const las::FileMetadata& metadata, const OutputLayout& output);

inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// The extent's area (m^2), never zero.
double area_of(const XyExtent& extent);

// Bytes out of core for bucket buffers (and as much again for merge buffers).
double spill_buffer_pool(std::uint64_t memory_budget);

}  // namespace lidarmill::enrich
