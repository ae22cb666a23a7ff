#include "features/ground_model.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

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
void fill_holes(std::vector<double>& cells, std::size_t columns, double reach_in_cells) {
    const auto rows = static_cast<std::ptrdiff_t>(cells.size() / columns);
    const auto cols = static_cast<std::ptrdiff_t>(columns);
    constexpr std::array<std::array<int, 2>, 8> directions{
        {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {1, -1}, {-1, 1}, {-1, -1}}};
    const std::vector<double> measured = cells;
    tbb::parallel_for(
        tbb::blocked_range<std::ptrdiff_t>(0, rows, 16),
        [&](const tbb::blocked_range<std::ptrdiff_t>& range) {
            for (std::ptrdiff_t row = range.begin(); row != range.end(); ++row) {
                for (std::ptrdiff_t col = 0; col < cols; ++col) {
                    if (!std::isnan(measured[row * cols + col])) continue;
                    double weighted_sum = 0, weight_sum = 0;
                    for (const auto& [dc, dr] : directions) {
                        const double step_length = (dc != 0 && dr != 0) ? std::sqrt(2.0) : 1.0;
                        for (std::ptrdiff_t step = 1; step * step_length <= reach_in_cells;
                             ++step) {
                            const std::ptrdiff_t c = col + step * dc, r = row + step * dr;
                            if (c < 0 || c >= cols || r < 0 || r >= rows) break;
                            const double value = measured[r * cols + c];
                            if (std::isnan(value)) continue;
                            const double weight = 1.0 / (static_cast<double>(step) * step_length);
                            weighted_sum += weight * value;
                            weight_sum += weight;
                            break;
                        }
                    }
                    if (weight_sum > 0) cells[row * cols + col] = weighted_sum / weight_sum;
                }
            }
        });
}

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
    z_sum_.assign(columns_ * rows_, 0.0);
    z_count_.assign(columns_ * rows_, 0);
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
    z_sum_[cell] += z;
    ++z_count_[cell];
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
    model.cells_.resize(z_sum_.size());
    for (std::size_t cell = 0; cell < z_sum_.size(); ++cell) {
        model.cells_[cell] = z_count_[cell] ? z_sum_[cell] / z_count_[cell] : no_data;
    }
    fill_holes(model.cells_, columns_, params_.fill_reach / params_.cell_size);
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
