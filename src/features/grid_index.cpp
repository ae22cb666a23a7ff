#include "features/grid_index.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>

#include "features/blocks.hpp"

namespace lidarmill::features::detail {
namespace {

// Comparisons against the current worst distance are widened by a hair so that rounding
// in the cell-distance bounds can never skip a point that ties or beats it; the exact
// decision is made point by point.
double widened(double squared_distance) {
    return squared_distance * (1.0 + 1e-9) + 1e-12;
}

constexpr std::size_t max_cells_per_point = 4;
// A grid with fewer than one cell in this many occupied is stretched by a few points far
// away, if it holds at least kFewStraysFrom points: up to one in kFewStraysFrom on each
// side of the box may then be left out of it.
constexpr std::size_t kStretchedGrid = 64;
constexpr std::size_t kFewStraysFrom = 10000;

struct XyBox {
    double min_x, min_y, max_x, max_y;
};

// The xy box of the cloud without its `extremes` lowest and highest x and y.
XyBox box_without_extremes(const PointCloudView& cloud, std::size_t extremes) {
    std::vector<double> values(cloud.x.begin(),
                               cloud.x.begin() + static_cast<std::ptrdiff_t>(cloud.size()));
    auto rank = [&](std::size_t r) {
        std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(r),
                         values.end());
        return values[r];
    };
    XyBox box{};
    const std::size_t last = values.size() - 1 - extremes;
    box.min_x = rank(extremes);
    box.max_x = rank(last);
    values.assign(cloud.y.begin(), cloud.y.begin() + static_cast<std::ptrdiff_t>(cloud.size()));
    box.min_y = rank(extremes);
    box.max_y = rank(last);
    return box;
}

// The key of rank `rank` (0-based, ties counted) among keys[0, count), which it reorders
// (keys are squared distances, >= 0). Candidate lists hold a few dozen entries whose order is noise
// to the branch predictor, and std::nth_element's compare-and-branch partitions were a fifth of the
// neighbour search. This is a bucket select instead: within a ball, squared distances are spread
// about evenly, so one histogram pass over the keys leaves a bucket of one or two candidates to
// rank; a crowded bucket is bucketed again. No data-dependent branches but the last.
// Needs rank < count.
double bucket_select(std::span<double> keys, std::size_t count, std::size_t rank) {
    constexpr std::size_t max_buckets = 256;
    std::array<std::uint32_t, max_buckets> histogram;
    for (bool first_pass = true; count > 8; first_pass = false) {
        // The first pass buckets from 0, a bound of every squared distance, and so needs
        // only the maximum; four running maxima, as one chain of maxsd was a sixth of this.
        double low = 0, high = 0;
        if (first_pass) {
            std::array<double, 4> highs{};
            std::size_t i = 0;
            for (; i + 4 <= count; i += 4) {
                for (std::size_t lane = 0; lane < 4; ++lane) {
                    highs[lane] = std::max(highs[lane], keys[i + lane]);
                }
            }
            for (; i < count; ++i) highs[0] = std::max(highs[0], keys[i]);
            high = std::max(std::max(highs[0], highs[1]), std::max(highs[2], highs[3]));
            if (high == 0) return 0;
        } else {
            low = high = keys[0];
            for (std::size_t i = 1; i < count; ++i) {
                low = std::min(low, keys[i]);
                high = std::max(high, keys[i]);
            }
            if (low == high) return low;
        }
        std::size_t buckets = 16;
        while (buckets < 2 * count && buckets < max_buckets) buckets *= 2;
        // Monotone in the key (a subtraction and a product rounded the same way for all),
        // so buckets split the keys by value.
        const double scale = static_cast<double>(buckets) / (high - low);
        if (!std::isfinite(scale)) {  // keys a few denormals apart: rank them plainly
            std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(rank),
                             keys.begin() + static_cast<std::ptrdiff_t>(count));
            return keys[rank];
        }
        auto bucket_of = [&](double key) {
            return std::min(static_cast<std::size_t>((key - low) * scale), buckets - 1);
        };
        std::fill_n(histogram.begin(), buckets, 0U);
        for (std::size_t i = 0; i < count; ++i) ++histogram[bucket_of(keys[i])];
        std::size_t bucket = 0;
        while (rank >= histogram[bucket]) rank -= histogram[bucket++];
        // Past the first pass, low and high fall into different buckets: fewer are kept.
        std::size_t kept = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const double key = keys[i];
            keys[kept] = key;
            kept += bucket_of(key) == bucket;
        }
        count = kept;
    }
    // A handful left: the key with `rank` smaller ones, counting ties.
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t smaller = 0, not_larger = 0;
        for (std::size_t j = 0; j < count; ++j) {
            smaller += keys[j] < keys[i];
            not_larger += keys[j] <= keys[i];
        }
        if (smaller <= rank && rank < not_larger) return keys[i];
    }
    return keys[0];  // not reached: some key has the rank
}

// Removes the most extreme of keys[0, count) under `more` (std::greater: the largest,
// std::less: the smallest) `times` times, one occurrence each, then returns the most
// extreme left; keys are reordered.
template <typename More>
double extreme_after_removing(std::span<double> keys, std::size_t count, std::size_t times,
                              More more) {
    for (;; --count, --times) {
        double extreme = keys[0];
        for (std::size_t i = 1; i < count; ++i)
            extreme = more(keys[i], extreme) ? keys[i] : extreme;
        if (times == 0) return extreme;
        std::size_t at = 0;
        while (keys[at] != extreme) ++at;
        keys[at] = keys[count - 1];
    }
}

// The squared distance of rank `rank` (0-based, ties counted) among the candidates.
// `pivot`, when positive, is a guess of it: the previous query's, as neighbouring queries
// have similar neighbourhoods. One pass splits the keys at the guess; the answer is then
// usually a few places from the split's edge, and found by removing the few extremes
// beyond it. A poor guess costs a bucket select (see above) on the side the answer is on.
// Needs rank < candidates.size() and room for as many keys.
double distance_of_rank(std::span<const Neighbour> candidates, std::size_t rank,
                        std::span<double> keys, double pivot) {
    const std::size_t n = candidates.size();
    if (!(pivot > 0 && pivot < std::numeric_limits<double>::infinity())) {
        for (std::size_t i = 0; i < n; ++i) keys[i] = candidates[i].squared_distance;
        return bucket_select(keys, n, rank);
    }
    // Keys <= pivot fill keys from the front, the others from the back. Each key is
    // written to both ends without a branch and kept at one: the slot it leaves at the
    // other end is one that end has not claimed yet (front + back = keys seen <= n).
    std::size_t front = 0, back = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double key = candidates[i].squared_distance;
        const bool at_front = key <= pivot;
        keys[front] = key;
        keys[n - 1 - back] = key;
        front += at_front;
        back += !at_front;
    }
    constexpr std::size_t few = 6;
    if (rank < front) {  // among the front keys: the one with front - 1 - rank above it
        const std::size_t above = front - 1 - rank;
        if (above <= few) return extreme_after_removing(keys, front, above, std::greater<>());
        return bucket_select(keys, front, rank);
    }
    const std::span<double> back_keys = keys.subspan(n - back, back);
    const std::size_t below = rank - front;
    if (below <= few) return extreme_after_removing(back_keys, back, below, std::less<>());
    return bucket_select(back_keys, back, below);
}

// Keeps the candidates within `bound`, in their order.
void keep_within(NeighbourBuffer& candidates, double bound) {
    Neighbour* const out = candidates.begin();
    std::size_t kept = 0;
    for (const Neighbour& candidate : candidates.view()) {
        out[kept] = candidate;
        kept += candidate.squared_distance <= bound;
    }
    candidates.shrink(kept);
}

}  // namespace

GridIndex::GridIndex(const PointCloudView& cloud, double points_per_cell, double max_cell_size) {
    const std::size_t n = cloud.size();
    // The passes over all points run in parallel: this is built once per chunk, between
    // parallel query phases.
    struct Extent {
        double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
        double max_x = -min_x, max_y = -min_x;
    };
    const Extent extent = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, n, 65536), Extent{},
        [&](const tbb::blocked_range<std::size_t>& points, Extent e) {
            for (std::size_t i = points.begin(); i != points.end(); ++i) {
                e.min_x = std::min(e.min_x, cloud.x[i]);
                e.max_x = std::max(e.max_x, cloud.x[i]);
                e.min_y = std::min(e.min_y, cloud.y[i]);
                e.max_y = std::max(e.max_y, cloud.y[i]);
            }
            return e;
        },
        [](Extent a, const Extent& b) {
            a.min_x = std::min(a.min_x, b.min_x);
            a.max_x = std::max(a.max_x, b.max_x);
            a.min_y = std::min(a.min_y, b.min_y);
            a.max_y = std::max(a.max_y, b.max_y);
            return a;
        });
    double min_x = extent.min_x, max_x = extent.max_x, min_y = extent.min_y, max_y = extent.max_y;
    if (n == 0) min_x = max_x = min_y = max_y = 0;
    double width = max_x - min_x, height = max_y - min_y;
    origin_x_ = min_x;
    origin_y_ = min_y;
    origin_z_ = n > 0 ? cloud.z[0] : 0.0;  // any height near the points: keys keep their precision
    auto size_grid = [&](double area) {
        cell_size_ =
            std::min(max_cell_size, std::sqrt(std::max(area, 1e-6) * points_per_cell /
                                              static_cast<double>(std::max<std::size_t>(n, 1))));
        // Keep the cell count within a few per point, thin strips included.
        const double longest = std::max({width, height, 1e-3});
        const double most_cells = static_cast<double>(max_cells_per_point * n + 1);
        cell_size_ = std::max(
            {cell_size_, longest / most_cells, std::sqrt(width * height / most_cells), 1e-3});
        columns_ = static_cast<std::ptrdiff_t>(width / cell_size_) + 1;
        rows_ = static_cast<std::ptrdiff_t>(height / cell_size_) + 1;
    };
    auto cell_of = [&](std::size_t i) {
        return static_cast<std::uint32_t>(row_of(cloud.y[i]) * columns_ + column_of(cloud.x[i]));
    };
    auto occupied_cells = [&] {
        std::vector<std::atomic<std::uint8_t>> occupied(static_cast<std::size_t>(columns_ * rows_));
        parallel_for_index(
            n, [&](std::size_t i) { occupied[cell_of(i)].store(1, std::memory_order_relaxed); });
        std::size_t count = 0;
        for (const auto& cell : occupied) count += cell.load(std::memory_order_relaxed);
        return count;
    };
    // Size cells for the area that actually holds points (water, voids and the empty
    // corners of a halo would otherwise crowd the occupied cells).
    size_grid(width * height);
    std::size_t occupied = occupied_cells();
    if (n >= kFewStraysFrom &&
        occupied * kStretchedGrid < static_cast<std::size_t>(columns_ * rows_)) {
        // A few points far from the others (a stray point kilometres away) stretch the box
        // so far that the capped cell count makes every cell huge. The grid then covers the
        // box of all but a few of them, which are clamped into its border cells (queries
        // allow for that, see collect).
        const XyBox core = box_without_extremes(cloud, n / kFewStraysFrom);
        origin_x_ = core.min_x;
        origin_y_ = core.min_y;
        width = core.max_x - core.min_x;
        height = core.max_y - core.min_y;
        size_grid(width * height);
        occupied = occupied_cells();
    }
    size_grid(static_cast<double>(occupied) * cell_size_ * cell_size_);

    // Counting sort of the points into row-major cells.
    const auto cell_count = static_cast<std::size_t>(columns_ * rows_);
    util::UninitVector<std::uint32_t> cell_of_point(n);
    parallel_for_index(n, [&](std::size_t i) { cell_of_point[i] = cell_of(i); });
    cell_start_.assign(cell_count + 1, 0);
    for (std::size_t i = 0; i < n; ++i) ++cell_start_[cell_of_point[i] + 1];
    for (std::size_t c = 0; c < cell_count; ++c) cell_start_[c + 1] += cell_start_[c];
    std::vector<std::uint32_t> fill(cell_start_.begin(), cell_start_.end() - 1);
    util::UninitVector<std::uint32_t> cloud_index(n);
    for (std::size_t i = 0; i < n; ++i) cloud_index[fill[cell_of_point[i]]++] = std::uint32_t(i);
    // Within a cell, points go by height: a query then only reads the slab of each cell
    // within reach in z. Trees and walls stack many points on one xy cell, and without
    // this every one of them was a candidate for every query nearby.
    // Cells are independent: sorted and packed in parallel (this runs once per chunk and
    // was a serial stretch between the parallel queries).
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cell_count, 4096),
                      [&](const tbb::blocked_range<std::size_t>& cells) {
                          for (std::size_t c = cells.begin(); c != cells.end(); ++c) {
                              std::sort(cloud_index.begin() + cell_start_[c],
                                        cloud_index.begin() + cell_start_[c + 1],
                                        [&](std::uint32_t a, std::uint32_t b) {
                                            return cloud.z[a] < cloud.z[b] ||
                                                   (cloud.z[a] == cloud.z[b] && a < b);
                                        });
                          }
                      });
    points_.resize(n);
    z_keys_.resize(n);
    ids_.resize(n);
    position_.resize(n);
    parallel_for_index(n, [&](std::size_t slot) {
        const std::uint32_t i = cloud_index[slot];
        points_[slot] = {cloud.x[i], cloud.y[i], cloud.z[i]};
        z_keys_[slot] = z_key(cloud.z[i]);
        ids_[slot] = cloud.id(i);
        position_[i] = static_cast<std::uint32_t>(slot);
    });
}

std::ptrdiff_t GridIndex::column_of(double x) const {
    const double c = std::floor((x - origin_x_) / cell_size_);
    return static_cast<std::ptrdiff_t>(std::clamp(c, 0.0, static_cast<double>(columns_ - 1)));
}

std::ptrdiff_t GridIndex::row_of(double y) const {
    const double r = std::floor((y - origin_y_) / cell_size_);
    return static_cast<std::ptrdiff_t>(std::clamp(r, 0.0, static_cast<double>(rows_ - 1)));
}

namespace {

// Distance along one axis from a query at `q`, in cell `query_cell`, to cell `cell` of an
// axis divided at origin + i * cell_size. The cell is measured from its side facing the
// query, which is finite: the open sides of border cells face away from it.
double gap_to_cell(double q, double origin, double cell_size, std::ptrdiff_t cell,
                   std::ptrdiff_t query_cell) {
    if (cell < query_cell) {
        return std::max(0.0, q - (origin + static_cast<double>(cell + 1) * cell_size));
    }
    if (cell > query_cell) return std::max(0.0, origin + static_cast<double>(cell) * cell_size - q);
    return 0.0;
}

}  // namespace

double GridIndex::gap_to_column(const PackedPoint& query, std::ptrdiff_t col,
                                std::ptrdiff_t qc) const {
    return gap_to_cell(query.x, origin_x_, cell_size_, col, qc);
}

double GridIndex::gap_to_row(const PackedPoint& query, std::ptrdiff_t row,
                             std::ptrdiff_t qr) const {
    return gap_to_cell(query.y, origin_y_, cell_size_, row, qr);
}

namespace {

double squared_distance(const PackedPoint& a, const PackedPoint& b) {
    // Same expression, same order as the Python reference: ties must tie there too.
    const double dx = b.x - a.x, dy = b.y - a.y, dz = b.z - a.z;
    return dx * dx + dy * dy + dz * dz;
}

}  // namespace

// The z slab of a cell that can hold points within `reach` of height z (reach is
// widened, see above: the exact test is made point by point). It is found on the float
// keys, which are monotone in z: a key below low's key belongs to a point below low, and
// one above high's to a point above high, so the slab holds every point of the exact one
// (and at most a few more, rounding ties, which the point-by-point test drops). The
// counts below have no branches: walks and binary searches over a cell's few dozen points
// were mispredicted at almost every step.
std::pair<std::uint32_t, std::uint32_t> GridIndex::z_slab(std::size_t cell, double z,
                                                          double reach) const {
    const std::uint32_t first = cell_start_[cell], last = cell_start_[cell + 1];
    const float low = z_key(z - reach), high = z_key(z + reach);
    const float* const keys = z_keys_.data();
    // Keys are sorted: a cell wholly within reach (most of them on open ground) needs no count.
    if (first == last || (keys[first] >= low && keys[last - 1] <= high)) return {first, last};
    if (last - first <= 256) {
        std::uint32_t below = 0, not_above = 0;
        for (std::uint32_t i = first; i < last; ++i) {
            below += keys[i] < low;
            not_above += keys[i] <= high;
        }
        return {first + below, first + not_above};
    }
    const float* const begin = keys + first;
    const float* const end = keys + last;
    const float* const from =
        std::partition_point(begin, end, [&](float key) { return key < low; });
    const float* const to = std::partition_point(from, end, [&](float key) { return key <= high; });
    return {static_cast<std::uint32_t>(from - keys), static_cast<std::uint32_t>(to - keys)};
}

// Collects every point with squared distance <= bound, ring by ring, unordered (cheap);
// once k are in hand and another ring would still be needed, the k-th smallest squared
// distance becomes the bound (never dropping a point that could still be among the k
// nearest, ties included).
void GridIndex::collect(const PackedPoint& query, double bound, std::size_t k,
                        NeighbourBuffer& scratch, double pivot) const {
    scratch.clear();
    double reach = std::sqrt(widened(bound));
    // Each point of the slab is written unconditionally and kept by advancing the count:
    // about half of them pass, and a branch on that would be mispredicted half the time.
    auto scan = [&](std::size_t cell) {
        const auto [first, last] = z_slab(cell, query.z, reach);
        const std::size_t before = scratch.size();
        Neighbour* const out = scratch.extend(last - first);
        std::size_t kept = 0;
        for (std::uint32_t i = first; i < last; ++i) {
            const double d2 = squared_distance(query, points_[i]);
            out[kept] = {d2, i};
            kept += d2 <= bound;
        }
        scratch.shrink(before + kept);
    };
    const std::ptrdiff_t qc = column_of(query.x), qr = row_of(query.y);
    auto x_gap = [&](std::ptrdiff_t col) { return gap_to_column(query, col, qc); };
    auto y_gap = [&](std::ptrdiff_t row) { return gap_to_row(query, row, qr); };
    // Every point of ring r (Chebyshev distance r from the query's cell) lies beyond the
    // inner edge of the ring's left or right column or of its bottom or top row, points
    // clamped into border cells included. Measuring from the query itself rather than from
    // its cell's border spares ring 2 to most queries whose neighbourhood spans about a cell.
    auto ring_reachable = [&](std::ptrdiff_t r) {
        const double left = query.x - (origin_x_ + static_cast<double>(qc - r + 1) * cell_size_);
        const double right = origin_x_ + static_cast<double>(qc + r) * cell_size_ - query.x;
        const double below = query.y - (origin_y_ + static_cast<double>(qr - r + 1) * cell_size_);
        const double above = origin_y_ + static_cast<double>(qr + r) * cell_size_ - query.y;
        // A hair less than the exact gap: the edges above are rounded.
        const double gap = std::max(0.0, std::min({left, right, below, above}) - 1e-9 * cell_size_);
        return gap * gap <= widened(bound);
    };
    const std::ptrdiff_t max_ring = std::max({qc, columns_ - 1 - qc, qr, rows_ - 1 - qr});
    // Rings 0 and 1 (the 3 x 3 block) hold most answers: no per-cell distance checks.
    for (std::ptrdiff_t row = std::max<std::ptrdiff_t>(qr - 1, 0);
         row <= std::min(qr + 1, rows_ - 1); ++row) {
        for (std::ptrdiff_t col = std::max<std::ptrdiff_t>(qc - 1, 0);
             col <= std::min(qc + 1, columns_ - 1); ++col) {
            scan(static_cast<std::size_t>(row * columns_ + col));
        }
    }
    for (std::ptrdiff_t r = 1; r <= max_ring; ++r) {
        if (r >= 2) {  // ring 1 was part of the block
            // The ring's rows and columns, each skipped whole when out of reach, and each
            // cell when its box is. A cell's box is measured from its near sides, which
            // are finite: the open sides of border cells face away from the query.
            const double limit = widened(bound);
            const std::ptrdiff_t c0 = qc - r, c1 = qc + r, r0 = qr - r, r1 = qr + r;
            auto scan_if_near = [&](std::ptrdiff_t row, std::ptrdiff_t col, double dx, double dy) {
                if (dx * dx + dy * dy <= limit)
                    scan(static_cast<std::size_t>(row * columns_ + col));
            };
            for (const std::ptrdiff_t row : {r0, r1}) {  // the top and bottom rows
                if (row < 0 || row >= rows_) continue;
                const double dy = y_gap(row);
                if (dy * dy > limit) continue;
                for (std::ptrdiff_t col = std::max<std::ptrdiff_t>(c0, 0);
                     col <= std::min(c1, columns_ - 1); ++col) {
                    scan_if_near(row, col, x_gap(col), dy);
                }
            }
            for (const std::ptrdiff_t col : {c0, c1}) {  // the side columns between them
                if (col < 0 || col >= columns_) continue;
                const double dx = x_gap(col);
                if (dx * dx > limit) continue;
                for (std::ptrdiff_t row = std::max<std::ptrdiff_t>(r0 + 1, 0);
                     row <= std::min(r1 - 1, rows_ - 1); ++row) {
                    scan_if_near(row, col, dx, y_gap(row));
                }
            }
        }
        if (!ring_reachable(r + 1)) break;
        if (scratch.size() >= k) {
            bound = distance_of_rank(scratch.view(), k - 1, scratch.keys(), pivot);
            reach = std::sqrt(widened(bound));
            keep_within(scratch, bound);  // the k nearest and any tied with the k-th
            if (!ring_reachable(r + 1)) break;
        }
    }
}

// Keeps the k first candidates under the total order, in no particular order: those
// nearer than the k-th squared distance, then as many of the points tied at that distance
// as are needed, chosen by coordinates and id. Only the (rare) ties are sorted.
void GridIndex::select_nearest(std::size_t k, NeighbourBuffer& scratch, double pivot) const {
    const double bound = distance_of_rank(scratch.view(), k - 1, scratch.keys(), pivot);
    keep_within(scratch, bound);
    // Usually nothing beyond the k-th ties with it: the k left are the answer.
    if (scratch.size() == k) return;
    const auto nearer = std::partition(scratch.begin(), scratch.end(), [&](const Neighbour& n) {
        return n.squared_distance < bound;
    });
    std::sort(nearer, scratch.end(), [&](const Neighbour& a, const Neighbour& b) {
        const PackedPoint& p = points_[a.index];
        const PackedPoint& q = points_[b.index];
        if (p.x != q.x) return p.x < q.x;
        if (p.y != q.y) return p.y < q.y;
        if (p.z != q.z) return p.z < q.z;
        return ids_[a.index] < ids_[b.index];
    });
    scratch.shrink(k);
}

std::span<const Neighbour> GridIndex::nearest(const PackedPoint& query, double squared_limit,
                                              std::size_t k, NeighbourBuffer& scratch,
                                              double& hint) const {
    scratch.clear();
    if (k == 0 || points_.empty()) return {};
    // A bound 1.25x the previous k-th squared distance usually holds k to 1.5k points. If it
    // holds k, the k nearest are among them. Otherwise the k-th is farther than hinted,
    // usually not by much: twice the radius holds it far more cheaply than the limit
    // (which tightens only after a wide block), and the limit comes last.
    const double hinted_bound = 1.25 * hint;
    const bool use_hint = hinted_bound > 0 && hinted_bound < squared_limit;
    double pivot = use_hint ? hint : 0.0;  // the guess of the k-th, while it is a good one
    collect(query, use_hint ? hinted_bound : squared_limit, k, scratch, pivot);
    if (use_hint && scratch.size() < k) {
        pivot = 0.0;
        const double wider = 4.0 * hinted_bound;
        if (wider < squared_limit) collect(query, wider, k, scratch, pivot);
        if (scratch.size() < k) collect(query, squared_limit, k, scratch, pivot);
    }

    if (scratch.size() > k) select_nearest(k, scratch, pivot);
    hint = 0.0;
    if (scratch.size() == k) {
        for (const auto& n : scratch) hint = std::max(hint, n.squared_distance);
    }
    return scratch.view();
}

// Cells of the bounding square that the ball cannot reach in xy (its corners) are
// skipped.
std::size_t GridIndex::count_within(const PackedPoint& query, double squared_limit) const {
    const double reach = std::sqrt(squared_limit);
    const double wide = widened(squared_limit);
    const double widened_reach = std::sqrt(wide);
    const std::ptrdiff_t c0 = column_of(query.x - reach), c1 = column_of(query.x + reach);
    const std::ptrdiff_t r0 = row_of(query.y - reach), r1 = row_of(query.y + reach);
    const std::ptrdiff_t qc = column_of(query.x), qr = row_of(query.y);
    std::size_t count = 0;
    for (std::ptrdiff_t row = r0; row <= r1; ++row) {
        const double dy = gap_to_row(query, row, qr);
        for (std::ptrdiff_t col = c0; col <= c1; ++col) {
            const double dx = gap_to_column(query, col, qc);
            if (dx * dx + dy * dy > wide) continue;
            const auto [first, last] =
                z_slab(static_cast<std::size_t>(row * columns_ + col), query.z, widened_reach);
            for (std::uint32_t i = first; i < last; ++i) {
                count += squared_distance(query, points_[i]) <= squared_limit;
            }
        }
    }
    return count;
}

}  // namespace lidarmill::features::detail
