// Throughput of the feature core (points/s) in core mode on 1 M synthetic terrain points
// with buildings and vegetation, ~10 points/m^2, as an airborne tile chunk would be.
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "features/compute.hpp"
#include "features/ground_model.hpp"

namespace {

using namespace lidarmill::features;

struct Terrain {
    std::vector<double> x, y, z;
    std::vector<std::uint64_t> ids;
    std::vector<bool> ground;
    double side = 0;
};

const Terrain& terrain() {
    static const Terrain t = [] {
        Terrain t;
        constexpr std::size_t count = 1'000'000;
        t.side = std::sqrt(count / 10.0);
        std::mt19937_64 engine(42);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (std::size_t i = 0; i < count; ++i) {
            const double px = unit(engine) * t.side, py = unit(engine) * t.side;
            double pz =
                20.0 + 5.0 * std::sin(px / 40.0) + 3.0 * std::cos(py / 25.0) + 0.05 * unit(engine);
            bool is_ground = true;
            // 20 m blocks: one in four holds a 9 m building, one in four trees.
            const int block = (static_cast<int>(px / 20) * 7 + static_cast<int>(py / 20)) % 4;
            if (block == 0) {
                pz += 9.0;
                is_ground = false;
            } else if (block == 1 && unit(engine) < 0.5) {
                pz += 15.0 * unit(engine);
                is_ground = false;
            }
            t.x.push_back(px);
            t.y.push_back(py);
            t.z.push_back(pz);
            t.ids.push_back(i);
            t.ground.push_back(is_ground);
        }
        return t;
    }();
    return t;
}

GroundModel ground_model(const Terrain& t) {
    GroundModelBuilder builder({0, 0, t.side, t.side});
    for (std::size_t i = 0; i < t.x.size(); ++i) {
        if (t.ground[i]) builder.add(t.x[i], t.y[i], t.z[i]);
    }
    return builder.build();
}

// state.range(0): worker threads, 0 = all cores. With one thread, items_per_second is
// per core and measured on CPU time, so it is little disturbed by other processes.
void BM_ComputeFeaturesCore(benchmark::State& state) {
    const Terrain& t = terrain();
    const GroundModel ground = ground_model(t);
    const auto features = features_for_mode("core");
    std::vector<std::uint32_t> query(t.x.size());
    for (std::uint32_t i = 0; i < query.size(); ++i) query[i] = i;
    std::vector<float> rows(features.size() * query.size());
    const PointCloudView cloud{t.x, t.y, t.z, t.ids};
    std::optional<tbb::global_control> limit;
    if (state.range(0) > 0) {
        limit.emplace(tbb::global_control::max_allowed_parallelism,
                      static_cast<std::size_t>(state.range(0)));
    }
    for (auto _ : state) {
        compute_features(cloud, query, features, {}, &ground, rows);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * query.size()));
}
BENCHMARK(BM_ComputeFeaturesCore)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ComputeFeaturesCore)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GroundModelBuild(benchmark::State& state) {
    const Terrain& t = terrain();
    for (auto _ : state) benchmark::DoNotOptimize(ground_model(t));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * t.x.size()));
}
BENCHMARK(BM_GroundModelBuild)->Unit(benchmark::kMillisecond)->UseRealTime();

// A sparse tile (real7_2m: 0.2 points/m^2 over 3 km x 3 km): most 1 m ground cells are
// holes, and filling them is the ground model's work. 1 km x 1 km, ground in 5 % of the
// cells; one thread, CPU time.
void BM_GroundModelSparseFill(benchmark::State& state) {
    static const std::vector<std::array<double, 3>> ground = [] {
        std::vector<std::array<double, 3>> points;
        std::mt19937_64 engine(7);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int i = 0; i < 50'000; ++i) {
            const double x = unit(engine) * 1000, y = unit(engine) * 1000;
            points.push_back({x, y, 100 + 0.01 * x + 0.02 * y});
        }
        return points;
    }();
    tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    for (auto _ : state) {
        GroundModelBuilder builder({0, 0, 1000, 1000});
        for (const auto& [x, y, z] : ground) builder.add(x, y, z);
        benchmark::DoNotOptimize(builder.build());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1'000'000));
}
BENCHMARK(BM_GroundModelSparseFill)->Unit(benchmark::kMillisecond);

}  // namespace
