// The grid k-NN must return exactly the brute-force answer under the total order
// (squared distance, x, y, z, id), including ties, duplicates, limits and odd shapes.
#include "features/grid_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace lidarmill::features::detail {
namespace {

using testing::Scene;

std::vector<std::uint64_t> brute_force(const Scene& s, std::span<const std::uint64_t> ids,
                                       std::size_t q, double limit, std::size_t k) {
    struct Candidate {
        double d2, x, y, z;
        std::uint64_t id;
    };
    std::vector<Candidate> all;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double dx = s.x[i] - s.x[q], dy = s.y[i] - s.y[q], dz = s.z[i] - s.z[q];
        const double d2 = dx * dx + dy * dy + dz * dz;
        if (d2 <= limit) all.push_back({d2, s.x[i], s.y[i], s.z[i], ids[i]});
    }
    std::ranges::sort(all, {},
                      [](const Candidate& c) { return std::tie(c.d2, c.x, c.y, c.z, c.id); });
    std::vector<std::uint64_t> result;
    for (std::size_t i = 0; i < std::min(k, all.size()); ++i) result.push_back(all[i].id);
    return result;
}

// Queries every `query_step`-th point, and the last `always_last` points.
void expect_exact(const Scene& scene, double limit, std::size_t k, double points_per_cell,
                  double max_cell_size = std::numeric_limits<double>::infinity(),
                  std::size_t query_step = 1, std::size_t always_last = 0) {
    std::vector<std::uint64_t> ids(scene.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = (i * 2654435761u) % 1000003;  // scrambled
    const GridIndex index(scene.view(ids), points_per_cell, max_cell_size);
    NeighbourBuffer scratch;
    double hint = 0;
    for (std::size_t q = 0; q < scene.size(); ++q) {
        if (q % query_step != 0 && q + always_last < scene.size()) continue;
        // A hint from an unrelated point (or a silly one) must not change the answer.
        if (q % 7 == 0) hint = 1e-9;
        if (q % 11 == 0) hint = 1e9;
        const PackedPoint& point = index.points()[index.position(q)];
        ASSERT_EQ(index.id(index.position(q)), ids[q]);
        std::vector<std::uint64_t> got;
        for (const auto& n : index.nearest(point, limit, k, scratch, hint)) {
            got.push_back(index.id(n.index));
        }
        auto want = brute_force(scene, ids, q, limit, k);
        std::ranges::sort(got);
        std::ranges::sort(want);
        ASSERT_EQ(got, want) << "query " << q;
        std::size_t within = 0;
        for (std::size_t i = 0; i < scene.size(); ++i) {
            const double dx = scene.x[i] - scene.x[q], dy = scene.y[i] - scene.y[q],
                         dz = scene.z[i] - scene.z[q];
            within += dx * dx + dy * dy + dz * dz <= limit;
        }
        ASSERT_EQ(index.count_within(point, limit), within) << "query " << q;
    }
}

TEST(GridIndex, MatchesBruteForceOnQuantisedCloudWithManyTies) {
    // Centimetre-quantised coordinates on a lattice: equal distances are everywhere.
    Scene scene;
    std::mt19937 engine(5);
    for (int i = 0; i < 1500; ++i) {
        scene.add((engine() % 400) * 0.05, (engine() % 300) * 0.05, (engine() % 5) * 0.25, 2);
    }
    for (int i = 0; i < 6; ++i) scene.add(3.0, 3.0, 0.5, 2);  // duplicates
    expect_exact(scene, 25.0, 20, 8);
    expect_exact(scene, 0.3, 20, 3);
    expect_exact(scene, 4.0, 7, 50);
    expect_exact(scene, 4.0, 20, 13, 0.4);  // cells capped well below the limit
}

TEST(GridIndex, MatchesBruteForceOnStripsColumnsAndIsolatedPoints) {
    Scene strip;  // all on one line: zero-area bounding box
    for (int i = 0; i < 300; ++i) strip.add(i * 0.37, 0, 0, 2);
    expect_exact(strip, 25.0, 20, 8);
    Scene column;  // a tree trunk: many points in one xy cell
    for (int i = 0; i < 200; ++i) column.add(5 + (i % 3) * 0.01, 5, i * 0.1, 2);
    for (int i = 0; i < 100; ++i) column.add(i * 0.5, 0, 0, 2);
    column.add(1000, 1000, 0, 2);  // far outlier stretches the grid
    expect_exact(column, 25.0, 20, 8);
    Scene tower;  // more points in one cell than a linear slab count covers
    for (int i = 0; i < 700; ++i) tower.add(2 + (i % 5) * 0.01, 2 + (i % 7) * 0.01, i * 0.05, 2);
    for (int i = 0; i < 60; ++i) tower.add(i * 0.3, 0, 0, 2);
    expect_exact(tower, 1.0, 20, 8);
    expect_exact(tower, 25.0, 20, 8);
    Scene single;
    single.add(1, 2, 3, 2);
    expect_exact(single, 25.0, 20, 8);
}

// Enough points for the grid to leave a few strays out of its box (clamped into border
// cells): answers stay exact for them, for their neighbours and near the box's edges.
TEST(GridIndex, MatchesBruteForceWithStraysKilometresAway) {
    Scene scene;
    std::mt19937 engine(11);
    std::uniform_real_distribution<double> across(0.0, 120.0), up(0.0, 3.0);
    for (int i = 0; i < 20000; ++i) scene.add(across(engine), across(engine), up(engine), 2);
    scene.add(40000, 55000, 1, 2);  // far above and right
    scene.add(40001, 55000, 1, 2);  // and its only neighbour
    scene.add(-30000, 60, 2, 2);    // far left, level with the others
    scene.add(60, -25000, 2, 2);    // far below
    scene.add(121, 60, 2, 2);       // just right of the box: clamped into its border cells
    scene.add(125, 60, 2, 2);
    const double no_cap = std::numeric_limits<double>::infinity();
    expect_exact(scene, 25.0, 20, 8, no_cap, 11, 6);
    expect_exact(scene, 4.0, 7, 13, no_cap, 11, 6);
}

TEST(GridIndex, MatchesBruteForceWhereHeightsAreFinerThanFloat) {
    // Cells find their z slab on float keys of the heights. Far from the first point's
    // height, where a float step is a metre, millimetre heights share keys: the slabs
    // must still hold every point within reach.
    Scene scene;
    scene.add(0, 0, 0, 2);
    std::mt19937 engine(11);
    for (int i = 0; i < 1200; ++i) {
        scene.add((engine() % 200) * 0.1, (engine() % 200) * 0.1, 1e7 + (engine() % 3000) * 1e-3,
                  2);
    }
    for (int i = 0; i < 400; ++i) scene.add(5 + (i % 3) * 0.01, 5, 1e7 + i * 1e-3, 2);
    expect_exact(scene, 0.01, 20, 8);
    expect_exact(scene, 4.0, 20, 8);
}

TEST(GridIndex, MatchesBruteForceWhereDistancesAreDenormalOrCrowded) {
    // Squared distances a few denormals apart: too close to bucket by value.
    Scene specks;
    for (int i = 0; i < 60; ++i) specks.add(i * 1e-162, 0, 0, 2);
    expect_exact(specks, 25.0, 20, 8);
    // A ring of points at one distance around a dense core, and far points: the k-th
    // distance sits in a crowded bucket that must be split again.
    Scene ring;
    std::mt19937 engine(9);
    for (int i = 0; i < 400; ++i) {
        const double angle = i * 0.0157;
        ring.add(10 + std::cos(angle), 10 + std::sin(angle), 0, 2);
        ring.add(10 + (engine() % 1000) * 1e-5, 10 + (engine() % 1000) * 1e-5, 0, 2);
    }
    for (int i = 0; i < 50; ++i) ring.add(10 + i * 0.08, 14, 0, 2);
    expect_exact(ring, 25.0, 30, 8);
    expect_exact(ring, 25.0, 420, 8);
}

}  // namespace
}  // namespace lidarmill::features::detail
