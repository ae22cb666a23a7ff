// Synthetic tile generation speed: records and truth streamed to a sink that only touches them.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "synth/synth.hpp"

namespace {

void BM_SynthGenerate(benchmark::State& state) {
    lidarmill::synth::SynthParams params;
    params.points = static_cast<std::uint64_t>(state.range(0));
    params.rgb = state.range(1) != 0;
    params.nir = state.range(1) != 0;
    for (auto _ : state) {
        std::uint64_t checksum = 0;
        lidarmill::synth::generate(params,
                                   [&](std::span<const std::uint8_t> records,
                                       std::span<const lidarmill::synth::TruthRecord> truth) {
                                       checksum += records.size() + records.front() + truth.size();
                                   });
        benchmark::DoNotOptimize(checksum);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SynthGenerate)
    ->Args({1'000'000, 0})
    ->Args({5'000'000, 0})
    ->Args({5'000'000, 1})
    ->Args({20'000'000, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
