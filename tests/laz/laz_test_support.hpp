#pragma once
// Minimal LAS header parsing for the LAZ tests (the full las::Reader lives elsewhere):
// enough to find the point data, the record layout and the LASzip VLR.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "laz/laszip_vlr.hpp"
#include "laz/laz_reader.hpp"
#include "util/bytes.hpp"

namespace lidarmill::laz::testing {

inline std::filesystem::path shared_data() {
    return LIDARMILL_SHARED_DATA;
}

#define LIDARMILL_REQUIRE_SHARED_DATA()                                                 \
    do {                                                                                \
        if (!std::filesystem::is_directory(::lidarmill::laz::testing::shared_data())) { \
            GTEST_SKIP() << "shared data folder absent: "                               \
                         << ::lidarmill::laz::testing::shared_data().string();          \
        }                                                                               \
    } while (0)

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct LasInfo {
    std::uint64_t point_data_offset = 0;
    std::uint64_t point_data_end = 0;
    std::uint64_t point_count = 0;
    std::uint8_t point_format = 0;
    std::uint16_t record_length = 0;
    bool compressed = false;
    std::optional<std::vector<std::uint8_t>> laszip_payload;
};

inline LasInfo parse_las(const std::vector<std::uint8_t>& file) {
    using util::load_le;
    LasInfo info;
    const std::uint8_t* p = file.data();
    const auto header_size = load_le<std::uint16_t>(p + 94);
    info.point_data_offset = load_le<std::uint32_t>(p + 96);
    const auto vlr_count = load_le<std::uint32_t>(p + 100);
    info.compressed = (p[104] & 0xC0) != 0;
    info.point_format = p[104] & 0x3F;
    info.record_length = load_le<std::uint16_t>(p + 105);
    info.point_count = load_le<std::uint32_t>(p + 107);
    info.point_data_end = file.size();
    const std::uint8_t minor = p[25];
    if (minor >= 4 && header_size >= 375) {
        const auto count64 = load_le<std::uint64_t>(p + 247);
        if (count64 != 0) info.point_count = count64;
        const auto evlr_start = load_le<std::uint64_t>(p + 235);
        const auto evlr_count = load_le<std::uint32_t>(p + 243);
        if (evlr_count > 0 && evlr_start > info.point_data_offset && evlr_start <= file.size()) {
            info.point_data_end = evlr_start;
        }
    }
    std::size_t at = header_size;
    for (std::uint32_t i = 0; i < vlr_count && at + 54 <= file.size(); ++i) {
        const std::string user_id = util::load_fixed_string(p + at + 2, 16);
        const auto record_id = load_le<std::uint16_t>(p + at + 18);
        const auto length = load_le<std::uint16_t>(p + at + 20);
        if (at + 54 + length > file.size()) break;
        if (user_id == "laszip encoded" && record_id == 22204) {
            info.laszip_payload.emplace(p + at + 54, p + at + 54 + length);
        }
        at += 54 + length;
    }
    return info;
}

inline LazPointData point_data_of(const LasInfo& info, const std::string& name) {
    return {info.point_data_offset, info.point_data_end,
            info.point_count,       info.point_format,
            info.record_length,     LaszipVlr::parse(*info.laszip_payload, name)};
}

// Records of an uncompressed LAS file, as many whole records as the file holds.
inline std::vector<std::uint8_t> las_records(const std::vector<std::uint8_t>& file,
                                             const LasInfo& info) {
    const std::uint64_t available =
        (info.point_data_end - info.point_data_offset) / info.record_length;
    const std::uint64_t count = std::min(available, info.point_count);
    const auto begin = file.begin() + static_cast<long>(info.point_data_offset);
    return {begin, begin + static_cast<long>(count * info.record_length)};
}

}  // namespace lidarmill::laz::testing
