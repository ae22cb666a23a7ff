#pragma once
// A tile's frame, and where its points really are. The memory plan starts from
// the header's bounding box, which can mislead it badly: one stray point 60 km away makes
// a box of 3,600 km^2 for a tile of one; a coastal tile may be mostly sea; and some
// writers leave the bounds wrong. Chunks sized for the box then hold many times the points
// planned. A positions-only read (a few per cent of an enrich) tells the planner where
// the points and the ground are.
#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <vector>

#include "features/ground_model.hpp"
#include "las/header.hpp"
#include "las/point_format.hpp"
#include "las/reader.hpp"

namespace lidarmill::enrich {

using features::GroundParams;
using features::XyExtent;

// A metric frame near the data: coordinates are doubles relative to a local origin
// (never absolute projected coordinates in float32).
struct Frame {
    std::array<double, 3> scale{}, shift{};
    double origin_x = 0, origin_y = 0;

    double x(std::int32_t X) const { return X * scale[0] + shift[0]; }
    double y(std::int32_t Y) const { return Y * scale[1] + shift[1]; }
    double z(std::int32_t Z) const { return Z * scale[2] + shift[2]; }
};

Frame make_frame(const las::Header& header);

// Finite, ordered and under 10,000 km across.
bool plausible_extent(const XyExtent& extent);

// Points per batch of records read or written by the pipeline's passes.
inline constexpr std::size_t kReadBatchPoints = 65536;

// The header's bounds in the frame.
XyExtent header_extent(const las::Header& header, const Frame& frame);

// Where the points are, counted in square cells of `cell_side` metres from the frame's
// origin.
struct TileFootprint {
    // Points per occupied cell; cells need not be contiguous.
    struct Cell {
        std::int64_t column, row;
        std::uint64_t points;
    };
    std::uint64_t points = 0;
    XyExtent data{0, 0, 0, 0};  // every point
    // Every point but at most kStrayShare of them, which lie apart (stray points): the box
    // that chunks should cover.
    XyExtent core{0, 0, 0, 0};
    std::uint64_t outside_core = 0;  // points
    // The ground grid's box: the header's, or the data's when the header's does not hold
    // every point (wrong bounds).
    XyExtent ground_extent{0, 0, 0, 0};
    bool header_holds_points = true;
    double cell_side = 0;
    std::vector<Cell> cells;
    // The ground model's memory, from where the ground is (see GroundCoverage); 0 when the
    // features need no ground.
    std::uint64_t ground_bytes = 0;
};

inline constexpr double kStrayShare = 1e-4;

struct FootprintRequest {
    GroundParams ground;
    std::bitset<256> ground_classes;
    bool needs_ground = false;
    unsigned threads = 0;  // resolved: at least 1
};

// Reads the tile's positions and classes once. A process keeps the footprints it has
// read, keyed by file (path, size, modification time) and request: the batch planner and
// the tile's own plan then share one read.
std::shared_ptr<const TileFootprint> footprint_of(const las::FileMetadata& metadata,
                                                  const Frame& frame,
                                                  const FootprintRequest& request);

}  // namespace lidarmill::enrich
