#pragma once
// What the COPC output will look like, decided from the input headers before any point is
// read: point format, record length, scale, offset, CRS, extra bytes, provisional bounds.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "las/header.hpp"
#include "las/reader.hpp"
#include "las/vlr.hpp"

namespace lidarmill::copc {

// Files named on the command line plus the .las/.laz files found (recursively, sorted) in
// the folders named. Throws util::UsageError for a path that does not exist or a folder
// without point files.
std::vector<std::filesystem::path> collect_inputs(const std::vector<std::string>& arguments);

struct InputInfo {
    std::filesystem::path path;
    las::FileMetadata metadata;
};

struct OutputPlan {
    std::vector<InputInfo> inputs;
    las::Header header;  // LAS 1.4, COPC point format, scale and offset set; counts not yet
    std::optional<std::string> wkt;
    std::optional<las::Vlr> extra_bytes_vlr;
    std::uint64_t total_points = 0;                    // as the headers announce
    std::array<double, 3> header_min{}, header_max{};  // union of the input header bounds
    bool same_quantization = true;  // every input already has the output scale and offset
    std::vector<std::string> warnings;
};

// `a_srs`: empty, OGC WKT text or "EPSG:N" (N must match the WKT of an input: the tool has no
// EPSG database). Throws util::InputError for inputs that cannot be merged (different extra
// bytes, different CRS without a_srs, coordinates that no int32 offset can hold).
OutputPlan plan_output(const std::vector<std::filesystem::path>& inputs, const std::string& a_srs);

}  // namespace lidarmill::copc
