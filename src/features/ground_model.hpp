#pragma once
// A gridded ground surface for height-above-ground: per cell the mean z of the ground
// points that fall in it, empty cells filled from nearby ground cells, read back by
// bilinear interpolation between cell centres.
// (Cells are centred on origin + (i + 0.5) * cell_size; the origin is one cell below the
// extent's minimum.)
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/uninitialized.hpp"

namespace lidarmill::features {

struct GroundParams {
    double cell_size = 1.0;  // metres
    // An empty cell is filled from the nearest ground cells met along 8 rays (axes and
    // diagonals) within this distance, inverse-distance weighted; none: no-data.
    double fill_reach = 30.0;
};

// Inclusive xy bounds (same local frame as the points), e.g. the tile's header bounds.
struct XyExtent {
    double min_x, min_y, max_x, max_y;
};

class GroundModel {
  public:
    // An empty model: no ground anywhere, height_at() is NaN.
    GroundModel() = default;

    // Ground elevation at (x, y), NaN when no ground cell lies within the fill reach.
    // Points outside the grid read the nearest border of the grid.
    double height_at(double x, double y) const;

    std::size_t columns() const { return columns_; }
    std::size_t rows() const { return rows_; }
    // Elevation of a cell centre (after filling), NaN if none.
    double cell_value(std::size_t column, std::size_t row) const {
        return cells_[row * columns_ + column];
    }

  private:
    friend class GroundModelBuilder;
    double origin_x_ = 0, origin_y_ = 0, cell_size_ = 1;
    std::size_t columns_ = 0, rows_ = 0;
    util::UninitVector<double> cells_;  // row-major, NaN = no ground
};

// Collects ground points of a WHOLE tile (so heights do not depend on chunking), then
// builds the model. The grid covers the extent plus one cell of margin on each side;
// points beyond that are ignored and counted. Feed points in a fixed order (e.g. file
// order): cell means are sums, and summation order affects the last bits.
class GroundModelBuilder {
  public:
    // Throws util::UsageError for a bad cell size or a grid of more than 2^28 cells.
    explicit GroundModelBuilder(const XyExtent& extent, const GroundParams& params = {});

    void add(double x, double y, double z);
    void add(std::span<const double> x, std::span<const double> y, std::span<const double> z);

    std::size_t added_count() const { return added_; }
    std::size_t ignored_count() const { return ignored_; }

    GroundModel build() const;

  private:
    GroundParams params_;
    double origin_x_, origin_y_;
    std::size_t columns_, rows_;
    // Sum and count side by side: points reach the cells in file order, which on sparse or
    // thinned tiles jumps from cell to cell, and each add then costs one cache miss, not two.
    // Packed to 12 bytes: padding to 16 would add a third to the largest fixed cost of a
    // sparse tile's memory plan.
    struct [[gnu::packed]] Accumulator {
        double z_sum = 0;
        std::uint32_t count = 0;
    };
    static_assert(sizeof(Accumulator) == 12);
    std::vector<Accumulator> cells_;
    std::size_t added_ = 0, ignored_ = 0;
};

}  // namespace lidarmill::features
