#pragma once
// `enrich` for one tile: reads a LAS/LAZ file, computes per-point features in spatial
// chunks (each loaded with a halo as wide as the largest neighbourhood, so values do not
// depend on the chunking), and writes a copy of the file with the features appended as
// extra-bytes dimensions: same point order, every input field, VLR, EVLR and the CRS
// kept. Files whose working set exceeds the memory budget are processed out of core:
// points are bucketed by chunk into a scratch folder, each chunk is computed on its own,
// and the results are merged back into input order.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "features/compute.hpp"
#include "features/enrich_output.hpp"
#include "features/feature.hpp"
#include "features/ground_model.hpp"
#include "las/reader.hpp"

namespace lidarmill::features {

struct EnrichOptions {
    std::vector<Feature> features = features_for_mode("core");
    NeighbourhoodParams neighbourhood;
    GroundParams ground;
    std::vector<std::uint8_t> ground_classes{2};
    Precision precision = Precision::float32;
    // Peak memory the tile may use, bytes; it sets the chunk size and the choice between
    // in-memory and out-of-core processing.
    std::uint64_t memory_budget = std::uint64_t{1} << 30;
    // Upper bound on a chunk's own points (0 = from the budget only). For tests and tuning.
    std::uint64_t max_chunk_points = 0;
    // Where out-of-core scratch files go (a private subfolder is made and removed);
    // empty = next to the output file.
    std::filesystem::path temp_dir;
    unsigned threads = 0;          // 0 = all cores
    std::optional<bool> compress;  // default: by output extension (.laz)
    // A layered LAZ input (point formats 6-10) written as LAZ keeps its compressed point
    // layers; only the features are encoded. false: encode every record again (same
    // bytes, slower; for comparisons).
    bool reuse_compressed_layers = true;
    // Called from the calling thread with (units done, units total).
    std::function<void(std::uint64_t, std::uint64_t)> on_progress;
};

// How a tile will be processed, decided from its header and the options.
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

struct FeatureSummary {
    Feature feature;
    double min = 0, max = 0;    // over values that are not no-data (NaN if none)
    std::uint64_t no_data = 0;  // points without a value
};

struct EnrichResult {
    std::uint64_t points = 0;
    std::uint32_t chunks = 0;
    // Out of core: chunks whose points crowded beyond the plan, split into smaller ones.
    std::uint32_t split_chunks = 0;
    bool out_of_core = false;
    double seconds = 0;
    std::uint64_t peak_rss_bytes = 0;  // of the whole process
    std::uint64_t scratch_bytes = 0;   // written to the scratch folder
    bool reused_compressed_layers = false;
    TilePlan plan;
    std::vector<FeatureSummary> summary;
    std::vector<std::string> warnings;  // input quirks, one line each
};

// Enriches `input` into `output` (appears only when complete). Throws util::InputError
// for unreadable inputs (naming the file), util::UsageError for bad options.
EnrichResult enrich_file(const std::filesystem::path& input, const std::filesystem::path& output,
                         const EnrichOptions& options);

}  // namespace lidarmill::features
