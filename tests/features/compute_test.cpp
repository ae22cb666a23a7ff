#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "test_support.hpp"
#include "util/error.hpp"

namespace lidarmill::features {
namespace {

using testing::column_of;
using testing::compute_all;
using testing::Scene;

const std::vector<Feature> everything(all_features().begin(), all_features().end());

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(ComputeFeatures, PerfectTiltedPlane) {
    const Scene plane = testing::tilted_plane();
    const GroundModel ground = testing::ground_of(plane, plane.extent());
    const auto out = compute_all(plane.view(), everything, {}, &ground);
    // Unit normal of z = 0.3x - 0.2y + 5, pointing up.
    const double norm = std::sqrt(0.3 * 0.3 + 0.2 * 0.2 + 1.0);
    const double nx = -0.3 / norm, ny = 0.2 / norm, nz = 1.0 / norm;
    for (std::size_t i = 0; i < plane.size(); ++i) {
        auto value = [&](Feature f) { return out[column_of(everything, f)][i]; };
        ASSERT_NEAR(value(Feature::normal_x), nx, 1e-5) << i;
        ASSERT_NEAR(value(Feature::normal_y), ny, 1e-5) << i;
        ASSERT_NEAR(value(Feature::normal_z), nz, 1e-5) << i;
        ASSERT_NEAR(value(Feature::verticality), 1 - nz, 1e-5);
        ASSERT_LT(value(Feature::sphericity), 1e-6);
        ASSERT_LT(value(Feature::curvature), 1e-6);
        ASSERT_LT(value(Feature::roughness), 1e-5);
        ASSERT_NEAR(value(Feature::planarity) + value(Feature::linearity), 1.0, 1e-5);
        // A cell mean sits at the mean xy of its points, not at the cell centre: on this
        // 20-degree slope that is up to ~0.1 m off. Edge cells are
        // filled from the inside rather than extrapolated.
        const bool interior =
            plane.x[i] > 2 && plane.x[i] < 18 && plane.y[i] > 2 && plane.y[i] < 18;
        ASSERT_NEAR(value(Feature::height_above_ground), 0.0, interior ? 0.12 : 0.25) << i;
        ASSERT_GT(value(Feature::density), 0.0f);
    }
    // Away from the edges the k nearest points surround the point: isotropic, planar.
    const auto centre = column_of(everything, Feature::planarity);
    std::size_t interior = 0;
    for (std::size_t i = 0; i < plane.size(); ++i) {
        if (plane.x[i] < 3 || plane.x[i] > 17 || plane.y[i] < 3 || plane.y[i] > 17) continue;
        EXPECT_GT(out[centre][i], 0.6f);
        ++interior;
    }
    EXPECT_GT(interior, 500u);
}

TEST(ComputeFeatures, VerticalWallIsVerticalPlanarAndScoredAsWall) {
    const Scene scene = testing::ground_and_wall();
    const GroundModel ground = testing::ground_of(scene, scene.extent());
    const auto features = features_for_mode("building");
    const auto out = compute_all(scene.view(), features, {}, &ground);
    std::size_t wall_points = 0, high_points = 0;
    double planarity_sum = 0, high_wall_score_sum = 0;
    for (std::size_t i = 0; i < scene.size(); ++i) {
        auto value = [&](Feature f) { return out[column_of(features, f)][i]; };
        if (scene.cls[i] != 6 || scene.z[i] < 3 || scene.y[i] < 5 || scene.y[i] > 15) continue;
        ++wall_points;
        EXPECT_GT(value(Feature::verticality), 0.99f) << i;
        EXPECT_NEAR(std::abs(value(Feature::normal_x)), 1.0, 0.01);
        EXPECT_NEAR(value(Feature::height_above_ground), scene.z[i], 0.05);
        EXPECT_LT(value(Feature::roof_score), 0.01f);
        EXPECT_GT(value(Feature::wall_score), 0.0f);
        planarity_sum += value(Feature::planarity);
        if (scene.z[i] > 6.6) {
            high_wall_score_sum += value(Feature::wall_score);
            ++high_points;
        }
    }
    ASSERT_GT(wall_points, 200u);
    ASSERT_GT(high_points, 20u);
    // 20-NN selections on a jittered grid are often elongated: judge the mean.
    EXPECT_GT(planarity_sum / wall_points, 0.5);
    EXPECT_GT(high_wall_score_sum / high_points, 0.45);
}

TEST(ComputeFeatures, HeightAboveGroundOnSlopedTerrainWithABox) {
    const testing::Box boxes[] = {{15, 15, 30, 27, 7.0}};
    const Scene scene = testing::terrain_with_boxes(50, 0.7, boxes);
    const GroundModel ground = testing::ground_of(scene, scene.extent());
    const auto features = features_for_mode("building");
    const auto out = compute_all(scene.view(), features, {}, &ground);
    const auto hag = column_of(features, Feature::height_above_ground);
    const auto roof = column_of(features, Feature::roof_score);
    std::size_t roof_points = 0, ground_points = 0;
    for (std::size_t i = 0; i < scene.size(); ++i) {
        const bool on_roof = scene.cls[i] == 6 && scene.x[i] > 17 && scene.x[i] < 28 &&
                             scene.y[i] > 17 && scene.y[i] < 25 && scene.z[i] > 105;
        if (on_roof) {
            // Roof at terrain(15, 15) + 7; the ground under it follows the slope.
            const double terrain = 0.05 * scene.x[i] + 0.02 * scene.y[i] + 100.0;
            EXPECT_NEAR(out[hag][i], scene.z[i] - terrain, 0.25) << i;
            EXPECT_GT(out[roof][i], 0.2f);  // hag ~7 m caps it at 0.625
            ++roof_points;
        } else if (scene.cls[i] == 2) {
            EXPECT_NEAR(out[hag][i], 0.0, 0.12) << i;
            EXPECT_LT(out[roof][i], 0.01f);
            ++ground_points;
        }
    }
    EXPECT_GT(roof_points, 100u);
    EXPECT_GT(ground_points, 3000u);
}

TEST(ComputeFeatures, DegenerateNeighbourhoodsAreNoData) {
    Scene scene;
    scene.add(0, 0, 0, 1);    // alone
    scene.add(100, 0, 0, 1);  // a pair
    scene.add(101, 0, 0, 1);
    for (int i = 0; i < 5; ++i) scene.add(200, 0, 3, 1);  // coincident
    const GroundModel no_ground;
    const auto out = compute_all(scene.view(), everything, {}, &no_ground);
    for (std::size_t i = 0; i < scene.size(); ++i) {
        for (const Feature f : everything) {
            const float value = out[std::size_t(f)][i];
            if (f == Feature::points_in_radius) {
                EXPECT_EQ(value, i == 0 ? 0.0f : i < 3 ? 1.0f : 4.0f);
            } else if (f == Feature::density && (i == 1 || i == 2)) {
                EXPECT_NEAR(value, 2 / (4.0 / 3.0 * M_PI), 1e-6);  // 2 points, r = 1 m
            } else {
                EXPECT_TRUE(std::isnan(value)) << feature_name(f) << " of point " << i;
            }
        }
    }
}

TEST(ComputeFeatures, PointsInRadiusCountsOthersWithinInclusiveRadius) {
    Scene scene;
    for (int i = 0; i < 10; ++i) scene.add(i * 0.5, 0, 0, 2);  // exactly representable
    const std::array features{Feature::points_in_radius};
    const auto out = compute_all(scene.view(), features, {.k = 3, .radius = 1.0}, nullptr);
    EXPECT_EQ(out[0][0], 2.0f);  // 0.5 and 1.0 away, the latter exactly on the radius
    EXPECT_EQ(out[0][5], 4.0f);
}

// Adds far points, shuffles the order and gives every point its stable id: features of
// the original points must be bit-identical.
TEST(ComputeFeatures, InvariantToFarPointsAndToInputOrder) {
    const testing::Box boxes[] = {{10, 10, 22, 18, 6.0}};
    const Scene scene = testing::terrain_with_boxes(40, 0.7, boxes);
    const std::size_t n = scene.size();
    std::vector<std::uint64_t> ids(n);
    std::iota(ids.begin(), ids.end(), 1000);
    const GroundModel ground = testing::ground_of(scene, scene.extent());
    const auto reference = compute_all(scene.view(ids), everything, {}, &ground);

    // Reverse-interleaved order plus a far block beyond max_radius and radius.
    Scene mixed;
    std::vector<std::uint64_t> mixed_ids;
    std::vector<std::size_t> position(n);
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t i = (j * 7919) % n;  // 7919 is prime, n is not a multiple of it
        position[i] = mixed.size();
        mixed.add(scene.x[i], scene.y[i], scene.z[i], scene.cls[i]);
        mixed_ids.push_back(ids[i]);
        if (j % 3 == 0) {
            mixed.add(scene.x[i] + 200, scene.y[i], scene.z[i], 2);
            mixed_ids.push_back(j);
        }
    }
    ASSERT_EQ(std::set<std::size_t>(position.begin(), position.end()).size(), n);
    const auto shuffled = compute_all(mixed.view(mixed_ids), everything, {}, &ground);
    for (std::size_t i = 0; i < n; ++i) {
        for (const Feature f : everything) {
            ASSERT_TRUE(
                same_bits(reference[std::size_t(f)][i], shuffled[std::size_t(f)][position[i]]))
                << feature_name(f) << " of point " << i;
        }
    }
}

// A chunk computed with its halo equals the same points computed within the whole tile,
// whatever the thread count.
TEST(ComputeFeatures, ChunkWithHaloAndThreadCountDoNotMatter) {
    const testing::Box boxes[] = {{10, 10, 22, 18, 6.0}};
    const Scene scene = testing::terrain_with_boxes(40, 0.5, boxes);
    std::vector<std::uint64_t> ids(scene.size());
    std::iota(ids.begin(), ids.end(), 0);
    const GroundModel ground = testing::ground_of(scene, scene.extent());
    const auto whole = compute_all(scene.view(ids), everything, {}, &ground);

    // Chunk: x in [12, 24); halo: everything within max_radius (5 m) more.
    Scene loaded;
    std::vector<std::uint64_t> loaded_ids;
    std::vector<std::uint32_t> query;
    for (std::size_t i = 0; i < scene.size(); ++i) {
        if (scene.x[i] < 7 || scene.x[i] >= 29) continue;
        if (scene.x[i] >= 12 && scene.x[i] < 24) query.push_back(std::uint32_t(loaded.size()));
        loaded.add(scene.x[i], scene.y[i], scene.z[i], scene.cls[i]);
        loaded_ids.push_back(ids[i]);
    }
    ASSERT_GT(query.size(), 1000u);
    for (const int threads : {1, 2, 4}) {
        const tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
        const auto chunk = compute_all(loaded.view(loaded_ids), everything, {}, &ground, query);
        for (std::size_t q = 0; q < query.size(); ++q) {
            const auto i = loaded_ids[query[q]];
            for (const Feature f : everything) {
                ASSERT_TRUE(same_bits(whole[std::size_t(f)][i], chunk[std::size_t(f)][q]))
                    << feature_name(f) << " of point " << i << " with " << threads << " threads";
            }
        }
    }
}

TEST(ComputeFeatures, RejectsInconsistentArguments) {
    const Scene scene = testing::tilted_plane(2.0);
    const std::array features{Feature::planarity};
    std::vector<float> out(scene.size());
    std::vector<std::uint32_t> query(scene.size());
    std::iota(query.begin(), query.end(), 0u);
    EXPECT_NO_THROW(compute_features(scene.view(), query, features, {}, nullptr, out));
    EXPECT_THROW(compute_features(scene.view(), query, features, {.k = 0}, nullptr, out),
                 util::UsageError);
    const std::array hag{Feature::height_above_ground};
    EXPECT_THROW(compute_features(scene.view(), query, hag, {}, nullptr, out), util::UsageError);
    query.back() = std::uint32_t(scene.size());
    EXPECT_THROW(compute_features(scene.view(), query, features, {}, nullptr, out),
                 util::UsageError);
    query.pop_back();
    EXPECT_THROW(compute_features(scene.view(), query, features, {}, nullptr, out),
                 util::UsageError);
    const std::array two{Feature::planarity, Feature::linearity};
    query.push_back(0);
    EXPECT_THROW(compute_features(scene.view(), query, two, {}, nullptr, out), util::UsageError);
}

}  // namespace
}  // namespace lidarmill::features
