#pragma once
// Checks a COPC file against the COPC 1.0 specification and what public validators
// (copc-validator, copc.js, PDAL readers.copc) check; --deep decodes every point.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lidarmill::copc {

enum class Severity { info, warning, error };
const char* severity_name(Severity s);

struct Finding {
    Severity severity = Severity::info;
    std::string check;    // short id: "header", "info-vlr", "hierarchy", "chunks", "gps-range"...
    std::string message;  // one line
};

struct ValidateOptions {
    bool deep = false;     // decode every node
    unsigned threads = 0;  // 0 = all cores
};

struct ValidationReport {
    std::string file;
    std::vector<Finding> findings;
    std::uint64_t points = 0;  // hierarchy sum
    std::size_t nodes = 0;
    std::size_t pages = 0;
    std::uint64_t points_decoded = 0;  // deep only

    std::size_t count(Severity s) const;
    bool valid() const { return count(Severity::error) == 0; }
    nlohmann::json to_json() const;
};

// Never throws for a bad file: unreadable files give an error finding.
ValidationReport validate_copc(const std::filesystem::path& file,
                               const ValidateOptions& options = {});

}  // namespace lidarmill::copc
