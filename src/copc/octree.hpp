#pragma once
// Building the octree of one work unit in memory: which node every point belongs to.
//
// Sampling rule (top-down): a node at depth l keeps, in each cell of its 128^3 grid (a cell
// is a node of depth l + 7), the point of smallest priority not kept by an ancestor; a node
// whose cube holds at most `leaf_max` points is a leaf and keeps everything left. Priority is
// a hash of the point's stable id (input file index, point index), so the choice does not
// depend on the order points arrive in nor on the thread count. Because a unit sits at depth
// <= 7, every grid cell of its ancestors lies either wholly inside or wholly outside the unit:
// the ancestors' share of the unit's points is decided locally, in parallel with other units.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "copc/format.hpp"

namespace lidarmill::copc {

inline constexpr int kGridBits = 21;     // per axis, below the root cube
inline constexpr int kSampleLevels = 7;  // 2^7 = 128 cells per axis
inline constexpr int kMaxDepth = kGridBits - kSampleLevels;
inline constexpr int kMaxUnitDepth = kSampleLevels;

// Maps the integer coordinates of output records onto the 2^21 grid of the cube.
class CubeGrid {
  public:
    CubeGrid(std::array<double, 3> cube_min, double side, std::array<double, 3> scale,
             std::array<double, 3> offset);
    // Grid cell of each axis, clamped to the cube; `inside` tells whether it needed no clamping
    // beyond rounding slack.
    std::array<std::uint32_t, 3> cell(const std::uint8_t* record, bool& inside) const;
    std::uint64_t morton(const std::uint8_t* record) const;
    VoxelKey key_at(const std::uint8_t* record, int depth) const;

  private:
    std::array<double, 3> min_;
    double side_;
    std::array<double, 3> scale_;
    std::array<double, 3> offset_;
};

std::uint64_t morton_encode(std::uint32_t x, std::uint32_t y, std::uint32_t z);
// The key of the depth-`depth` node holding a point of this morton code.
VoxelKey key_of_morton(std::uint64_t morton, int depth);

// Stable identity of a point: input file index (16 bits) and index in the file (48 bits).
inline std::uint64_t point_id(std::uint32_t file_index, std::uint64_t point_index) {
    return (static_cast<std::uint64_t>(file_index) << 48) | point_index;
}
std::uint64_t sample_priority(std::uint64_t id);

// Temporary records are output records followed by the 8-byte point id.
struct NodePoints {
    VoxelKey key;
    std::vector<std::uint8_t> records;  // temporary records (record_length + 8 bytes each)
};

struct UnitResult {
    std::vector<NodePoints> nodes;      // depth >= unit depth, non-empty, in key order
    std::vector<NodePoints> ancestors;  // depth < unit depth: this unit's share, non-empty
};

// Distributes the temporary records of one unit (all inside `unit`'s cube) over the nodes.
UnitResult build_unit(std::span<const std::uint8_t> records, std::size_t record_length,
                      const VoxelKey& unit, const CubeGrid& grid, std::size_t leaf_max);

// Strips the ids and sorts the records by GPS time, then id (records of formats 6-10).
std::vector<std::uint8_t> sorted_output_records(std::span<const std::uint8_t> temp_records,
                                                std::size_t record_length);

}  // namespace lidarmill::copc
