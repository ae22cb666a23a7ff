#pragma once
// What `lidarmill info` reports about a point file: header facts, VLRs, CRS, extra
// bytes, LASzip parameters and, after a scan of the records, their real extents, class
// histogram and SHA-256.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lidarmill::ops {

struct ScanOptions {
    bool scan = true;       // decode every record (class histogram, real bounds)
    bool checksum = false;  // records_sha256
    unsigned threads = 0;
};

// Reads `path` and returns the info document (snake_case keys; see README "info").
nlohmann::json summarize_file(const std::filesystem::path& path, const ScanOptions& options);

// Human-readable rendering of the document.
std::string format_summary(const nlohmann::json& summary);

}  // namespace lidarmill::ops
