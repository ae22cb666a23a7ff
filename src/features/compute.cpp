#include "features/compute.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "features/blocks.hpp"
#include "features/grid_index.hpp"
#include "features/symmetric_eigen.hpp"
#include "util/error.hpp"
#include "util/uninitialized.hpp"

namespace lidarmill::features {
namespace {

constexpr double no_data = std::numeric_limits<double>::quiet_NaN();
// Below this largest eigenvalue (m^2, i.e. a spread of ~1 micrometre) the neighbourhood
// is a single location: its shape features are meaningless.
constexpr double degenerate_eigenvalue = 1e-12;

// Grid cells sized for about this many points (13 for k = 20), and at most max_radius
// wide. On dense tiles a neighbourhood then spans about three cells across: smaller
// cells made fewer candidates, but their per-cell z searches cost more than the
// candidates saved (8 points per cell was slower). Where the limit
// binds (sparse tiles, most neighbourhoods cut at max_radius), the 3 x 3 cells around a
// query then hold its whole ball, and wider cells would only add candidates.
double points_per_cell(int k) {
    return std::max(4.0, k / 1.5);
}

using FeatureValues = std::array<double, feature_count>;

double& slot(FeatureValues& values, Feature feature) {
    return values[static_cast<std::size_t>(feature)];
}

struct Needs : FeatureNeeds {
    bool omnivariance = false, eigenentropy = false;  // the only costly ones (cbrt, log)

    explicit Needs(std::span<const Feature> features) : FeatureNeeds(needs_of(features)) {
        for (const Feature f : features) {
            omnivariance |= f == Feature::omnivariance;
            eigenentropy |= f == Feature::eigenentropy;
        }
    }
};

void validate(const PointCloudView& cloud, std::span<const std::uint32_t> query,
              std::span<const Feature> features, const NeighbourhoodParams& params,
              const GroundModel* ground, std::span<const float> out) {
    const std::size_t n = cloud.size();
    if (cloud.y.size() != n || cloud.z.size() != n ||
        (!cloud.point_ids.empty() && cloud.point_ids.size() != n)) {
        throw util::UsageError("point cloud arrays differ in length");
    }
    if (n >= std::numeric_limits<std::uint32_t>::max()) {
        throw util::UsageError("too many points for one feature computation");
    }
    // The first point with a non-finite coordinate, if any (n: none).
    const std::size_t first_bad = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, n, 65536), n,
        [&](const tbb::blocked_range<std::size_t>& points, std::size_t bad) {
            for (std::size_t i = points.begin(); i != points.end() && i < bad; ++i) {
                if (!std::isfinite(cloud.x[i]) || !std::isfinite(cloud.y[i]) ||
                    !std::isfinite(cloud.z[i])) {
                    return i;
                }
            }
            return bad;
        },
        [](std::size_t a, std::size_t b) { return std::min(a, b); });
    if (first_bad < n) {
        throw util::UsageError("point " + std::to_string(first_bad) +
                               " has a non-finite coordinate");
    }
    if (params.k < 1 || !(params.max_radius > 0) || !(params.radius > 0)) {
        throw util::UsageError("k, max_radius and radius must be positive");
    }
    if (params.k > (1 << 20) || params.max_radius > 1e4) {
        throw util::UsageError("k above 2^20 or max_radius above 10 km is not supported");
    }
    if (out.size() != features.size() * query.size()) {
        throw util::UsageError("the output must hold one value per feature and query point");
    }
    for (const std::uint32_t index : query) {
        if (index >= n) {
            throw util::UsageError("query index " + std::to_string(index) + " out of range");
        }
    }
    if (Needs(features).ground && ground == nullptr) {
        throw util::UsageError("height_above_ground needs a ground model");
    }
}

// Neighbourhood moments in exact integer arithmetic: offsets from the query point are
// truncated to a fixed grid far below any LiDAR resolution and summed as integers, so the
// sums are exact and do not depend on the order of the neighbours; no sorting is needed
// for results to be bit-identical whatever the chunking. Exactness also makes the
// one-pass formula n*sum(xy) - sum(x)*sum(y) free of cancellation, i.e. as good as two
// passes centred on the centroid (the numerator is formed in 128 bits).
// Usual neighbourhoods sum in 64 bits on a 2^-24 m (60 nm) grid; when k and the radius
// could overflow that, 128-bit sums on a 2^-30 m grid (|offset| <= 1e4 m and k <= 2^20,
// checked by validate(), keep them below 2^127).
__extension__ using Int128 = __int128;

template <typename Sum, int GridBits>
struct ExactMoments {
    static constexpr double offset_scale = static_cast<double>(std::int64_t{1} << GridBits);
    Sum n = 0, x = 0, y = 0, z = 0, xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;

    void add(const detail::PackedPoint& p, const detail::PackedPoint& origin) {
        const auto qx = static_cast<std::int64_t>((p.x - origin.x) * offset_scale);
        const auto qy = static_cast<std::int64_t>((p.y - origin.y) * offset_scale);
        const auto qz = static_cast<std::int64_t>((p.z - origin.z) * offset_scale);
        ++n;
        x += qx;
        y += qy;
        z += qz;
        xx += Sum{qx} * qx;
        xy += Sum{qx} * qy;
        xz += Sum{qx} * qz;
        yy += Sum{qy} * qy;
        yz += Sum{qy} * qz;
        zz += Sum{qz} * qz;
    }
    // Covariance entry (divided by n) from exact sums: one rounding to double, then scaling.
    double covariance(Sum sum_ab, Sum sum_a, Sum sum_b) const {
        const double numerator = static_cast<double>(Int128{n} * sum_ab - Int128{sum_a} * sum_b);
        const double count = static_cast<double>(n);
        return numerator / (count * count) / (offset_scale * offset_scale);
    }
    // Centroid minus the origin point, metres.
    double mean(Sum sum) const {
        return static_cast<double>(sum) / static_cast<double>(n) / offset_scale;
    }
};
using NarrowMoments = ExactMoments<std::int64_t, 24>;
using WideMoments = ExactMoments<Int128, 30>;

// Whether k offsets of up to `max_radius` fit the 64-bit sums (with a margin of 2).
bool narrow_moments_fit(std::size_t k, double max_radius) {
    const double largest = max_radius * NarrowMoments::offset_scale + 1;
    return static_cast<double>(k) * largest * largest < 0x1p61;
}

// Eigen-based features of one neighbourhood (listed in the catalogue as eigen-based),
// written into `values`; left NaN when the neighbourhood is degenerate.
template <typename Moments>
void shape_features(std::span<const detail::PackedPoint> points, const detail::PackedPoint& point,
                    std::span<const detail::Neighbour> neighbours, const Needs& needs,
                    FeatureValues& values) {
    if (neighbours.size() < 3) return;
    Moments m;
    for (const auto& nb : neighbours) m.add(points[nb.index], point);
    const detail::SymmetricMatrix3 covariance{
        m.covariance(m.xx, m.x, m.x), m.covariance(m.xy, m.x, m.y), m.covariance(m.xz, m.x, m.z),
        m.covariance(m.yy, m.y, m.y), m.covariance(m.yz, m.y, m.z), m.covariance(m.zz, m.z, m.z)};
    // The point's offset from the centroid, for the roughness.
    const double ox = -m.mean(m.x), oy = -m.mean(m.y), oz = -m.mean(m.z);

    const detail::SmallestEigen eigen = detail::smallest_eigen(covariance);
    // Rounding can leave tiny negative values.
    const double l1 = std::max(eigen.l1, 0.0);
    const double l2 = std::max(eigen.l2, 0.0);
    const double l3 = std::max(eigen.l3, 0.0);
    if (!(l1 > degenerate_eigenvalue)) return;
    auto [nx, ny, nz] = eigen.e3;
    // Upward normal; the exact-zero cases only need to be decided the same way every time.
    if (nz < 0 || (nz == 0 && (ny < 0 || (ny == 0 && nx < 0)))) {
        nx = -nx;
        ny = -ny;
        nz = -nz;
    }

    const double sum = l1 + l2 + l3;
    slot(values, Feature::normal_x) = nx;
    slot(values, Feature::normal_y) = ny;
    slot(values, Feature::normal_z) = nz;
    slot(values, Feature::curvature) = l3 / sum;
    slot(values, Feature::linearity) = (l1 - l2) / l1;
    slot(values, Feature::planarity) = (l2 - l3) / l1;
    slot(values, Feature::sphericity) = l3 / l1;
    slot(values, Feature::anisotropy) = (l1 - l3) / l1;
    if (needs.omnivariance) slot(values, Feature::omnivariance) = std::cbrt(l1 * l2 * l3);
    double entropy = 0;
    for (const double l : {l1, l2, l3}) {
        const double share = l / sum;
        if (needs.eigenentropy && share > 0) entropy -= share * std::log(share);
    }
    slot(values, Feature::eigenentropy) = entropy;
    slot(values, Feature::eigenvalue_1) = l1;
    slot(values, Feature::eigenvalue_2) = l2;
    slot(values, Feature::eigenvalue_3) = l3;
    slot(values, Feature::eigenvalue_sum) = sum;
    slot(values, Feature::verticality) = 1.0 - std::abs(nz);
    slot(values, Feature::roughness) = std::abs(ox * nx + oy * ny + oz * nz);
}

double density_of(std::span<const detail::Neighbour> neighbours) {
    double farthest = 0;  // neighbours come unordered
    for (const auto& nb : neighbours) farthest = std::max(farthest, nb.squared_distance);
    const double r = std::sqrt(farthest);
    if (!(r > 0)) return no_data;
    return static_cast<double>(neighbours.size()) / (4.0 / 3.0 * std::numbers::pi * r * r * r);
}

// Height-gated scores; NaN when either the shape or the height is unknown.
void building_scores(FeatureValues& values) {
    const double hag = slot(values, Feature::height_above_ground);
    const double planarity = slot(values, Feature::planarity);
    const double verticality = slot(values, Feature::verticality);
    slot(values, Feature::wall_score) =
        planarity * verticality * std::clamp((hag - 1.5) / 5.0, 0.0, 1.0);
    slot(values, Feature::roof_score) =
        planarity * (1.0 - verticality) * std::clamp((hag - 2.0) / 8.0, 0.0, 1.0);
    if (std::isnan(hag)) {
        slot(values, Feature::wall_score) = no_data;
        slot(values, Feature::roof_score) = no_data;
    }
}

class PointFeatures {
  public:
    PointFeatures(const detail::GridIndex& index, std::span<const Feature> features,
                  const NeighbourhoodParams& params, const GroundModel* ground)
        : index_(index),
          needs_(features),
          k_(static_cast<std::size_t>(params.k)),
          max_squared_radius_(params.max_radius * params.max_radius),
          squared_radius_(params.radius * params.radius),
          ground_(ground),
          narrow_moments_(narrow_moments_fit(k_, params.max_radius)) {}

    // `scratch` is reused from point to point so that nothing is allocated per point.
    struct Scratch {
        detail::NeighbourBuffer neighbours;
        double hint = 0;
    };

    void compute(std::uint32_t packed_index, Scratch& scratch, FeatureValues& values) const {
        values.fill(no_data);
        const detail::PackedPoint& point = index_.points()[packed_index];
        if (needs_.eigen || needs_.density) {
            const auto neighbours =
                index_.nearest(point, max_squared_radius_, k_, scratch.neighbours, scratch.hint);
            if (needs_.eigen && narrow_moments_) {
                shape_features<NarrowMoments>(index_.points(), point, neighbours, needs_, values);
            } else if (needs_.eigen) {
                shape_features<WideMoments>(index_.points(), point, neighbours, needs_, values);
            }
            if (needs_.density) slot(values, Feature::density) = density_of(neighbours);
        }
        if (needs_.radius_count) {
            // The point itself is in the cloud and always counted.
            slot(values, Feature::points_in_radius) =
                static_cast<double>(index_.count_within(point, squared_radius_) - 1);
        }
        if (needs_.ground) {
            slot(values, Feature::height_above_ground) =
                point.z - ground_->height_at(point.x, point.y);
            building_scores(values);
        }
    }

  private:
    const detail::GridIndex& index_;
    Needs needs_;
    std::size_t k_;
    double max_squared_radius_, squared_radius_;
    const GroundModel* ground_;
    bool narrow_moments_;
};

// Query points in grid order, as (packed index, output slot) pairs: consecutive queries
// then share cells in cache and pass each other a good k-th distance hint. Listed by
// scattering each query to its packed position: linear, where sorting the pairs cost as
// much as a tenth of the neighbour search.
struct Visit {
    std::uint32_t packed_index, slot_index;
    auto operator<=>(const Visit&) const = default;
};

util::UninitVector<Visit> visit_order(const detail::GridIndex& index,
                                      std::span<const std::uint32_t> query) {
    constexpr auto not_queried = std::numeric_limits<std::uint32_t>::max();
    const std::size_t n = index.points().size();
    util::UninitVector<std::uint32_t> slot_at(n);
    detail::for_each_block(n, [&](std::size_t, std::size_t first, std::size_t last) {
        std::fill(slot_at.begin() + static_cast<std::ptrdiff_t>(first),
                  slot_at.begin() + static_cast<std::ptrdiff_t>(last), not_queried);
    });
    bool duplicates = false;
    for (std::size_t i = 0; i < query.size(); ++i) {
        std::uint32_t& slot = slot_at[index.position(query[i])];
        duplicates |= slot != not_queried;
        slot = static_cast<std::uint32_t>(i);
    }
    util::UninitVector<Visit> visits;
    if (duplicates) {  // a point queried twice: rare, sort the pairs instead
        visits.reserve(query.size());
        for (std::size_t i = 0; i < query.size(); ++i) {
            visits.push_back({index.position(query[i]), static_cast<std::uint32_t>(i)});
        }
        tbb::parallel_sort(visits.begin(), visits.end());
        return visits;
    }
    // Packed positions in order, by blocks: counted, then written, in parallel.
    const auto queried = [&](std::size_t p) { return slot_at[p] != not_queried; };
    const std::vector<std::size_t> before = detail::kept_before_blocks(n, queried);
    visits.resize(before.back());
    detail::for_each_block(n, [&](std::size_t b, std::size_t first, std::size_t last) {
        std::size_t at = before[b];
        for (std::size_t p = first; p < last; ++p) {
            if (queried(p)) visits[at++] = {static_cast<std::uint32_t>(p), slot_at[p]};
        }
    });
    return visits;
}

}  // namespace

void compute_features(const PointCloudView& cloud, std::span<const std::uint32_t> query,
                      std::span<const Feature> features, const NeighbourhoodParams& params,
                      const GroundModel* ground, std::span<float> out) {
    validate(cloud, query, features, params, ground, out);
    if (query.empty() || features.empty()) return;

    const detail::GridIndex index(cloud, points_per_cell(params.k), params.max_radius);
    const PointFeatures point_features(index, features, params, ground);
    const auto k = static_cast<std::size_t>(params.k);

    const auto visits = visit_order(index, query);

    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, visits.size(), 1024),
        [&](const tbb::blocked_range<std::size_t>& range) {
            PointFeatures::Scratch scratch;
            scratch.neighbours.reserve(16 * k);
            FeatureValues values;
            const std::size_t width = features.size();
            for (std::size_t v = range.begin(); v != range.end(); ++v) {
                const auto [packed_index, slot_index] = visits[v];
                point_features.compute(packed_index, scratch, values);
                float* const row = out.data() + slot_index * width;
                for (std::size_t f = 0; f < width; ++f) {
                    row[f] = static_cast<float>(values[static_cast<std::size_t>(features[f])]);
                }
            }
        });
}

}  // namespace lidarmill::features
