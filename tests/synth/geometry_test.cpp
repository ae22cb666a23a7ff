// The truth matches the geometry: walls are vertical planes on the buildings' sides, roofs sit
// at the modelled height above the ground, and wall points are dense enough for local normals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "synth/scene.hpp"
#include "synth_test_util.hpp"

namespace lidarmill::synth {
namespace {

using testing::decode;
using testing::Generated;
using testing::Point;

struct Fixture {
    Generated generated;
    std::vector<Point> points;
    detail::Scene scene;
    SynthParams params;
};

const Fixture& tile() {
    static const Fixture f = [] {
        Fixture fx;
        fx.params.points = 600'000;
        fx.params.seed = 3;
        fx.generated = testing::run(fx.params);
        fx.points = decode(fx.generated);
        fx.scene = detail::build_scene(fx.params.seed, fx.generated.layout.side);
        return fx;
    }();
    return f;
}

detail::Vec2 local_xy(const Fixture& f, const Point& p) {
    return {p.x - f.params.origin_x, p.y - f.params.origin_y};
}

// The building whose footprint (grown by `margin`) holds the point, or -1.
int building_at(const Fixture& f, detail::Vec2 xy, double margin) {
    for (std::size_t i = 0; i < f.scene.buildings.size(); ++i) {
        const auto& b = f.scene.buildings[i];
        const detail::Vec2 l = b.to_local(xy);
        if (std::abs(l.x) <= b.half_u + margin && std::abs(l.y) <= b.half_v + margin)
            return static_cast<int>(i);
    }
    return -1;
}

TEST(SynthGeometry, SceneHasBuildingsOfEveryRoofType) {
    const Fixture& f = tile();
    ASSERT_GE(f.scene.buildings.size(), 3u);
    int kinds[3] = {0, 0, 0};
    for (const auto& b : f.scene.buildings) ++kinds[static_cast<int>(b.roof)];
    EXPECT_GT(kinds[0], 0) << "flat";
    EXPECT_GT(kinds[1] + kinds[2], 0) << "pitched";
}

TEST(SynthGeometry, WallPointsLieOnVerticalBuildingFaces) {
    const Fixture& f = tile();
    // Wall points per (building, face), in building-local coordinates.
    std::map<std::pair<int, int>, std::vector<std::array<double, 3>>> faces;
    std::size_t walls = 0;
    for (std::size_t i = 0; i < f.points.size(); ++i) {
        if (f.generated.truth[i].label != TruthClass::wall) continue;
        ++walls;
        const Point& p = f.points[i];
        const int bi = building_at(f, local_xy(f, p), 0.15);
        ASSERT_GE(bi, 0) << "wall point off every building at " << p.x << " " << p.y;
        const auto& b = f.scene.buildings[static_cast<std::size_t>(bi)];
        const detail::Vec2 l = b.to_local(local_xy(f, p));
        const double d[4] = {std::abs(l.x - b.half_u), std::abs(l.x + b.half_u),
                             std::abs(l.y - b.half_v), std::abs(l.y + b.half_v)};
        const int face = static_cast<int>(std::min_element(d, d + 4) - d);
        ASSERT_LT(d[face], 0.15) << "wall point not on a wall plane";
        ASSERT_LE(p.z, b.roof_z(std::clamp(l.x, -b.half_u, b.half_u),
                                std::clamp(l.y, -b.half_v, b.half_v)) +
                           0.12);
        const double ground = f.scene.terrain.height(local_xy(f, p).x, local_xy(f, p).y);
        ASSERT_NEAR(f.generated.truth[i].building_height, p.z - ground, 0.05);
        faces[{bi, face}].push_back({local_xy(f, p).x, local_xy(f, p).y, p.z});
    }
    ASSERT_GT(walls, 2000u);
    // A plane fitted on each well-sampled face is vertical and thin.
    std::size_t fitted = 0;
    for (const auto& [key, pts] : faces) {
        if (pts.size() < 50) continue;
        double rms = 0;
        const auto n = testing::fit_normal(pts, &rms);
        EXPECT_LT(std::abs(n[2]), 0.02) << "building " << key.first << " face " << key.second;
        EXPECT_LT(rms, 0.05) << "building " << key.first << " face " << key.second;
        ++fitted;
    }
    EXPECT_GE(fitted, 8u);
}

TEST(SynthGeometry, RoofPointsSitOnTheRoofAtTheirTrueHeight) {
    const Fixture& f = tile();
    std::size_t roofs = 0;
    double max_height = 0;
    for (std::size_t i = 0; i < f.points.size(); ++i) {
        if (f.generated.truth[i].label != TruthClass::roof) continue;
        ++roofs;
        const Point& p = f.points[i];
        const detail::Vec2 xy = local_xy(f, p);
        const int bi = building_at(f, xy, 0.1);
        ASSERT_GE(bi, 0);
        const auto& b = f.scene.buildings[static_cast<std::size_t>(bi)];
        const detail::Vec2 l = b.to_local(xy);
        const double roof =
            b.roof_z(std::clamp(l.x, -b.half_u, b.half_u), std::clamp(l.y, -b.half_v, b.half_v));
        ASSERT_NEAR(p.z, roof, 0.15) << "roof point off its roof";
        const double ground = f.scene.terrain.height(xy.x, xy.y);
        const float height = f.generated.truth[i].building_height;
        ASSERT_NEAR(height, p.z - ground, 0.05);
        ASSERT_GT(height, 3.0f) << "a roof at least one storey above the ground";
        max_height = std::max<double>(max_height, height);
    }
    EXPECT_GT(roofs, 2000u);
    EXPECT_GT(max_height, 8.0);
    EXPECT_LT(max_height, 45.0);
}

TEST(SynthGeometry, GroundAndWaterPointsFollowTheSurface) {
    const Fixture& f = tile();
    for (std::size_t i = 0; i < f.points.size(); ++i) {
        const TruthClass label = f.generated.truth[i].label;
        const detail::Vec2 xy = local_xy(f, f.points[i]);
        if (label == TruthClass::ground) {
            ASSERT_NEAR(f.points[i].z, f.scene.terrain.height(xy.x, xy.y), 0.12) << i;
            ASSERT_LT(building_at(f, xy, -0.1), 0) << "ground point inside a building footprint";
        } else if (label == TruthClass::water) {
            const auto& river = f.scene.terrain.river();
            ASSERT_LT(river.distance(xy.x, xy.y), river.half_width + 0.05) << i;
            ASSERT_NEAR(f.points[i].z, f.scene.terrain.river().level(xy.x, xy.y), 0.15) << i;
        }
    }
}

// Verticality 1 - |n_z| from the 20 nearest neighbours over the whole cloud, as a feature
// extractor would compute it: walls must be sampled densely enough to look vertical.
TEST(SynthGeometry, WallPointsHaveHorizontalNormalsWithTwentyNeighbours) {
    const Fixture& f = tile();
    constexpr double cell = 1.0;
    auto key = [&](double x, double y, double z) {
        const auto ix = static_cast<std::int64_t>(std::floor(x / cell));
        const auto iy = static_cast<std::int64_t>(std::floor(y / cell));
        const auto iz = static_cast<std::int64_t>(std::floor(z / cell));
        return (ix * 73856093) ^ (iy * 19349663) ^ (iz * 83492791);
    };
    std::unordered_map<std::int64_t, std::vector<std::uint32_t>> grid;
    for (std::uint32_t i = 0; i < f.points.size(); ++i) {
        grid[key(f.points[i].x, f.points[i].y, f.points[i].z)].push_back(i);
    }
    std::size_t walls = 0, vertical = 0;
    std::vector<std::pair<double, std::uint32_t>> near;
    for (std::uint32_t i = 0; i < f.points.size(); ++i) {
        if (f.generated.truth[i].label != TruthClass::wall) continue;
        const Point& p = f.points[i];
        near.clear();
        for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const auto it =
                        grid.find(key(p.x + dx * cell, p.y + dy * cell, p.z + dz * cell));
                    if (it == grid.end()) continue;
                    for (std::uint32_t j : it->second) {
                        const Point& q = f.points[j];
                        const double d2 = (q.x - p.x) * (q.x - p.x) + (q.y - p.y) * (q.y - p.y) +
                                          (q.z - p.z) * (q.z - p.z);
                        near.push_back({d2, j});
                    }
                }
        ++walls;
        if (near.size() < 20) continue;  // too sparse for a 1 m search: counts as not vertical
        std::partial_sort(near.begin(), near.begin() + 20, near.end());
        std::vector<std::array<double, 3>> pts;
        for (int k = 0; k < 20; ++k) {
            const Point& q = f.points[near[static_cast<std::size_t>(k)].second];
            pts.push_back({q.x - p.x, q.y - p.y, q.z - p.z});
        }
        const auto n = testing::fit_normal(pts);
        vertical += 1.0 - std::abs(n[2]) > 0.9;
    }
    ASSERT_GT(walls, 1000u);
    const double share = static_cast<double>(vertical) / static_cast<double>(walls);
    RecordProperty("vertical_wall_share", std::to_string(share));
    EXPECT_GE(share, 0.9);
}

}  // namespace
}  // namespace lidarmill::synth
