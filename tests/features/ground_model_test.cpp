#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "features/ground_model.hpp"
#include "util/error.hpp"

namespace lidarmill::features {
namespace {

double slope(double x, double y) {
    return 0.1 * x - 0.05 * y + 50.0;
}

// Four ground points per 1 m cell, placed symmetrically about the cell centre, so that the
// cell mean is the plane's value at the centre and bilinear reading is exact for a plane.
GroundModelBuilder sloped_ground(const XyExtent& extent, double hole_x0 = 0, double hole_x1 = 0) {
    GroundModelBuilder builder(extent);
    for (double cy = extent.min_y - 0.5; cy < extent.max_y + 1; cy += 1) {
        for (double cx = extent.min_x - 0.5; cx < extent.max_x + 1; cx += 1) {
            if (cx > hole_x0 && cx < hole_x1 && cy > hole_x0 && cy < hole_x1) continue;
            for (const double dx : {-0.25, 0.25}) {
                for (const double dy : {-0.25, 0.25}) {
                    builder.add(cx + dx, cy + dy, slope(cx + dx, cy + dy));
                }
            }
        }
    }
    return builder;
}

TEST(GroundModel, ReproducesASlopedPlaneExactly) {
    const XyExtent extent{0, 0, 40, 30};
    auto builder = sloped_ground(extent);
    EXPECT_EQ(builder.ignored_count(), 0u);
    const GroundModel ground = builder.build();
    for (double y = 0; y <= 30; y += 0.37) {
        for (double x = 0; x <= 40; x += 0.41) {
            ASSERT_NEAR(ground.height_at(x, y), slope(x, y), 1e-9) << x << ", " << y;
        }
    }
}

TEST(GroundModel, FillsHolesFromTheSurroundingGround) {
    // A 12 m building footprint without ground: the fill follows the slope, not a constant.
    const GroundModel ground = sloped_ground({0, 0, 40, 40}, 14, 26).build();
    double worst = 0;
    for (double y = 14; y <= 26; y += 0.5) {
        for (double x = 14; x <= 26; x += 0.5) {
            const double h = ground.height_at(x, y);
            ASSERT_FALSE(std::isnan(h));
            worst = std::max(worst, std::abs(h - slope(x, y)));
        }
    }
    EXPECT_LT(worst, 0.3);
    EXPECT_GT(ground.height_at(25, 20) - ground.height_at(15, 20), 0.5);  // slope 0.1 kept
}

TEST(GroundModel, NoGroundWithinReachIsNoData) {
    GroundParams params;
    params.fill_reach = 10;
    GroundModelBuilder builder({0, 0, 100, 10}, params);
    for (double x = 0; x < 5; x += 0.5) builder.add(x, 5, 3.0);
    const GroundModel ground = builder.build();
    EXPECT_NEAR(ground.height_at(2, 5), 3.0, 1e-12);
    EXPECT_NEAR(ground.height_at(12, 5), 3.0, 1e-12);
    EXPECT_TRUE(std::isnan(ground.height_at(30, 5)));
    EXPECT_TRUE(std::isnan(ground.height_at(95, 5)));
    EXPECT_TRUE(std::isnan(GroundModel().height_at(0, 0)));
    EXPECT_TRUE(std::isnan(GroundModelBuilder({0, 0, 10, 10}).build().height_at(5, 5)));
}

TEST(GroundModel, IgnoresPointsOutsideTheExtentAndRejectsBadGrids) {
    GroundModelBuilder builder({0, 0, 10, 10});
    builder.add(10.5, 10.5, 1.0);  // inside the one-cell margin
    builder.add(-5, 5, 1.0);
    builder.add(5, 5, std::nan(""));
    EXPECT_EQ(builder.added_count(), 1u);
    EXPECT_EQ(builder.ignored_count(), 2u);
    EXPECT_THROW(GroundModelBuilder({0, 0, 10, 10}, {.cell_size = 0}), util::UsageError);
    // 10^10 cells across: beyond the 2^31 that blocks are keyed by.
    EXPECT_THROW(GroundModelBuilder({0, 0, 1e6, 1e6}, {.cell_size = 1e-4}), util::UsageError);
}

// The fill must give exactly what walking the 8 rays from every empty cell gives, also
// across the blocks the grid is stored in (64 x 64 cells) and the windows filled in
// parallel (256 x 512 cells). Ground lies where `ground_at(col, row)` (clustered: big holes,
// isolated cells, empty borders, empty blocks).
template <typename GroundAt>
void expect_fill_equals_ray_walk(std::size_t columns, std::size_t rows, double reach,
                                 GroundAt&& ground_at) {
    GroundParams params{.cell_size = 1.0, .fill_reach = reach};
    GroundModelBuilder builder({0, 0, double(columns) - 3, double(rows) - 3}, params);
    ASSERT_EQ(builder.build().columns(), columns);
    std::vector<double> measured(columns * rows, std::nan(""));
    std::uint32_t state = 12345;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    for (std::size_t row = 0; row < rows; ++row) {
        for (std::size_t col = 0; col < columns; ++col) {
            if (next() % 1000 >= ground_at(col, row)) continue;
            const double z = 100.0 + (next() % 10000) / 97.0;
            // Cells are offset by one (the margin): cell (c, r) spans [c - 1, c) x [r - 1, r).
            builder.add(double(col) - 0.5, double(row) - 0.5, z);
            measured[row * columns + col] = z;
        }
    }
    const GroundModel ground = builder.build();
    ASSERT_EQ(ground.rows(), rows);
    const int rays[8][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {1, -1}, {-1, 1}, {-1, -1}};
    std::size_t filled = 0, unfilled = 0;
    for (std::ptrdiff_t row = 0; row < std::ptrdiff_t(rows); ++row) {
        for (std::ptrdiff_t col = 0; col < std::ptrdiff_t(columns); ++col) {
            double want = measured[row * columns + col];
            if (std::isnan(want)) {
                double weighted = 0, weight = 0;
                for (const auto& [dc, dr] : rays) {
                    const double length = dc && dr ? std::sqrt(2.0) : 1.0;
                    for (std::ptrdiff_t step = 1; step * length <= params.fill_reach; ++step) {
                        const std::ptrdiff_t c = col + step * dc, r = row + step * dr;
                        if (c < 0 || r < 0 || c >= std::ptrdiff_t(columns) ||
                            r >= std::ptrdiff_t(rows)) {
                            break;
                        }
                        const double value = measured[r * columns + c];
                        if (std::isnan(value)) continue;
                        weighted += value / (double(step) * length);
                        weight += 1.0 / (double(step) * length);
                        break;
                    }
                }
                if (weight > 0) want = weighted / weight;
                ++(weight > 0 ? filled : unfilled);
            }
            const double got = ground.cell_value(std::size_t(col), std::size_t(row));
            if (std::isnan(want)) {
                ASSERT_TRUE(std::isnan(got)) << col << ", " << row;
            } else {
                ASSERT_NEAR(got, want, 1e-12 * std::abs(want)) << col << ", " << row;
            }
        }
    }
    EXPECT_GT(filled, 1000u);
    EXPECT_GT(unfilled, 10u);
}

TEST(GroundModel, FillEqualsAWalkAlongEightRays) {
    expect_fill_equals_ray_walk(97, 211, 9.5, [](std::size_t col, std::size_t row) {
        return (col / 16 + row / 12) % 3 == 0 ? 700u : 30u;
    });
}

// Several windows each way, and a band of columns far from any ground, whose blocks are not
// stored at all.
TEST(GroundModel, FillEqualsAWalkAlongEightRaysAcrossBlocks) {
    constexpr std::size_t columns = 1800, rows = 600;
    expect_fill_equals_ray_walk(columns, rows, 30, [](std::size_t col, std::size_t row) {
        if (col >= 500 && col < 1300) return 0u;
        return (col / 40 + row / 30) % 3 == 0 ? 700u : 5u;
    });
    GroundModelBuilder builder({0, 0, double(columns) - 3, double(rows) - 3});
    builder.add(10, 10, 1.0);
    EXPECT_EQ(builder.build().stored_cells(), detail::kGroundBlockCells);
}

// One stray ground point kilometres away makes a bounding box of billions of cells; the
// model stores only the blocks around the ground, and reads each place correctly.
TEST(GroundModel, FarApartGroundCostsBlocksNotTheBoundingBox) {
    GroundModelBuilder builder({0, 0, 60000, 60000});
    for (double y = 0.25; y < 100; y += 0.5) {
        for (double x = 0.25; x < 100; x += 0.5) builder.add(x, y, slope(x, y));
    }
    builder.add(59990.5, 59990.5, 321.0);
    const GroundModel ground = builder.build();
    EXPECT_EQ(ground.columns(), 60003u);
    // The ground's 100 m x 100 m and the fill reach around it, the stray point's reach.
    EXPECT_LE(ground.stored_cells(), 16 * detail::kGroundBlockCells);
    EXPECT_NEAR(ground.height_at(50.5, 40.5), slope(50.5, 40.5), 1e-9);
    EXPECT_NEAR(ground.height_at(59991, 59991), 321.0, 1e-9);
    EXPECT_NEAR(ground.height_at(59995.5, 59990.5), 321.0, 1e-9);  // filled from it
    EXPECT_TRUE(std::isnan(ground.height_at(30000, 30000)));
    EXPECT_TRUE(std::isnan(ground.height_at(59900, 59990)));  // beyond the fill reach
}

// The memory plan of such a tile follows where its ground is; and for ground anywhere it
// never plans less than the model built from it holds.
TEST(GroundModel, CoveragePlansTheBlocksTheGroundNeeds) {
    const XyExtent far_apart{0, 0, 60000, 60000};
    GroundCoverage stray(-7.3, 12.9, {});  // squares need not align with the model's blocks
    for (double y = 0.25; y < 100; y += 0.5) {
        for (double x = 0.25; x < 100; x += 0.5) stray.add(x, y);
    }
    stray.add(59990.5, 59990.5);
    EXPECT_GT(ground_model_bytes(far_apart, {}, 2), std::uint64_t{40} << 30);
    EXPECT_LT(stray.model_bytes(far_apart, 2), std::uint64_t{64} << 20);

    // A ragged patch of ground in a 2 km tile: the plan covers the model's blocks.
    const XyExtent tile{0, 0, 2000, 2000};
    GroundCoverage patch(0, 0, {});
    GroundModelBuilder builder(tile);
    for (double y = 300; y < 900; y += 0.7) {
        for (double x = 500 + 0.1 * y; x < 700 + 0.2 * y; x += 0.7) {
            patch.add(x, y);
            builder.add(x, y, 10);
        }
    }
    const GroundModel model = builder.build();
    const std::uint64_t planned = patch.model_bytes(tile, 2);
    EXPECT_GE(planned, model.stored_cells() * sizeof(double));
    EXPECT_LE(planned, ground_model_bytes(tile, {}, 2));
}

}  // namespace
}  // namespace lidarmill::features
