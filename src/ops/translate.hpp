#pragma once
// Lossless rewrite of a point file, optionally changing point format, LAS version,
// compression or chunk size, or dropping extra-bytes dimensions.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "las/convert.hpp"

namespace lidarmill::ops {

struct TranslateOptions {
    std::optional<std::uint8_t> point_format;
    std::optional<std::uint8_t> las_version_minor;  // 2, 3 or 4
    std::optional<std::uint32_t> chunk_size;
    std::optional<bool> compress;  // default: by output extension
    bool drop_all_extra = false;
    std::vector<std::string> drop_extra;  // dimension names
    unsigned threads = 0;
    std::function<void(std::uint64_t points_done, std::uint64_t total)> on_progress;
};

struct TranslateResult {
    std::uint64_t points = 0;
    las::ConversionLosses losses;
    std::vector<std::string> warnings;
};

TranslateResult translate(const std::filesystem::path& input, const std::filesystem::path& output,
                          const TranslateOptions& options);

}  // namespace lidarmill::ops
