#include "features/ground_model.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>

#include "util/error.hpp"
#include "util/uninitialized.hpp"

namespace lidarmill::features {
namespace {

constexpr double no_data = std::numeric_limits<double>::quiet_NaN();
// Cells across either axis; blocks are keyed by 32-bit block coordinates.
constexpr double max_cells_across = 2147483648.0;
// Holes are filled in windows of 4 x 8 blocks (256 x 512 cells), plus the fill reach
// around them: blocks of 64 cells keep the stored cells close to the ground's area, but
// windows that small would spend most of their work on the margins.
constexpr std::size_t window_block_rows = 4, window_block_columns = 8;
// Window bytes per cell while a window is filled: values, mask, steps to the rows above.
constexpr std::uint64_t window_bytes_per_cell = 15;

using detail::kGroundBlockCells;
using detail::kGroundBlockShift;
using detail::kGroundBlockSide;

std::size_t cells_across(double low, double high, double cell_size) {
    // One cell of margin on each side, so points on the extent's edges are inside.
    return static_cast<std::size_t>(std::floor((high - low) / cell_size)) + 3;
}

// Steps of `length` cells a ray takes within `reach` cells, capped by the grid's larger
// dimension (a ray never needs more).
std::ptrdiff_t steps_within(double reach, double length, std::size_t grid_cells_across) {
    const auto cap = static_cast<std::ptrdiff_t>(grid_cells_across);
    std::ptrdiff_t steps = 0;
    while (steps < cap && static_cast<double>(steps + 1) * length <= reach) ++steps;
    return steps;
}

}  // namespace

// A window and the filler's buffers, which a thread reuses from window to window: fresh
// ones cost their page faults every time.
struct detail::GroundFillScratch {
    util::UninitVector<double> cells;
    util::UninitVector<std::uint8_t> has_ground;
    util::UninitVector<std::uint16_t> steps16;
    util::UninitVector<std::uint32_t> steps32;
};

namespace {

// Fills each empty cell from the surrounding ground: along 8 rays (axes and diagonals)
// it finds the first cell that has ground, up to the fill reach, and takes the
// inverse-distance mean of those values. Weights 1/d make two opposite rays interpolate
// linearly, so a hole in a slope (a building footprint) is filled following the slope.
// Only cells that had ground are used as sources: the result does not depend on the
// order in which holes are filled.
//
// Walking every ray from every empty cell cost O(cells x reach): slow on sparse tiles
// whose 1 m grids are mostly empty. Instead two sweeps carry, per column and per
// diagonal, the nearest measured cell met so far, so each cell costs O(1) whatever the
// reach. The rays' contributions are still summed in the same fixed order, so the result
// is the one of the ray walk, bit for bit.
//
// It works on a window copied from the grid: the cells to fill and, around them, every
// cell a ray from them can reach (the fill reach, or the grid's border), so that windows
// are filled side by side, each by one thread.
class HoleFiller {
  public:
    // The window is scratch.cells (and scratch.has_ground, which cells have ground),
    // `columns` wide. `grid_cells_across`: the whole grid's larger dimension, which caps the
    // rays as it would on the whole grid.
    HoleFiller(detail::GroundFillScratch& scratch, std::size_t columns, double reach_in_cells,
               std::size_t grid_cells_across)
        : scratch_(scratch),
          cells_(scratch.cells),
          has_ground_(scratch.has_ground),
          cols_(static_cast<std::ptrdiff_t>(columns)),
          rows_(static_cast<std::ptrdiff_t>(scratch.cells.size() / columns)),
          // Same test as a ray walk (step * length <= reach).
          axis_steps_(steps_within(reach_in_cells, 1.0, grid_cells_across)),
          diagonal_steps_(steps_within(reach_in_cells, std::sqrt(2.0), grid_cells_across)),
          axis_weights_(weights_by_step(axis_steps_, 1.0)),
          diagonal_weights_(weights_by_step(diagonal_steps_, std::sqrt(2.0))) {}

    // Fills the empty cells of rows [first_row, end_row) and columns [first_column,
    // end_column) of the window.
    void fill(std::size_t first_row, std::size_t end_row, std::size_t first_column,
              std::size_t end_column) {
        if (rows_ == 0 || cols_ == 0 || first_row >= end_row) return;
        first_col_ = static_cast<std::ptrdiff_t>(first_column);
        end_col_ = static_cast<std::ptrdiff_t>(end_column);
        const auto first = static_cast<std::ptrdiff_t>(first_row);
        const auto end = static_cast<std::ptrdiff_t>(end_row);
        if (std::max(axis_steps_, diagonal_steps_) < std::numeric_limits<std::uint16_t>::max()) {
            fill_rows<std::uint16_t>(first, end, scratch_.steps16);
        } else {
            fill_rows<std::uint32_t>(first, end, scratch_.steps32);
        }
    }

  private:
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
    // (Cells with ground get no steps: nothing reads them.)
    template <typename Step>
    void steps_upwards(std::ptrdiff_t first, std::ptrdiff_t end,
                       util::UninitVector<Step>& steps) const {
        steps.resize(static_cast<std::size_t>((end - first) * cols_) * 3);
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
    }

    // The nearest measured cell carried by a sweep: its value and its row or column.
    struct Hit {
        double value = 0;
        std::ptrdiff_t at = -1;  // -1: none yet
    };

    // Fills the empty cells of rows [first, end).
    template <typename Step>
    void fill_rows(std::ptrdiff_t first, std::ptrdiff_t end, util::UninitVector<Step>& up) {
        steps_upwards<Step>(first, end, up);
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
        for (std::ptrdiff_t col = first_col_; col < end_col_; ++col) {
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

    detail::GroundFillScratch& scratch_;
    std::span<double> cells_;
    std::span<const std::uint8_t> has_ground_;
    std::ptrdiff_t cols_, rows_;
    std::ptrdiff_t first_col_ = 0, end_col_ = 0;
    std::ptrdiff_t axis_steps_, diagonal_steps_;
    std::vector<double> axis_weights_, diagonal_weights_;  // by step, see weights_by_step
};

}  // namespace

// ---------------------------------------------------------------- block table

void detail::BlockTable::insert(std::uint64_t key, std::uint32_t value) {
    if (!dense_.empty()) {
        dense_[dense_index(key)] = value;
        ++size_;
        return;
    }
    if (2 * (size_ + 1) > slots_.size()) {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(std::max<std::size_t>(64, 2 * old.size()), Slot{});
        mask_ = slots_.size() - 1;
        size_ = 0;
        for (const Slot& slot : old)
            if (slot.value != none) insert(slot.key, slot.value);
    }
    std::size_t i = hash(key) & mask_;
    while (slots_[i].value != none) i = (i + 1) & mask_;
    slots_[i] = {key, value};
    ++size_;
}

// ---------------------------------------------------------------- builder

namespace {

struct GridSize {
    std::size_t columns, rows;
};

void check_cell_size(const GroundParams& params) {
    if (!(params.cell_size > 0) || !std::isfinite(params.cell_size)) {
        throw util::UsageError("ground cell size must be positive");
    }
}

GridSize grid_size(const XyExtent& extent, const GroundParams& params) {
    check_cell_size(params);
    if (!(extent.max_x >= extent.min_x) || !(extent.max_y >= extent.min_y)) {
        throw util::UsageError("ground extent is empty or not finite");
    }
    const double across =
        std::max(extent.max_x - extent.min_x, extent.max_y - extent.min_y) / params.cell_size + 3;
    if (!(across < max_cells_across)) {
        throw util::UsageError("ground grid too large: " + std::to_string(across) +
                               " cells across (increase the cell size)");
    }
    return {cells_across(extent.min_x, extent.max_x, params.cell_size),
            cells_across(extent.min_y, extent.max_y, params.cell_size)};
}

std::size_t blocks_across(std::size_t cells) {
    return (cells + kGroundBlockSide - 1) >> kGroundBlockShift;
}

// Cells a ray from an empty cell can reach, along an axis.
std::size_t fill_margin(const GroundParams& params, std::size_t grid_cells_across) {
    return static_cast<std::size_t>(
        steps_within(params.fill_reach / params.cell_size, 1.0, grid_cells_across));
}

// The grid's origin: one cell below the extent's minimum.
std::pair<double, double> grid_origin(const XyExtent& extent, const GroundParams& params) {
    return {extent.min_x - params.cell_size, extent.min_y - params.cell_size};
}

// Calls visit(block column, block row) for the blocks within `ring` blocks of block `key`
// (its own included) in a grid of `block_columns` x `block_rows`.
template <typename Visit>
void for_each_block_around(std::uint64_t key, std::ptrdiff_t ring, std::ptrdiff_t block_columns,
                           std::ptrdiff_t block_rows, Visit&& visit) {
    const auto column = static_cast<std::ptrdiff_t>(key & 0xFFFFFFFFu);
    const auto row = static_cast<std::ptrdiff_t>(key >> 32);
    for (std::ptrdiff_t r = std::max<std::ptrdiff_t>(0, row - ring);
         r <= std::min(block_rows - 1, row + ring); ++r) {
        for (std::ptrdiff_t c = std::max<std::ptrdiff_t>(0, column - ring);
             c <= std::min(block_columns - 1, column + ring); ++c) {
            visit(static_cast<std::size_t>(c), static_cast<std::size_t>(r));
        }
    }
}

// The windows being filled side by side, and the block tables (the builder's and the
// model's, when dense), in bytes.
double window_and_table_bytes(const GridSize& size, std::size_t margin_cells, unsigned threads) {
    const auto margin = static_cast<double>(margin_cells);
    const double window =
        std::min(static_cast<double>(window_block_columns * kGroundBlockSide) + 2 * margin,
                 static_cast<double>(size.columns)) *
        std::min(static_cast<double>(window_block_rows * kGroundBlockSide) + 2 * margin,
                 static_cast<double>(size.rows));
    const double tables =
        2.0 * 4 *
        static_cast<double>(std::min(blocks_across(size.columns) * blocks_across(size.rows),
                                     detail::BlockTable::max_dense_blocks));
    return std::max(threads, 1u) * window * window_bytes_per_cell + tables;
}

}  // namespace

std::uint64_t ground_model_bytes(const XyExtent& extent, const GroundParams& params,
                                 unsigned threads) {
    const GridSize size = grid_size(extent, params);
    const auto stored_columns = static_cast<double>(blocks_across(size.columns) * kGroundBlockSide);
    const double stored =
        stored_columns * static_cast<double>(blocks_across(size.rows) * kGroundBlockSide);
    const std::size_t margin = fill_margin(params, std::max(size.columns, size.rows));
    const double window_rows = static_cast<double>(window_block_rows * kGroundBlockSide);
    // The builder's sums and counts (12 bytes a cell, in whole blocks) give way to the
    // model's values (8) as rows of windows are filled: both together never hold more than
    // the sums and the values of one row of windows and its margin; plus the windows being
    // filled, and the tables.
    const double bytes = stored * 12 +
                         (window_rows + static_cast<double>(margin)) * stored_columns * 8 +
                         window_and_table_bytes(size, margin, threads);
    return static_cast<std::uint64_t>(std::min(bytes, 1e15));
}

// ---------------------------------------------------------------- coverage

namespace {

constexpr double kSquareOffset = 2147483648.0;  // squares keyed as unsigned 32-bit values

}  // namespace

GroundCoverage::GroundCoverage(double origin_x, double origin_y, const GroundParams& params)
    : origin_x_(origin_x), origin_y_(origin_y), params_(params) {
    check_cell_size(params);
}

void GroundCoverage::add(double x, double y) {
    const double side = kSquareCells * params_.cell_size;
    const double column = std::floor((x - origin_x_) / side) + kSquareOffset;
    const double row = std::floor((y - origin_y_) / side) + kSquareOffset;
    // Written so that NaN coordinates fail the test too.
    if (!(column >= 0 && column < 2 * kSquareOffset && row >= 0 && row < 2 * kSquareOffset)) return;
    const std::uint64_t key =
        detail::BlockTable::key(static_cast<std::size_t>(column), static_cast<std::size_t>(row));
    if (key == last_key_) return;
    last_key_ = key;
    squares_.insert(key);
}

std::uint64_t GroundCoverage::model_bytes(const XyExtent& extent, unsigned threads) const {
    const GridSize size = grid_size(extent, params_);
    const double cell = params_.cell_size;
    const auto [grid_x, grid_y] = grid_origin(extent, params_);
    const double side = kSquareCells * cell;
    const auto block_columns = static_cast<std::ptrdiff_t>(blocks_across(size.columns));
    const auto block_rows = static_cast<std::ptrdiff_t>(blocks_across(size.rows));
    // The grid's cell and then block, clamped into the grid (the builder ignores points
    // beyond it, so clamping can only count more).
    auto block_along = [](double offset, double cell_size, std::size_t cells) {
        const double c =
            std::clamp(std::floor(offset / cell_size), 0.0, static_cast<double>(cells - 1));
        return static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) >> kGroundBlockShift);
    };
    std::unordered_set<std::uint64_t> with_ground;
    for (const std::uint64_t key : squares_) {
        const double x0 =
            origin_x_ + ((static_cast<double>(key & 0xFFFFFFFFu) - kSquareOffset) * side);
        const double y0 = origin_y_ + ((static_cast<double>(key >> 32) - kSquareOffset) * side);
        const std::ptrdiff_t c0 = block_along(x0 - grid_x, cell, size.columns);
        const std::ptrdiff_t c1 = block_along(x0 + side - grid_x, cell, size.columns);
        const std::ptrdiff_t r0 = block_along(y0 - grid_y, cell, size.rows);
        const std::ptrdiff_t r1 = block_along(y0 + side - grid_y, cell, size.rows);
        for (std::ptrdiff_t r = r0; r <= r1; ++r)
            for (std::ptrdiff_t c = c0; c <= c1; ++c)
                with_ground.insert(detail::BlockTable::key(static_cast<std::size_t>(c),
                                                           static_cast<std::size_t>(r)));
    }
    const std::size_t margin = fill_margin(params_, std::max(size.columns, size.rows));
    const auto ring = static_cast<std::ptrdiff_t>(blocks_across(margin));
    std::unordered_set<std::uint64_t> wanted;
    for (const std::uint64_t key : with_ground) {
        for_each_block_around(key, ring, block_columns, block_rows,
                              [&](std::size_t column, std::size_t row) {
                                  wanted.insert(detail::BlockTable::key(column, row));
                              });
    }
    // The sums of the blocks with ground and the values of every block filled, as if all
    // were held at once; hash tables (two slots per block) where the grid is too large for
    // dense ones.
    const double block_cells = static_cast<double>(kGroundBlockCells);
    double bytes = static_cast<double>(with_ground.size()) * block_cells * 12 +
                   static_cast<double>(wanted.size()) * block_cells * 8 +
                   window_and_table_bytes(size, margin, threads) +
                   2.0 * 2 * 16 * static_cast<double>(wanted.size());
    bytes = std::min(bytes, static_cast<double>(ground_model_bytes(extent, params_, threads)));
    return static_cast<std::uint64_t>(bytes);
}

GroundModelBuilder::GroundModelBuilder(const XyExtent& extent, const GroundParams& params)
    : params_(params) {
    const GridSize size = grid_size(extent, params);
    std::tie(origin_x_, origin_y_) = grid_origin(extent, params);
    columns_ = size.columns;
    rows_ = size.rows;
    margin_ = fill_margin(params, std::max(columns_, rows_));
    blocks_ = empty_table();
}

detail::BlockTable GroundModelBuilder::empty_table() const {
    return {blocks_across(columns_), blocks_across(rows_)};
}

GroundModelBuilder::Accumulator* GroundModelBuilder::block_of(std::uint64_t key) {
    std::uint32_t slot = blocks_.find(key);
    if (slot == detail::BlockTable::none) {
        slot = static_cast<std::uint32_t>(sums_.size());
        sums_.push_back(std::make_unique<Accumulator[]>(kGroundBlockCells));
        keys_.push_back(key);
        blocks_.insert(key, slot);
    }
    return sums_[slot].get();
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
    const auto c = static_cast<std::size_t>(column);
    const auto r = static_cast<std::size_t>(row);
    const std::uint64_t key = detail::BlockTable::key_of_cell(c, r);
    if (key != last_key_) {
        last_block_ = block_of(key);
        last_key_ = key;
    }
    Accumulator& cell = last_block_[GroundModel::in_block(c, r)];
    cell.z_sum += z;
    ++cell.count;
    ++added_;
}

void GroundModelBuilder::add(std::span<const double> x, std::span<const double> y,
                             std::span<const double> z) {
    if (y.size() != x.size() || z.size() != x.size()) {
        throw util::UsageError("ground point arrays differ in length");
    }
    for (std::size_t i = 0; i < x.size(); ++i) add(x[i], y[i], z[i]);
}

namespace {

using BlockPosition = std::pair<std::size_t, std::size_t>;  // (block row, block column)

// The window a block is filled in, as (window row, window column).
BlockPosition window_of(const BlockPosition& block) {
    return {block.first / window_block_rows, block.second / window_block_columns};
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> GroundModelBuilder::wanted_blocks() const {
    // Those with ground and those within the fill reach of one, grouped by window.
    const auto ring = static_cast<std::ptrdiff_t>(blocks_across(margin_));
    const auto block_columns = static_cast<std::ptrdiff_t>(blocks_across(columns_));
    const auto block_rows = static_cast<std::ptrdiff_t>(blocks_across(rows_));
    std::vector<BlockPosition> wanted;
    for (const std::uint64_t key : keys_) {
        for_each_block_around(
            key, ring, block_columns, block_rows,
            [&](std::size_t column, std::size_t row) { wanted.emplace_back(row, column); });
    }
    std::sort(wanted.begin(), wanted.end(), [](const BlockPosition& a, const BlockPosition& b) {
        return std::pair(window_of(a), a) < std::pair(window_of(b), b);
    });
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    return wanted;
}

void GroundModelBuilder::sums_to_means() {
    // Windows overlap by their margins: each mean is computed once, in place of its sum.
    tbb::parallel_for(std::size_t{0}, sums_.size(), [&](std::size_t b) {
        Accumulator* const block = sums_[b].get();
        for (std::size_t i = 0; i < kGroundBlockCells; ++i) {
            Accumulator& a = block[i];
            a.z_sum = a.count ? a.z_sum / a.count : no_data;
        }
    });
}

GroundModel GroundModelBuilder::build() {
    GroundModel model;
    model.origin_x_ = origin_x_;
    model.origin_y_ = origin_y_;
    model.cell_size_ = params_.cell_size;
    model.columns_ = columns_;
    model.rows_ = rows_;
    model.blocks_ = empty_table();
    if (sums_.empty()) return model;

    const std::vector<BlockPosition> wanted = wanted_blocks();
    std::vector<std::size_t> window_starts;  // into wanted, one per window, then the end
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (i == 0 || window_of(wanted[i]) != window_of(wanted[i - 1])) window_starts.push_back(i);
    }
    window_starts.push_back(wanted.size());
    sums_to_means();

    // Row of windows after row of windows (the windows of a row side by side), the sums
    // that no later window can reach are released: the model's values take their place.
    std::vector<std::unique_ptr<double[]>> filled(wanted.size());
    tbb::enumerable_thread_specific<detail::GroundFillScratch> scratch;
    std::vector<std::size_t> by_row(keys_.size());  // sums_ by block row
    for (std::size_t i = 0; i < by_row.size(); ++i) by_row[i] = i;
    std::sort(by_row.begin(), by_row.end(),
              [&](std::size_t a, std::size_t b) { return keys_[a] < keys_[b]; });
    std::size_t next_sums = 0;  // in by_row, the next block to release
    for (std::size_t w = 0; w + 1 < window_starts.size();) {
        const std::size_t window_row = window_of(wanted[window_starts[w]]).first;
        std::size_t row_end = w + 1;
        while (row_end + 1 < window_starts.size() &&
               window_of(wanted[window_starts[row_end]]).first == window_row) {
            ++row_end;
        }
        tbb::parallel_for(w, row_end, [&](std::size_t v) {
            const std::size_t first = window_starts[v], end = window_starts[v + 1];
            fill_window(std::span(wanted).subspan(first, end - first),
                        std::span(filled).subspan(first, end - first), scratch.local());
        });
        w = row_end;
        // The next windows read from their first row minus the margin on.
        const std::size_t next_row = (window_row + 1) * window_block_rows * kGroundBlockSide;
        const std::size_t still_read =
            (next_row - std::min(next_row, margin_)) >> kGroundBlockShift;
        while (next_sums < by_row.size() && (keys_[by_row[next_sums]] >> 32) < still_read) {
            sums_[by_row[next_sums]].reset();
            ++next_sums;
        }
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (!filled[i]) continue;  // no ground within reach of any of its cells
        model.blocks_.insert(detail::BlockTable::key(wanted[i].second, wanted[i].first),
                             static_cast<std::uint32_t>(model.values_.size()));
        model.values_.push_back(std::move(filled[i]));
    }
    sums_.clear();
    keys_.clear();
    blocks_ = empty_table();
    last_key_ = ~std::uint64_t{0};
    last_block_ = nullptr;
#if defined(__GLIBC__)
    // The sums were many small blocks among the model's: glibc keeps such freed memory
    // in the process (resident) unless asked to return it, and the features' large
    // buffers, mapped on their own, would never reuse it.
    malloc_trim(0);
#endif
    return model;
}

void GroundModelBuilder::fill_window(std::span<const std::pair<std::size_t, std::size_t>> blocks,
                                     std::span<std::unique_ptr<double[]>> out,
                                     detail::GroundFillScratch& scratch) const {
    // The window's blocks, and around them every cell their rays can reach.
    const BlockPosition window_block = window_of(blocks.front());
    const std::size_t row0 = window_block.first * window_block_rows * kGroundBlockSide;
    const std::size_t row1 = std::min(rows_, row0 + window_block_rows * kGroundBlockSide);
    const std::size_t col0 = window_block.second * window_block_columns * kGroundBlockSide;
    const std::size_t col1 = std::min(columns_, col0 + window_block_columns * kGroundBlockSide);
    const std::size_t window_row0 = row0 - std::min(row0, margin_);
    const std::size_t window_row1 = std::min(rows_, row1 + margin_);
    const std::size_t window_col0 = col0 - std::min(col0, margin_);
    const std::size_t window_col1 = std::min(columns_, col1 + margin_);
    const std::size_t width = window_col1 - window_col0;
    scratch.cells.resize(width * (window_row1 - window_row0));
    scratch.has_ground.resize(scratch.cells.size());
    const std::span<const double> window = scratch.cells;
    for (std::size_t row = window_row0; row < window_row1; ++row) {
        double* const out_row = scratch.cells.data() + (row - window_row0) * width;
        std::uint8_t* const mask_row = scratch.has_ground.data() + (row - window_row0) * width;
        // Block by block along the row: one lookup each.
        for (std::size_t column = window_col0; column < window_col1;) {
            const std::size_t block_end =
                std::min(window_col1, ((column >> kGroundBlockShift) + 1) << kGroundBlockShift);
            const std::uint32_t slot = blocks_.find(detail::BlockTable::key_of_cell(column, row));
            const Accumulator* const sums =
                slot == detail::BlockTable::none ? nullptr : sums_[slot].get();
            for (; column < block_end; ++column) {
                const double mean = sums ? sums[GroundModel::in_block(column, row)].z_sum : no_data;
                out_row[column - window_col0] = mean;
                mask_row[column - window_col0] = !std::isnan(mean);
            }
        }
    }
    HoleFiller(scratch, width, params_.fill_reach / params_.cell_size, std::max(columns_, rows_))
        .fill(row0 - window_row0, row1 - window_row0, col0 - window_col0, col1 - window_col0);

    for (std::size_t b = 0; b < blocks.size(); ++b) {
        const auto [block_row, block_column] = blocks[b];
        auto values = std::make_unique_for_overwrite<double[]>(kGroundBlockCells);
        bool any = false;
        for (std::size_t r = 0; r < kGroundBlockSide; ++r) {
            const std::size_t row = block_row * kGroundBlockSide + r;
            for (std::size_t c = 0; c < kGroundBlockSide; ++c) {
                const std::size_t column = block_column * kGroundBlockSide + c;
                double value = no_data;
                if (row < rows_ && column < columns_) {
                    value = window[(row - window_row0) * width + (column - window_col0)];
                }
                values[(r << kGroundBlockShift) | c] = value;
                any |= !std::isnan(value);
            }
        }
        if (any) out[b] = std::move(values);
    }
}

// ---------------------------------------------------------------- model

double GroundModel::height_at(double x, double y) const {
    if (values_.empty()) return no_data;
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
    std::array<double, 4> values;
    if ((c0 >> kGroundBlockShift) == (c1 >> kGroundBlockShift) &&
        (r0 >> kGroundBlockShift) == (r1 >> kGroundBlockShift)) {
        // Usually all four corners share a block: one lookup.
        const std::uint32_t slot = blocks_.find(detail::BlockTable::key_of_cell(c0, r0));
        if (slot == detail::BlockTable::none) return no_data;
        const double* const block = values_[slot].get();
        values = {block[in_block(c0, r0)], block[in_block(c1, r0)], block[in_block(c0, r1)],
                  block[in_block(c1, r1)]};
    } else {
        values = {cell_value(c0, r0), cell_value(c1, r0), cell_value(c0, r1), cell_value(c1, r1)};
    }
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
