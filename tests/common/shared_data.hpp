#pragma once
// Access to ../shared/data and the expected values of its SOURCES.md table
// ("Decoded with independent decoders": points and sha256 over the raw records).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>

namespace lidarmill::testing {

inline std::filesystem::path shared_data_dir() {
    return LIDARMILL_SHARED_DATA;
}

inline bool shared_data_present() {
    return std::filesystem::exists(shared_data_dir() / "SOURCES.md");
}

// Use at the start of a test: skips it, saying so, when ../shared/data is absent.
#define LIDARMILL_REQUIRE_SHARED_DATA()                                            \
    do {                                                                           \
        if (!::lidarmill::testing::shared_data_present()) {                        \
            GTEST_SKIP() << "shared data folder absent: " << LIDARMILL_SHARED_DATA \
                         << " (tests on real files did not run)";                  \
        }                                                                          \
    } while (0)

struct ExpectedRecords {
    std::string file;  // relative to shared_data_dir()
    std::optional<std::uint64_t> points;
    std::string sha256;  // empty when the independent decoders failed
};

// Rows of the SOURCES.md table that decoded with independent decoders, by relative path.
inline std::map<std::string, ExpectedRecords> expected_records() {
    std::map<std::string, ExpectedRecords> rows;
    std::ifstream in(shared_data_dir() / "SOURCES.md");
    std::string line;
    bool in_table = false;
    const std::regex row(R"(^\| `([^`]+)` \| (\w+) \|[^|]*\| (`([0-9a-f]{64})`)?)");
    while (std::getline(in, line)) {
        if (line.rfind("## Decoded with independent decoders", 0) == 0) in_table = true;
        if (line.rfind("## Benchmark inputs", 0) == 0) in_table = false;
        std::smatch m;
        if (!in_table || !std::regex_search(line, m, row)) continue;
        ExpectedRecords e{m[1].str(), std::nullopt, m[4].str()};
        if (std::isdigit(static_cast<unsigned char>(m[2].str()[0])))
            e.points = std::stoull(m[2].str());
        rows[e.file] = e;
    }
    // LASzip-only decodes (laz-perf failed) keep their hash in the LASzip column.
    std::ifstream again(shared_data_dir() / "SOURCES.md");
    const std::regex laszip_only(
        R"(^\| `([^`]+)` \| error \|.*\| `([0-9a-f]{64})` \(decoded (\d+) of)");
    while (std::getline(again, line)) {
        std::smatch m;
        if (std::regex_search(line, m, laszip_only)) {
            rows[m[1].str()] = {m[1].str(), std::stoull(m[3].str()), m[2].str()};
        }
    }
    return rows;
}

}  // namespace lidarmill::testing
