#pragma once
// Internal: exact k-nearest-neighbour and radius queries over a uniform xy grid.
// Airborne LiDAR is 2.5-D, so a grid of xy cells holding a few points each finds the
// k nearest neighbours in ~9 contiguous cells, faster than a k-d tree such as nanoflann's
// on terrain points. Queries are exact: ties are broken by a
// total order (squared distance, x, y, z, point id), so results do not depend on the grid layout or
// on the points' input order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "features/point_cloud.hpp"
#include "util/uninitialized.hpp"

namespace lidarmill::features::detail {

// 24 bytes: the searches read a few dozen per query, and the ids they rarely need live
// apart (GridIndex::id) so that more points share each cache line.
struct PackedPoint {
    double x, y, z;
};

struct Neighbour {
    double squared_distance;
    std::uint32_t index;  // into GridIndex::points()
};

// The candidate list a query works in, reused from query to query. It grows without
// initialising its elements (every candidate is written before it is read): zero-filling
// them as std::vector::resize does was a tenth of the neighbour search.
class NeighbourBuffer {
  public:
    Neighbour* begin() { return data_.get(); }
    Neighbour* end() { return data_.get() + size_; }
    std::size_t size() const { return size_; }
    void clear() { size_ = 0; }
    void shrink(std::size_t size) { size_ = size; }
    // Room for `more` candidates after the current ones; returns where they go. The size
    // is then set with shrink() to what was kept.
    Neighbour* extend(std::size_t more) {
        if (size_ + more > capacity_) grow(size_ + more);
        Neighbour* at = data_.get() + size_;
        size_ += more;
        return at;
    }
    std::span<const Neighbour> view() const { return {data_.get(), size_}; }
    void reserve(std::size_t capacity) {
        if (capacity > capacity_) grow(capacity);
    }
    // Room for one key per candidate, for selections that rearrange keys only.
    std::span<double> keys() {
        if (key_capacity_ < capacity_) {
            keys_ = std::make_unique_for_overwrite<double[]>(capacity_);
            key_capacity_ = capacity_;
        }
        return {keys_.get(), size_};
    }

  private:
    void grow(std::size_t wanted) {
        const std::size_t capacity = std::max<std::size_t>(wanted, 2 * capacity_ + 64);
        auto bigger = std::make_unique_for_overwrite<Neighbour[]>(capacity);
        if (size_ > 0) std::copy(data_.get(), data_.get() + size_, bigger.get());
        data_ = std::move(bigger);
        capacity_ = capacity;
    }
    std::unique_ptr<Neighbour[]> data_;
    std::size_t size_ = 0, capacity_ = 0;
    std::unique_ptr<double[]> keys_;
    std::size_t key_capacity_ = 0;
};

class GridIndex {
  public:
    // `points_per_cell` sets the cell size from the mean xy density; cells are at most
    // `max_cell_size` wide (unless that would make far more cells than points).
    GridIndex(const PointCloudView& cloud, double points_per_cell,
              double max_cell_size = std::numeric_limits<double>::infinity());

    // Points in cell order, by z within a cell; `position(i)` is where cloud point i went.
    std::span<const PackedPoint> points() const { return points_; }
    std::uint32_t position(std::size_t cloud_index) const { return position_[cloud_index]; }
    // The point id (PointCloudView::id) of points()[packed_index].
    std::uint64_t id(std::size_t packed_index) const { return ids_[packed_index]; }

    // The up to k nearest points within sqrt(squared_limit) of `query` (itself
    // included) under the total order, in no particular order. The result lives in `scratch`, a
    // buffer the caller reuses from query to query so that queries do not allocate. `hint` carries
    // the k-th squared distance of the caller's previous query (0: none); neighbouring queries have
    // similar ones, and starting from it avoids sorting many candidates. It never changes the
    // result, only the speed.
    std::span<const Neighbour> nearest(const PackedPoint& query, double squared_limit,
                                       std::size_t k, NeighbourBuffer& scratch, double& hint) const;

    // Number of points at squared distance <= squared_limit from `query`.
    std::size_t count_within(const PackedPoint& query, double squared_limit) const;

  private:
    // `pivot`: a guess of the k-th squared distance (0: none), see distance_of_rank.
    void collect(const PackedPoint& query, double bound, std::size_t k, NeighbourBuffer& scratch,
                 double pivot) const;
    std::pair<std::uint32_t, std::uint32_t> z_slab(std::size_t cell, double z, double reach) const;
    void select_nearest(std::size_t k, NeighbourBuffer& scratch, double pivot) const;
    std::ptrdiff_t column_of(double x) const;
    double gap_to_column(const PackedPoint& query, std::ptrdiff_t col, std::ptrdiff_t qc) const;
    double gap_to_row(const PackedPoint& query, std::ptrdiff_t row, std::ptrdiff_t qr) const;
    std::ptrdiff_t row_of(double y) const;
    float z_key(double z) const { return static_cast<float>(z - origin_z_); }

    double origin_x_ = 0, origin_y_ = 0, origin_z_ = 0, cell_size_ = 1;
    std::ptrdiff_t columns_ = 1, rows_ = 1;
    std::vector<std::uint32_t> cell_start_;  // columns_ * rows_ + 1 offsets into points_
    util::UninitVector<PackedPoint> points_;
    // z_key of each point's z, in points_ order: sorted within a cell like the z themselves
    // (z_key is monotone), and dense, so slabs are found by branch-free counts.
    util::UninitVector<float> z_keys_;
    util::UninitVector<std::uint64_t> ids_;
    util::UninitVector<std::uint32_t> position_;
};

}  // namespace lidarmill::features::detail
