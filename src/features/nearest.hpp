#pragma once
// Internal: nanoflann adaptors and result sets that make neighbour queries exact and
// independent of the tree layout (ties are broken by a total order, not by the order in
// which the tree happens to visit points).
#include <nanoflann.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "features/point_cloud.hpp"

namespace lidarmill::features::detail {

// nanoflann dataset adaptor over a PointCloudView.
struct CloudAdaptor {
    const PointCloudView* cloud;

    std::size_t kdtree_get_point_count() const { return cloud->size(); }
    double kdtree_get_pt(std::uint32_t index, std::size_t dim) const {
        return dim == 0 ? cloud->x[index] : dim == 1 ? cloud->y[index] : cloud->z[index];
    }
    template <class Box>
    bool kdtree_get_bbox(Box&) const {
        return false;
    }
};

using CloudTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, CloudAdaptor>,
                                                      CloudAdaptor, 3, std::uint32_t>;

// nanoflann prunes with strict comparisons and incrementally rounded box distances;
// reporting a slightly larger worst distance makes it visit every point that could tie
// or beat the current worst, and addPoint() then decides exactly.
inline double widened(double squared_distance) {
    return squared_distance * (1.0 + 1e-9) + 1e-12;
}

struct Neighbour {
    double squared_distance;
    std::uint32_t index;
};

// Keeps the k best points under the total order (squared distance, x, y, z, point id),
// restricted to squared distance <= limit. Storage is provided by the caller so that a
// query allocates nothing.
class OrderedKnnResult {
public:
    OrderedKnnResult(const PointCloudView& cloud, std::span<Neighbour> storage,
                     double squared_limit)
        : cloud_(cloud), best_(storage), squared_limit_(squared_limit) {}

    std::span<const Neighbour> neighbours() const { return best_.first(count_); }

    // nanoflann ResultSet interface.
    // Storage is never empty (k >= 1); the count_ test also tells the compiler so.
    bool full() const { return count_ != 0 && count_ == best_.size(); }
    double worstDist() const {
        return widened(full() ? best_[count_ - 1].squared_distance : squared_limit_);
    }
    bool addPoint(double squared_distance, std::uint32_t index) {
        if (squared_distance > squared_limit_) return true;
        const Neighbour candidate{squared_distance, index};
        if (full() && !precedes(candidate, best_[count_ - 1])) return true;
        std::size_t slot = full() ? count_ - 1 : count_++;
        while (slot > 0 && precedes(candidate, best_[slot - 1])) {
            best_[slot] = best_[slot - 1];
            --slot;
        }
        best_[slot] = candidate;
        return true;
    }

private:
    bool precedes(const Neighbour& a, const Neighbour& b) const {
        if (a.squared_distance != b.squared_distance) {
            return a.squared_distance < b.squared_distance;
        }
        const auto& c = cloud_;
        if (c.x[a.index] != c.x[b.index]) return c.x[a.index] < c.x[b.index];
        if (c.y[a.index] != c.y[b.index]) return c.y[a.index] < c.y[b.index];
        if (c.z[a.index] != c.z[b.index]) return c.z[a.index] < c.z[b.index];
        return c.id(a.index) < c.id(b.index);
    }

    const PointCloudView& cloud_;
    std::span<Neighbour> best_;
    std::size_t count_ = 0;
    double squared_limit_;
};

// Counts points with squared distance <= limit (inclusive, exactly).
class CountWithinResult {
public:
    explicit CountWithinResult(double squared_limit) : squared_limit_(squared_limit) {}

    std::size_t count() const { return count_; }

    bool full() const { return true; }
    double worstDist() const { return widened(squared_limit_); }
    bool addPoint(double squared_distance, std::uint32_t) {
        if (squared_distance <= squared_limit_) ++count_;
        return true;
    }

private:
    double squared_limit_;
    std::size_t count_ = 0;
};

}  // namespace lidarmill::features::detail
