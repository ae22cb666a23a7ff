#pragma once
// Per-point geometric features from k-nearest-neighbour neighbourhoods (the I/O-free core
// of `lidarmill enrich`). The neighbourhood of a point is its k nearest points (itself
// included) within max_radius; features come from the eigen-decomposition of their
// covariance (l1 >= l2 >= l3, normal = e3 pointing up). tests/reference/features_ref.py
// implements every definition independently and the tests compare the two.
#include <cstdint>
#include <span>

#include "features/feature.hpp"
#include "features/ground_model.hpp"
#include "features/point_cloud.hpp"

namespace lidarmill::features {

struct NeighbourhoodParams {
    int k = 20;               // neighbours, the point itself included (at most 2^20)
    double max_radius = 5.0;  // metres; farther neighbours are dropped (at most 10 km)
    double radius = 2.0;      // metres, for points_in_radius (3D, distance <= radius)
};

// Computes `features` for the points whose indices are in `query`, using neighbours among
// all points of `cloud`, and writes out[i * features.size() + f] for features[f] and query
// point i: a point's values are one row, written at once (the queries run in grid order,
// and scattering each value to its own column cost a twentieth of the computation).
// No-data (degenerate neighbourhood, no ground within reach) is written as NaN.
// Results are deterministic: independent of the thread count, of the order of the
// points in `cloud`, and of points farther than max_radius (resp. radius), provided
// cloud.point_ids identifies points stably. `ground` may be null only if
// height_above_ground, wall_score and roof_score are not requested.
// Throws util::UsageError on inconsistent sizes or parameters.
void compute_features(const PointCloudView& cloud, std::span<const std::uint32_t> query,
                      std::span<const Feature> features, const NeighbourhoodParams& params,
                      const GroundModel* ground, std::span<float> out);

}  // namespace lidarmill::features
