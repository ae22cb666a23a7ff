#pragma once
// `enrich` for one tile: reads a LAS/LAZ file, computes per-point features in spatial
// chunks (each loaded with a halo as wide as the largest neighbourhood, so values do not
// depend on the chunking), and writes a copy of the file with the features appended as
// extra-bytes dimensions: same point order, every input field, VLR, EVLR and the CRS
// kept. Files whose working set exceeds the memory budget are processed out of core.
//
// The pipeline, one stage per file of this folder: plan (plan.hpp) -> first pass
// (first_pass.hpp, ground_stage.hpp) -> in memory (in_memory.hpp) or out of core
// (out_of_core.hpp, crowded_split.hpp) -> output (output.hpp).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "enrich/options.hpp"
#include "enrich/plan.hpp"
#include "enrich/summary.hpp"

namespace lidarmill::enrich {

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

}  // namespace lidarmill::enrich
