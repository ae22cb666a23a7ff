#include "features/ground_model.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "features/blocks.hpp"
#include "util/error.hpp"

namespace lidarmill::features {
namespace {

constexpr double no_data = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t max_cells = std::size_t{1} << 28;

std::size_t cells_across(double low, double high, double cell_size) {
    // One cell of margin on each side, so points on the extent's edges are inside.
    return static_cast<std::size_t>(std::floor((high - low) / cell_size)) + 3;
}

// Fills each empty cell from the surrounding ground: along 8 rays (axes and diagonals)
// it finds the first cell that has ground, up to the fill reach, and takes the
// inverse-distance mean of those values. Weights 1/d make two opposite rays interpolate
// linearly, so a hole in a slope (a building footprint) is filled following the slope.
// Only cells that had ground are used as sources: the result does not depend on the
// order in which holes are filled.
//
// Walking every ray from every empty cell cost O(cells x reach): seconds on sparse 3 km
// tiles whose 1 m grids are mostly empty. Instead two sweeps carry, per column and per
// diagonal, the nearest measured cell met so far, so each cell costs O(1) whatever the
// reach. The rays' contributions are still summed in the same fixed order, so the result
// is the one of the ray walk, bit for bit.
//
// No ray reaches further than the fill reach, so bands of rows are filled independently
// (in parallel: this ran serially between the parallel read and feature phases), each
// sweep starting a reach before its band. Fills are written only to empty cells and
// sources are read only from measured ones, so bands never read what another writes.
class HoleFiller {
  public:
    HoleFiller(util::UninitVector<double>& cells, std::size_t columns, double reach_in_cells)
        : cells_(cells),
          cols_(static_cast<std::ptrdiff_t>(columns)),
          rows_(static_cast<std::ptrdiff_t>(cells.size() / columns)),
          // Same test as a ray walk (step * length <= reach), capped by the grid's size.
          axis_steps_(steps_within(reach_in_cells, 1.0)),
          diagonal_steps_(steps_within(reach_in_cells, std::sqrt(2.0))),
          axis_weights_(weights_by_step(axis_steps_, 1.0)),
          diagonal_weights_(weights_by_step(diagonal_steps_, std::sqrt(2.0))) {}

    void fill() {
        if (rows_ == 0 || cols_ == 0) return;
        has_ground_.resize(cells_.size());
        detail::parallel_for_index(cells_.size(),
                                   [&](std::size_t c) { has_ground_[c] = !std::isnan(cells_[c]); });
        // Bands several reaches tall, so that the sweeps' run-up costs little.
        const std::ptrdiff_t band_rows = std::max<std::ptrdiff_t>(64, 8 * axis_steps_);
        const auto bands = static_cast<std::size_t>((rows_ + band_rows - 1) / band_rows);
        const bool narrow_steps =
            std::max(axis_steps_, diagonal_steps_) < std::numeric_limits<std::uint16_t>::max();
        tbb::parallel_for(std::size_t{0}, bands, [&](std::size_t band) {
            const std::ptrdiff_t first = static_cast<std::ptrdiff_t>(band) * band_rows;
            const std::ptrdiff_t end = std::min(rows_, first + band_rows);
            if (narrow_steps) {
                fill_rows<std::uint16_t>(first, end);
            } else {
                fill_rows<std::uint32_t>(first, end);
            }
        });
    }

  private:
    std::ptrdiff_t steps_within(double reach, double length) const {
        const std::ptrdiff_t cap = std::max(rows_, cols_);
        std::ptrdiff_t steps = 0;
        while (steps < cap && static_cast<double>(steps + 1) * length <= reach) ++steps;
        return steps;
    }

    // Inverse-distance weights 1 / (step * length) for steps 1..steps; 0 at step 0.
    static std::vector<double> weights_by_step(std::ptrdiff_t steps, double length) {
        std::vector<double> weights(static_cast<std::size_t>(steps) + 1, 0.0);
        for (std::ptrdiff_t step = 1; step <= steps; ++step) {
            weights[static_cast<std::size_t>(step)] = 1.0 / (static_cast<double>(step) * length);
        }
        return weights;
    }

    // `step` if `keep`, else 0, without a branch.
    static std::size_t step_if(bool keep, std::ptrdiff_t step) {
        return static_cast<std::size_t>(step) & (0 - static_cast<std::size_t>(keep));
    }

    // `value` if `keep`, else +0 (also for a NaN value), without a branch.
    static double only_if(bool keep, double value) {
        return std::bit_cast<double>(std::bit_cast<std::uint64_t>(value) &
                                     (0 - static_cast<std::uint64_t>(keep)));
    }

    std::size_t at(std::ptrdiff_t col, std::ptrdiff_t row) const {
        return static_cast<std::size_t>(row * cols_ + col);
    }
    bool has_ground(std::ptrdiff_t col, std::ptrdiff_t row) const {
        return has_ground_[at(col, row)] != 0;
    }
    // Only for cells with ground: their values never change.
    double measured(std::ptrdiff_t col, std::ptrdiff_t row) const { return cells_[at(col, row)]; }

    // Rays towards higher rows, in ray order: (0, 1), (1, 1), (-1, 1) as (column, row) steps.
    // Sweeping rows downwards from the top, the nearest measured row above each cell is
    // carried per column, per diagonal (column - row) and per anti-diagonal (column + row);
    // the step to it (0: none within reach) is kept per cell of rows [first, end) for the
    // second sweep.
    template <typename Step>
    std::vector<Step> steps_upwards(std::ptrdiff_t first, std::ptrdiff_t end) const {
        std::vector<Step> steps(static_cast<std::size_t>((end - first) * cols_) * 3, 0);
        constexpr std::ptrdiff_t none = -1;
        std::vector<std::ptrdiff_t> column_hit(static_cast<std::size_t>(cols_), none);
        std::vector<std::ptrdiff_t> diagonal_hit(static_cast<std::size_t>(cols_ + rows_), none);
        std::vector<std::ptrdiff_t> anti_hit(static_cast<std::size_t>(cols_ + rows_), none);
        auto step_to = [](std::ptrdiff_t hit_row, std::ptrdiff_t row, std::ptrdiff_t limit) {
            const std::ptrdiff_t step = hit_row - row;  // branch-free, as in fill_row
            return static_cast<Step>(step_if((hit_row != none) & (step <= limit), step));
        };
        for (std::ptrdiff_t row = std::min(rows_, end + axis_steps_) - 1; row >= first; --row) {
            for (std::ptrdiff_t col = 0; col < cols_; ++col) {
                const auto diagonal = static_cast<std::size_t>(col - row + rows_ - 1);
                const auto anti = static_cast<std::size_t>(col + row);
                if (has_ground(col, row)) {
                    column_hit[static_cast<std::size_t>(col)] = row;
                    diagonal_hit[diagonal] = row;
                    anti_hit[anti] = row;
                } else if (row < end) {
                    Step* const out =
                        &steps[static_cast<std::size_t>((row - first) * cols_ + col) * 3];
                    out[0] = step_to(column_hit[static_cast<std::size_t>(col)], row, axis_steps_);
                    out[1] = step_to(diagonal_hit[diagonal], row, diagonal_steps_);
                    out[2] = step_to(anti_hit[anti], row, diagonal_steps_);
                }
            }
        }
        return steps;
    }

    // The nearest measured cell carried by a sweep: its value and its row or column.
    struct Hit {
        double value = 0;
        std::ptrdiff_t at = -1;  // -1: none yet
    };

    // Fills the empty cells of rows [first, end).
    template <typename Step>
    void fill_rows(std::ptrdiff_t first, std::ptrdiff_t end) {
        const std::vector<Step> up = steps_upwards<Step>(first, end);
        // Rays towards lower rows, carried upwards: (0, -1), (1, -1), (-1, -1).
        std::vector<Hit> column_hit(static_cast<std::size_t>(cols_));
        std::vector<Hit> anti_hit(static_cast<std::size_t>(cols_ + rows_));
        std::vector<Hit> diagonal_hit(static_cast<std::size_t>(cols_ + rows_));
        // Rays along the row: nearest measured column to the right and to the left.
        std::vector<std::ptrdiff_t> right(static_cast<std::size_t>(cols_));
        std::vector<std::ptrdiff_t> left(static_cast<std::size_t>(cols_));
        for (std::ptrdiff_t row = std::max<std::ptrdiff_t>(0, first - axis_steps_); row < end;
             ++row) {
            if (row >= first)
                fill_row<Step>(row, &up[static_cast<std::size_t>((row - first) * cols_) * 3],
                               column_hit, anti_hit, diagonal_hit, right, left);
            // Carry this row's measured cells to the rows above.
            for (std::ptrdiff_t col = 0; col < cols_; ++col) {
                if (!has_ground(col, row)) continue;
                const Hit hit{measured(col, row), row};
                column_hit[static_cast<std::size_t>(col)] = hit;
                // A cell (c, r) looks towards (c + s, r - s): same column + row.
                anti_hit[static_cast<std::size_t>(col + row)] = hit;
                // and towards (c - s, r - s): same column - row.
                diagonal_hit[static_cast<std::size_t>(col - row + rows_ - 1)] = hit;
            }
        }
    }

    template <typename Step>
    void fill_row(std::ptrdiff_t row, const Step* up, const std::vector<Hit>& column_hit,
                  const std::vector<Hit>& anti_hit, const std::vector<Hit>& diagonal_hit,
                  std::vector<std::ptrdiff_t>& right, std::vector<std::ptrdiff_t>& left) {
        std::ptrdiff_t seen = -1;
        for (std::ptrdiff_t col = cols_ - 1; col >= 0; --col) {
            if (has_ground(col, row)) seen = col;
            right[static_cast<std::size_t>(col)] = seen;
        }
        seen = -1;
        for (std::ptrdiff_t col = 0; col < cols_; ++col) {
            if (has_ground(col, row)) seen = col;
            left[static_cast<std::size_t>(col)] = seen;
        }
        for (std::ptrdiff_t col = 0; col < cols_; ++col) {
            if (has_ground(col, row)) continue;
            const auto c = static_cast<std::size_t>(col);
            double weighted_sum = 0, weight_sum = 0;
            // A ray counts when it meets ground within reach. Rays that do and rays that
            // do not are about equally common on sparse tiles, so no branch decides it (the
            // branches were most of the fill's mispredictions): a ray that does not adds a
            // zero weight times a zero value, which leaves both sums as they are.
            auto add = [&](bool found, std::ptrdiff_t step, const std::vector<double>& weights,
                           double value) {
                const double weight = weights[step_if(found, step)];
                weighted_sum += weight * only_if(found, value);
                weight_sum += weight;
            };
            auto add_along_row = [&](std::ptrdiff_t hit_col) {  // hit_col < 0: none
                const std::ptrdiff_t step = std::abs(hit_col - col);
                add((hit_col >= 0) & (step <= axis_steps_), step, axis_weights_,
                    measured(std::max<std::ptrdiff_t>(hit_col, 0), row));
            };
            auto add_above = [&](std::ptrdiff_t step, std::ptrdiff_t col_step,
                                 const std::vector<double>& weights) {  // step 0: none
                add(step != 0, step, weights, measured(col + col_step * step, row + step));
            };
            auto add_below = [&](const Hit& hit, const std::vector<double>& weights,
                                 std::ptrdiff_t limit) {
                const std::ptrdiff_t step = row - hit.at;
                add((hit.at >= 0) & (step <= limit), step, weights, hit.value);
            };
            const Step* const above = up + c * 3;
            const auto diagonal = static_cast<std::size_t>(col - row + rows_ - 1);
            const auto anti = static_cast<std::size_t>(col + row);
            add_along_row(right[c]);                                                // (1, 0)
            add_along_row(left[c]);                                                 // (-1, 0)
            add_above(above[0], 0, axis_weights_);                                  // (0, 1)
            add_below(column_hit[c], axis_weights_, axis_steps_);                   // (0, -1)
            add_above(above[1], 1, diagonal_weights_);                              // (1, 1)
            add_below(anti_hit[anti], diagonal_weights_, diagonal_steps_);          // (1, -1)
            add_above(above[2], -1, diagonal_weights_);                             // (-1, 1)
            add_below(diagonal_hit[diagonal], diagonal_weights_, diagonal_steps_);  // (-1, -1)
            if (weight_sum > 0) cells_[at(col, row)] = weighted_sum / weight_sum;
        }
    }

    util::UninitVector<double>& cells_;
    std::ptrdiff_t cols_, rows_;
    std::ptrdiff_t axis_steps_, diagonal_steps_;
    std::vector<double> axis_weights_, diagonal_weights_;  // by step, see weights_by_step
    util::UninitVector<std::uint8_t> has_ground_;
};

}  // namespace

GroundModelBuilder::GroundModelBuilder(const XyExtent& extent, const GroundParams& params)
    : params_(params) {
    if (!(params.cell_size > 0) || !std::isfinite(params.cell_size)) {
        throw util::UsageError("ground cell size must be positive");
    }
    if (!(extent.max_x >= extent.min_x) || !(extent.max_y >= extent.min_y)) {
        throw util::UsageError("ground extent is empty or not finite");
    }
    origin_x_ = extent.min_x - params.cell_size;
    origin_y_ = extent.min_y - params.cell_size;
    const double approx_cells = ((extent.max_x - extent.min_x) / params.cell_size + 3) *
                                ((extent.max_y - extent.min_y) / params.cell_size + 3);
    if (approx_cells > static_cast<double>(max_cells)) {
        throw util::UsageError("ground grid too large: " + std::to_string(approx_cells) +
                               " cells (increase the cell size)");
    }
    columns_ = cells_across(extent.min_x, extent.max_x, params.cell_size);
    rows_ = cells_across(extent.min_y, extent.max_y, params.cell_size);
    cells_.assign(columns_ * rows_, Accumulator{});
}

void GroundModelBuilder::add(double x, double y, double z) {
    const double column = std::floor((x - origin_x_) / params_.cell_size);
    const double row = std::floor((y - origin_y_) / params_.cell_size);
    // Written so that NaN coordinates fail the test too.
    if (!(column >= 0 && column < static_cast<double>(columns_) && row >= 0 &&
          row < static_cast<double>(rows_)) ||
        !std::isfinite(z)) {
        ++ignored_;
        return;
    }
    const auto cell = static_cast<std::size_t>(row) * columns_ + static_cast<std::size_t>(column);
    cells_[cell].z_sum += z;
    ++cells_[cell].count;
    ++added_;
}

void GroundModelBuilder::add(std::span<const double> x, std::span<const double> y,
                             std::span<const double> z) {
    if (y.size() != x.size() || z.size() != x.size()) {
        throw util::UsageError("ground point arrays differ in length");
    }
    for (std::size_t i = 0; i < x.size(); ++i) add(x[i], y[i], z[i]);
}

GroundModel GroundModelBuilder::build() const {
    GroundModel model;
    model.origin_x_ = origin_x_;
    model.origin_y_ = origin_y_;
    model.cell_size_ = params_.cell_size;
    model.columns_ = columns_;
    model.rows_ = rows_;
    model.cells_.resize(cells_.size());
    detail::parallel_for_index(cells_.size(), [&](std::size_t cell) {
        const Accumulator& a = cells_[cell];
        model.cells_[cell] = a.count ? a.z_sum / a.count : no_data;
    });
    HoleFiller(model.cells_, columns_, params_.fill_reach / params_.cell_size).fill();
    return model;
}

double GroundModel::height_at(double x, double y) const {
    if (cells_.empty()) return no_data;
    // Position in units of cells, relative to the centre of cell (0, 0).
    const double fx =
        std::clamp((x - origin_x_) / cell_size_ - 0.5, 0.0, static_cast<double>(columns_ - 1));
    const double fy =
        std::clamp((y - origin_y_) / cell_size_ - 0.5, 0.0, static_cast<double>(rows_ - 1));
    if (std::isnan(fx) || std::isnan(fy)) return no_data;
    const auto c0 = static_cast<std::size_t>(fx);
    const auto r0 = static_cast<std::size_t>(fy);
    const std::size_t c1 = std::min(c0 + 1, columns_ - 1);
    const std::size_t r1 = std::min(r0 + 1, rows_ - 1);
    const double tx = fx - static_cast<double>(c0);
    const double ty = fy - static_cast<double>(r0);
    const std::array<double, 4> values{cell_value(c0, r0), cell_value(c1, r0), cell_value(c0, r1),
                                       cell_value(c1, r1)};
    const std::array<double, 4> weights{(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty};
    // Corners without ground drop out and the others are renormalised, so the surface
    // ends at the edge of the fill reach instead of being dragged towards NaN.
    double weighted_sum = 0, weight_sum = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (std::isnan(values[i]) || weights[i] == 0) continue;
        weighted_sum += weights[i] * values[i];
        weight_sum += weights[i];
    }
    return weight_sum > 0 ? weighted_sum / weight_sum : no_data;
}

}  // namespace lidarmill::features
