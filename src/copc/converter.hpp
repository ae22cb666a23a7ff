#pragma once
// LAS/LAZ -> COPC, out of core: records are converted and bucketed into one temporary file
// (pass 1), then work units (subtrees of at most a memory-derived number of points) are
// built and compressed in parallel and written in a fixed order (pass 2), and the nodes
// above the units, whose points come from many units, are written last.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "util/progress.hpp"

namespace lidarmill::copc {

struct ConvertOptions {
    std::vector<std::filesystem::path> inputs;  // files (see collect_inputs for folders)
    std::filesystem::path output;
    std::uint64_t memory_budget = 0;  // bytes; 0 = auto (cgroup limit and MemAvailable)
    unsigned threads = 0;             // 0 = all cores
    std::filesystem::path temp_dir;   // default: the output's folder
    std::string a_srs;                // WKT or EPSG:N; empty = the inputs' CRS
    std::size_t leaf_max_points = 100'000;
    util::ProgressStyle progress = util::ProgressStyle::none;
    std::ostream* progress_out = nullptr;  // default std::cerr
};

struct ConvertResult {
    std::uint64_t points = 0;
    std::size_t nodes = 0;  // hierarchy entries (zero-count ancestors included)
    std::size_t pages = 0;
    int max_depth = 0;
    std::size_t units = 0;
    int bucket_depth = 0;
    std::uint64_t unit_max_points = 0;
    std::uint64_t memory_budget = 0;
    std::uint64_t peak_temp_bytes = 0;  // on disk, both temporary files together
    std::size_t temp_files = 0;         // created in the run folder
    bool bounds_rescanned = false;      // header bounds were wrong: one extra read pass
    std::vector<std::string> warnings;
};

ConvertResult convert(const ConvertOptions& options);

}  // namespace lidarmill::copc
