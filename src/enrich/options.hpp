#pragma once
// What a caller asks of `enrich` for one tile. The options enter the pipeline once, at the
// plan (plan.hpp), and every stage reads them from the tile (tile.hpp).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "enrich/output_layout.hpp"
#include "features/compute.hpp"
#include "features/feature.hpp"
#include "features/ground_model.hpp"

namespace lidarmill::enrich {

struct EnrichOptions {
    std::vector<features::Feature> features = features::features_for_mode("core");
    features::NeighbourhoodParams neighbourhood;
    features::GroundParams ground;
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

}  // namespace lidarmill::enrich
