// The generator's contract: determinism, exact counts, valid records, a realistic class mix.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "synth_test_util.hpp"
#include "util/error.hpp"

namespace lidarmill::synth {
namespace {

using testing::decode;
using testing::Generated;
using testing::Point;
using testing::run;

SynthParams small_tile(std::uint64_t points, std::uint64_t seed = 1) {
    SynthParams p;
    p.points = points;
    p.seed = seed;
    return p;
}

// One shared 400k point tile with colours, decoded once for the record checks.
const Generated& colour_tile() {
    static const Generated g = [] {
        SynthParams p = small_tile(400'000, 7);
        p.rgb = p.nir = true;
        return run(p);
    }();
    return g;
}
const std::vector<Point>& colour_points() {
    static const std::vector<Point> points = decode(colour_tile());
    return points;
}

TEST(SynthLayout, FormatFollowsColourOptions) {
    SynthParams p = small_tile(1000);
    EXPECT_EQ(layout(p).point_format, 6);
    EXPECT_EQ(layout(p).record_length, 30);
    p.rgb = true;
    EXPECT_EQ(layout(p).point_format, 7);
    EXPECT_EQ(layout(p).record_length, 36);
    p.nir = true;
    EXPECT_EQ(layout(p).point_format, 8);
    EXPECT_EQ(layout(p).record_length, 38);
    p.rgb = false;  // nir implies rgb
    EXPECT_EQ(layout(p).point_format, 8);
}

TEST(SynthLayout, TileBoxFollowsCountDensityAndOrigin) {
    SynthParams p = small_tile(5'000'000);
    p.density = 20.0;
    p.origin_x = 712345.0;
    p.origin_y = 6543210.0;
    const TileLayout L = layout(p);
    EXPECT_NEAR(L.side, std::sqrt(5e6 / 20.0), 0.01);
    EXPECT_EQ(L.point_count, 5'000'000u);
    EXPECT_DOUBLE_EQ(L.min[0], 712345.0);
    EXPECT_DOUBLE_EQ(L.min[1], 6543210.0);
    EXPECT_NEAR(L.max[0] - L.min[0], L.side, 1e-9);
    EXPECT_NEAR(L.max[1] - L.min[1], L.side, 1e-9);
    EXPECT_LT(L.min[2], L.max[2]);
    for (int axis = 0; axis < 3; ++axis) EXPECT_DOUBLE_EQ(L.scale[axis], 0.01);
    // Coordinates must fit int32 at this scale and offset.
    EXPECT_LT(std::abs(L.max[0] - L.offset[0]) / 0.01, 2147483647.0);
    EXPECT_NE(L.wkt.find("AUTHORITY[\"EPSG\",\"2154\"]"), std::string::npos);
    EXPECT_NE(L.wkt.find("Lambert_Conformal_Conic_2SP"), std::string::npos);
}

TEST(SynthLayout, RejectsUnusableDensity) {
    SynthParams p = small_tile(1000);
    p.density = 0.0;
    EXPECT_THROW(layout(p), util::UsageError);
    p.density = std::nan("");
    EXPECT_THROW(layout(p), util::UsageError);
}

TEST(SynthGenerate, SameSeedSameBytesOtherSeedOtherBytes) {
    const Generated a = run(small_tile(150'000, 42));
    const Generated b = run(small_tile(150'000, 42));
    const Generated c = run(small_tile(150'000, 43));
    ASSERT_EQ(a.records.size(), b.records.size());
    EXPECT_TRUE(a.records == b.records);
    ASSERT_EQ(a.truth.size(), b.truth.size());
    for (std::size_t i = 0; i < a.truth.size(); ++i) {
        ASSERT_EQ(a.truth[i].label, b.truth[i].label) << i;
        ASSERT_EQ(a.truth[i].building_height, b.truth[i].building_height) << i;
    }
    EXPECT_EQ(a.batch_sizes, b.batch_sizes);
    ASSERT_EQ(a.records.size(), c.records.size());
    EXPECT_FALSE(a.records == c.records);
}

TEST(SynthGenerate, EmitsExactlyTheRequestedCountInBoundedBatches) {
    for (std::uint64_t n : {1ull, 999ull, 65536ull, 65537ull, 234'567ull}) {
        const Generated g = run(small_tile(n, n));
        EXPECT_EQ(g.truth.size(), n) << n;
        EXPECT_EQ(g.records.size(), n * g.layout.record_length) << n;
        for (std::size_t size : g.batch_sizes) {
            EXPECT_GT(size, 0u);
            EXPECT_LE(size, kMaxBatchPoints);
        }
    }
    EXPECT_TRUE(run(small_tile(0)).truth.empty());
}

TEST(SynthGenerate, RecordsAreValid) {
    const Generated& g = colour_tile();
    const auto& points = colour_points();
    ASSERT_EQ(points.size(), 400'000u);
    const TileLayout& L = g.layout;
    const std::set<int> allowed = {2, 3, 4, 5, 6, 9};
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Point& p = points[i];
        ASSERT_GE(p.return_number, 1) << i;
        ASSERT_LE(p.return_number, p.return_count) << i;
        ASSERT_LE(p.return_count, 5) << i;
        ASSERT_TRUE(allowed.count(p.classification)) << i << " class " << int(p.classification);
        ASSERT_GE(p.x, L.min[0] - 1e-6) << i;
        ASSERT_LE(p.x, L.max[0] + 1e-6) << i;
        ASSERT_GE(p.y, L.min[1] - 1e-6) << i;
        ASSERT_LE(p.y, L.max[1] + 1e-6) << i;
        ASSERT_GE(p.z, L.min[2] - 1e-6) << i;
        ASSERT_LE(p.z, L.max[2] + 1e-6) << i;
        ASSERT_EQ(p.scanner_channel(), 0) << i;
        ASSERT_EQ(p.flags & 0x0F, 0) << i;  // no synthetic/key/withheld/overlap flags
        ASSERT_EQ(p.user_data, 0) << i;
        ASSERT_LE(std::abs(p.scan_angle), 20.0 / 0.006 + 1) << i;
        ASSERT_GT(p.gps_time, 1e8) << i;
        // The label and the LAS class agree.
        switch (g.truth[i].label) {
            case TruthClass::ground:
                ASSERT_EQ(p.classification, 2) << i;
                break;
            case TruthClass::wall:  // range noise may put a wall foot a few cm underground
                ASSERT_EQ(p.classification, 6) << i;
                ASSERT_GT(g.truth[i].building_height, -0.1f) << i;
                break;
            case TruthClass::roof:
                ASSERT_EQ(p.classification, 6) << i;
                ASSERT_GT(g.truth[i].building_height, 2.0f) << i;
                break;
            case TruthClass::vegetation:
                ASSERT_TRUE(p.classification >= 3 && p.classification <= 5) << i;
                break;
            case TruthClass::water:
                ASSERT_EQ(p.classification, 9) << i;
                break;
            case TruthClass::other:
                FAIL() << "unexpected 'other' truth at " << i;
        }
        if (g.truth[i].label != TruthClass::wall && g.truth[i].label != TruthClass::roof) {
            ASSERT_EQ(g.truth[i].building_height, 0.0f) << i;
        }
    }
}

TEST(SynthGenerate, AcquisitionOrderIsStripByStripInTime) {
    const auto& points = colour_points();
    // Each strip is one contiguous run with non-decreasing GPS time; strips follow each other.
    std::vector<std::uint16_t> strip_order;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (i == 0 || points[i].source_id != points[i - 1].source_id) {
            strip_order.push_back(points[i].source_id);
        }
        if (i > 0) {
            ASSERT_GE(points[i].gps_time, points[i - 1].gps_time) << i;
        }
    }
    const std::set<std::uint16_t> distinct(strip_order.begin(), strip_order.end());
    EXPECT_EQ(distinct.size(), strip_order.size()) << "a strip was split into several runs";
    EXPECT_GE(distinct.size(), 3u);
    // Returns of one pulse share its time and come in order.
    for (std::size_t i = 1; i < points.size(); ++i) {
        if (points[i].return_number > 1 && points[i].gps_time == points[i - 1].gps_time &&
            points[i].source_id == points[i - 1].source_id) {
            ASSERT_EQ(points[i].return_number, points[i - 1].return_number + 1) << i;
            ASSERT_EQ(points[i].return_count, points[i - 1].return_count) << i;
        }
    }
}

TEST(SynthGenerate, ScanFlagsAndAnglesVary) {
    const auto& points = colour_points();
    std::size_t edges = 0, forward = 0, left = 0, right = 0;
    for (const Point& p : points) {
        edges += p.edge();
        forward += p.scan_direction();
        left += p.scan_angle < -1000;
        right += p.scan_angle > 1000;
    }
    EXPECT_GT(edges, 100u);
    EXPECT_LT(edges, points.size() / 50);
    EXPECT_GT(forward, points.size() / 3);
    EXPECT_LT(forward, points.size() * 2 / 3);
    EXPECT_GT(left, points.size() / 10);
    EXPECT_GT(right, points.size() / 10);
}

TEST(SynthGenerate, ClassMixAndMultipleReturns) {
    const Generated& g = colour_tile();
    const auto& points = colour_points();
    std::map<int, std::size_t> by_class;
    std::map<TruthClass, std::size_t> by_truth;
    for (std::size_t i = 0; i < points.size(); ++i) {
        ++by_class[points[i].classification];
        ++by_truth[g.truth[i].label];
    }
    const double n = static_cast<double>(points.size());
    EXPECT_GT(by_class[2] / n, 0.25) << "ground";
    EXPECT_GT(by_class[6] / n, 0.02) << "building";
    EXPECT_GT(by_class[5] / n, 0.05) << "high vegetation";
    EXPECT_GT(by_class[3] + by_class[4], 100u) << "low/medium vegetation";
    EXPECT_GT(by_class[9], 50u) << "water";
    EXPECT_GT(by_truth[TruthClass::roof], 1000u);
    EXPECT_GT(by_truth[TruthClass::wall], 1000u);

    // Multi-return pulses exist and their last return often reaches the ground.
    std::size_t multi_last = 0, multi_last_ground = 0, first_of_many = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Point& p = points[i];
        if (p.return_count > 1 && p.return_number == 1) ++first_of_many;
        if (p.return_count > 1 && p.return_number == p.return_count) {
            ++multi_last;
            multi_last_ground += g.truth[i].label == TruthClass::ground;
        }
    }
    EXPECT_GT(first_of_many / n, 0.015);
    EXPECT_GT(multi_last_ground, multi_last / 5);
}

TEST(SynthGenerate, StripsOverlap) {
    const auto& points = colour_points();
    const TileLayout& L = colour_tile().layout;
    // Per 5 m cell, which main strips (ids 1..3 in a small tile) saw it.
    const int n = static_cast<int>(L.side / 5.0) + 1;
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(n) * n, 0);
    for (const Point& p : points) {
        if (p.source_id > 3) continue;
        const int i = std::min(n - 1, static_cast<int>((p.x - L.min[0]) / 5.0));
        const int j = std::min(n - 1, static_cast<int>((p.y - L.min[1]) / 5.0));
        seen[static_cast<std::size_t>(j) * n + i] |=
            static_cast<std::uint8_t>(1u << (p.source_id - 1));
    }
    std::size_t covered = 0, overlapped = 0;
    for (std::uint8_t mask : seen) {
        covered += mask != 0;
        overlapped += std::popcount(mask) >= 2;
    }
    const double share = static_cast<double>(overlapped) / static_cast<double>(covered);
    EXPECT_GT(share, 0.25);
    EXPECT_LT(share, 0.6);
}

TEST(SynthGenerate, ColoursArePlausiblePerClass) {
    const Generated& g = colour_tile();
    const auto& points = colour_points();
    std::map<TruthClass, std::array<double, 5>> sums;  // r, g, b, nir, count
    for (std::size_t i = 0; i < points.size(); ++i) {
        auto& s = sums[g.truth[i].label];
        for (int c = 0; c < 4; ++c) s[c] += points[i].rgbn[c];
        s[4] += 1;
    }
    auto mean = [&](TruthClass t, int c) { return sums[t][c] / sums[t][4]; };
    EXPECT_GT(mean(TruthClass::vegetation, 1), mean(TruthClass::vegetation, 0));  // green
    EXPECT_GT(mean(TruthClass::vegetation, 3), 2 * mean(TruthClass::water, 3));   // NIR
    EXPECT_LT(mean(TruthClass::water, 0), mean(TruthClass::ground, 0));
    std::size_t zero_rgb = 0;
    for (const Point& p : points) zero_rgb += p.rgbn[0] == 0 && p.rgbn[1] == 0 && p.rgbn[2] == 0;
    EXPECT_LT(zero_rgb, points.size() / 1000);
}

TEST(SynthGenerate, IntensityDependsOnSurface) {
    const Generated& g = colour_tile();
    const auto& points = colour_points();
    std::map<TruthClass, std::pair<double, double>> sums;
    for (std::size_t i = 0; i < points.size(); ++i) {
        auto& s = sums[g.truth[i].label];
        s.first += points[i].intensity;
        s.second += 1;
    }
    auto mean = [&](TruthClass t) { return sums[t].first / sums[t].second; };
    EXPECT_LT(mean(TruthClass::water), mean(TruthClass::ground) / 2);
    EXPECT_GT(mean(TruthClass::ground), 1000.0);
}

}  // namespace
}  // namespace lidarmill::synth
