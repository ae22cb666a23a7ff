#pragma once
// COPC 1.0 on-disk structures (copc.io): the info VLR, hierarchy entries and octree keys.
#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "las/vlr.hpp"

namespace lidarmill::copc {

inline constexpr const char* kCopcUserId = "copc";
inline constexpr std::uint16_t kInfoRecordId = 1;
inline constexpr std::uint16_t kHierarchyRecordId = 1000;
inline constexpr std::size_t kInfoSize = 160;
inline constexpr std::size_t kEntrySize = 32;
// The info VLR must be the first VLR, right after the 375-byte LAS 1.4 header.
inline constexpr std::uint64_t kInfoVlrOffset = 375;
inline constexpr std::uint64_t kInfoDataOffset = 375 + las::kVlrHeaderSize;

// (depth, x, y, z): node x,y,z of the 2^depth grid over the cube.
struct VoxelKey {
    std::int32_t d = 0, x = 0, y = 0, z = 0;

    auto operator<=>(const VoxelKey&) const = default;
    VoxelKey parent() const { return {d - 1, x >> 1, y >> 1, z >> 1}; }
    VoxelKey child(int octant) const {
        return {d + 1, 2 * x + (octant & 1), 2 * y + ((octant >> 1) & 1),
                2 * z + ((octant >> 2) & 1)};
    }
    bool valid() const;
    std::string to_string() const;
    // A 64-bit value unique per key (depth <= 20), for hash maps and block stores.
    std::uint64_t packed() const;
    static VoxelKey unpack(std::uint64_t packed);
};

struct CopcInfo {
    double center_x = 0, center_y = 0, center_z = 0;
    double halfsize = 0;
    double spacing = 0;
    std::uint64_t root_hier_offset = 0;
    std::uint64_t root_hier_size = 0;
    double gpstime_minimum = 0;
    double gpstime_maximum = 0;
    std::array<std::uint64_t, 11> reserved{};

    std::array<std::uint8_t, kInfoSize> serialize() const;
    static CopcInfo parse(std::span<const std::uint8_t> bytes);  // bytes.size() >= 160
    // Cube corner and side.
    std::array<double, 3> cube_min() const {
        return {center_x - halfsize, center_y - halfsize, center_z - halfsize};
    }
    double side() const { return 2 * halfsize; }
};

// One hierarchy entry: a node (point_count >= 0) or a child page (point_count == -1).
struct Entry {
    VoxelKey key;
    std::uint64_t offset = 0;
    std::int32_t byte_size = 0;
    std::int32_t point_count = 0;

    void serialize(std::uint8_t* out) const;  // 32 bytes
    static Entry parse(const std::uint8_t* in);
};

// Bytes of a VLR (54-byte header + data) or EVLR (60-byte header + data).
std::vector<std::uint8_t> serialize_vlr(const las::Vlr& vlr);
std::vector<std::uint8_t> serialize_evlr(const las::Vlr& vlr);

// Maps a double onto an unsigned integer with the same order (NaNs last), so GPS times can
// be sorted and compared without the NaN pitfalls of operator<.
std::uint64_t ordered_bits(double value);

// Point format of the COPC output for an input format (0/1/4/6/9 -> 6, 2/3/5/7 -> 7, 8/10 -> 8).
std::uint8_t copc_point_format(std::uint8_t input_format);

}  // namespace lidarmill::copc
