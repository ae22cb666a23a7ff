#pragma once
// A gridded ground surface for height-above-ground: per cell the mean z of the ground
// points that fall in it, empty cells filled from nearby ground cells, read back by
// bilinear interpolation between cell centres.
// (Cells are centred on origin + (i + 0.5) * cell_size; the origin is one cell below the
// extent's minimum.)
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <unordered_set>
#include <utility>
#include <vector>

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

// Bytes the builder and the model it builds can hold at once for this extent (ground in
// every block), with `threads` blocks filled side by side: for memory plans.
std::uint64_t ground_model_bytes(const XyExtent& extent, const GroundParams& params,
                                 unsigned threads);

// Where a tile's ground is, in squares of kSquareCells x kSquareCells cells keyed from the
// coverage's own origin, for the memory plans of tiles whose ground covers a small part
// of their box (a stray point far away, a coastal tile). The squares need not align with
// a model's blocks: model_bytes() counts each square in every block it overlaps, so the
// count is never short.
class GroundCoverage {
  public:
    static constexpr double kSquareCells = 16;
    GroundCoverage(double origin_x, double origin_y, const GroundParams& params);

    void add(double x, double y);

    // What ground_model_bytes() plans for a model over `extent`, counting only the blocks
    // this ground touches and those within the fill reach of them (at most
    // ground_model_bytes()). Throws util::UsageError as ground_model_bytes() does.
    std::uint64_t model_bytes(const XyExtent& extent, unsigned threads) const;

  private:
    double origin_x_, origin_y_;
    GroundParams params_;
    std::unordered_set<std::uint64_t> squares_;
    std::uint64_t last_key_ = ~std::uint64_t{0};  // consecutive points share squares
};

namespace detail {

struct GroundFillScratch;

// The grid is stored in square blocks of cells, only where there is ground or ground
// within the fill reach: its memory follows the ground's area, not the extent's, so a
// stray point kilometres away (a bounding box of many km^2) costs a block, not a grid.
inline constexpr std::size_t kGroundBlockShift = 6;
inline constexpr std::size_t kGroundBlockSide = std::size_t{1} << kGroundBlockShift;
inline constexpr std::size_t kGroundBlockCells = kGroundBlockSide * kGroundBlockSide;

// Block (column, row) -> slot: a plain array over the blocks of the grid (up to 2^20 of
// them: grids up to 65 km across at 1 m), else open addressing, for a grid stretched by
// stray points.
class BlockTable {
  public:
    static constexpr std::uint32_t none = 0xFFFFFFFFu;
    static constexpr std::size_t max_dense_blocks = std::size_t{1} << 20;
    static std::uint64_t key(std::size_t block_column, std::size_t block_row) {
        return (std::uint64_t{block_row} << 32) | block_column;
    }
    // The key of the block holding cell (column, row).
    static std::uint64_t key_of_cell(std::size_t column, std::size_t row) {
        return key(column >> kGroundBlockShift, row >> kGroundBlockShift);
    }

    BlockTable() = default;  // empty: finds nothing
    BlockTable(std::size_t block_columns, std::size_t block_rows) {
        if (block_rows > 0 && block_columns <= max_dense_blocks / block_rows) {
            dense_columns_ = block_columns;
            dense_.assign(block_columns * block_rows, none);
        }
    }

    std::uint32_t find(std::uint64_t key) const {
        if (!dense_.empty()) return dense_[dense_index(key)];
        if (slots_.empty()) return none;
        for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
            const Slot& slot = slots_[i];
            if (slot.value == none || slot.key == key) return slot.value;
        }
    }
    // `key` must be absent.
    void insert(std::uint64_t key, std::uint32_t value);
    std::size_t size() const { return size_; }

  private:
    struct Slot {
        std::uint64_t key = 0;
        std::uint32_t value = none;
    };
    std::size_t dense_index(std::uint64_t key) const {
        return (key >> 32) * dense_columns_ + (key & 0xFFFFFFFFu);
    }
    static std::size_t hash(std::uint64_t key) {
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 17);
    }
    std::vector<std::uint32_t> dense_;
    std::size_t dense_columns_ = 0;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0, size_ = 0;
};

}  // namespace detail

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
        const std::uint32_t block = blocks_.find(detail::BlockTable::key_of_cell(column, row));
        if (block == detail::BlockTable::none) return std::numeric_limits<double>::quiet_NaN();
        return values_[block][in_block(column, row)];
    }
    // Cells held in memory (whole blocks).
    std::size_t stored_cells() const { return values_.size() * detail::kGroundBlockCells; }

  private:
    friend class GroundModelBuilder;
    static std::size_t in_block(std::size_t column, std::size_t row) {
        constexpr std::size_t mask = detail::kGroundBlockSide - 1;
        return ((row & mask) << detail::kGroundBlockShift) | (column & mask);
    }
    double origin_x_ = 0, origin_y_ = 0, cell_size_ = 1;
    std::size_t columns_ = 0, rows_ = 0;
    detail::BlockTable blocks_;
    std::vector<std::unique_ptr<double[]>> values_;  // row-major blocks, NaN = no ground
};

// Collects ground points of a WHOLE tile (so heights do not depend on chunking), then
// builds the model. The grid covers the extent plus one cell of margin on each side;
// points beyond that are ignored and counted. Feed points in a fixed order (e.g. file
// order): cell means are sums, and summation order affects the last bits.
class GroundModelBuilder {
  public:
    // Throws util::UsageError for a bad cell size or more than 2^31 cells across.
    explicit GroundModelBuilder(const XyExtent& extent, const GroundParams& params = {});

    void add(double x, double y, double z);
    void add(std::span<const double> x, std::span<const double> y, std::span<const double> z);

    std::size_t added_count() const { return added_; }
    std::size_t ignored_count() const { return ignored_; }

    // Builds the model. The builder's sums are released as the model takes shape (so that
    // both are never held whole at once): afterwards the builder is empty, ready for new
    // points over the same grid.
    GroundModel build();

  private:
    // Sum and count side by side: points reach the cells in file order, which on sparse or
    // thinned tiles jumps from cell to cell, and each add then costs one cache miss, not two.
    // Packed to 12 bytes: padding to 16 would add a third to the largest fixed cost of a
    // sparse tile's memory plan.
    struct [[gnu::packed]] Accumulator {
        double z_sum = 0;
        std::uint32_t count = 0;
    };
    static_assert(sizeof(Accumulator) == 12);

    Accumulator* block_of(std::uint64_t key);
    // The blocks that can hold ground once filled, (block row, block column), by window.
    std::vector<std::pair<std::size_t, std::size_t>> wanted_blocks() const;
    void sums_to_means();
    // Fills the holes of `blocks` (block row, block column), which share a fill window, into
    // `out` (left empty for a block with no ground within reach).
    void fill_window(std::span<const std::pair<std::size_t, std::size_t>> blocks,
                     std::span<std::unique_ptr<double[]>> out,
                     detail::GroundFillScratch& scratch) const;

    detail::BlockTable empty_table() const;

    GroundParams params_;
    double origin_x_, origin_y_;
    std::size_t columns_, rows_;
    std::size_t margin_;  // cells a ray from an empty cell can reach along an axis
    detail::BlockTable blocks_;
    std::vector<std::unique_ptr<Accumulator[]>> sums_;
    std::vector<std::uint64_t> keys_;  // of sums_, in the same order
    // The block of the last point added: file order stays in one block for long runs.
    std::uint64_t last_key_ = ~std::uint64_t{0};
    Accumulator* last_block_ = nullptr;
    std::size_t added_ = 0, ignored_ = 0;
};

}  // namespace lidarmill::features
