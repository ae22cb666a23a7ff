// LAZ decode/encode throughput on the shared benchmark files (skipped when absent).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "laz/chunk_codec.hpp"
#include "laz/laz_reader.hpp"
#include "laz/laz_writer.hpp"
#include "util/bytes.hpp"
#include "util/file.hpp"

namespace {

using namespace lidarmill;

std::filesystem::path data_dir() {
    return LIDARMILL_SHARED_DATA;
}

// Just enough of the LAS header to find the point data and the LASzip VLR.
struct LazInput {
    laz::LazPointData data;
    bool ok = false;
};

LazInput parse_laz(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> head(64 * 1024);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    LazInput result;
    if (head.size() < 227) return result;
    const std::uint8_t* p = head.data();
    const auto header_size = util::load_le<std::uint16_t>(p + 94);
    const auto vlr_count = util::load_le<std::uint32_t>(p + 100);
    std::uint64_t count = util::load_le<std::uint32_t>(p + 107);
    if (p[25] >= 4 && head.size() >= 255) {
        const auto count64 = util::load_le<std::uint64_t>(p + 247);
        if (count64) count = count64;
    }
    std::size_t at = header_size;
    for (std::uint32_t i = 0; i < vlr_count && at + 54 <= head.size(); ++i) {
        const auto length = util::load_le<std::uint16_t>(p + at + 20);
        if (util::load_fixed_string(p + at + 2, 16) == "laszip encoded" &&
            at + 54 + length <= head.size()) {
            result.data = {util::load_le<std::uint32_t>(p + 96),
                           std::filesystem::file_size(path),
                           count,
                           static_cast<std::uint8_t>(p[104] & 0x3F),
                           util::load_le<std::uint16_t>(p + 105),
                           laz::LaszipVlr::parse(std::span(p + at + 54, length), path.string())};
            result.ok = true;
        }
        at += 54 + length;
    }
    return result;
}

std::vector<std::uint8_t> decode_all(const std::filesystem::path& path, const LazInput& input,
                                     unsigned threads) {
    auto file = std::make_shared<util::File>(path, util::File::Mode::read);
    auto reader = laz::make_laz_record_reader(file, input.data, threads);
    std::vector<std::uint8_t> records(input.data.point_count * input.data.record_length);
    std::size_t got = 0;
    while (std::size_t n = reader->read(std::span(records).subspan(got * input.data.record_length)))
        got += n;
    records.resize(got * input.data.record_length);
    return records;
}

void BM_LazDecode(benchmark::State& state, const std::string& name) {
    const auto path = data_dir() / name;
    if (!std::filesystem::exists(path)) {
        state.SkipWithError(("benchmark file absent: " + path.string()).c_str());
        return;
    }
    const LazInput input = parse_laz(path);
    if (!input.ok) {
        state.SkipWithError("no LASzip VLR");
        return;
    }
    const auto threads = static_cast<unsigned>(state.range(0));
    std::uint64_t points = 0;
    for (auto _ : state) {
        auto records = decode_all(path, input, threads);
        points += records.size() / input.data.record_length;
        benchmark::DoNotOptimize(records.data());
    }
    state.counters["points/s"] =
        benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
}

void BM_LazEncode(benchmark::State& state, const std::string& name) {
    const auto path = data_dir() / name;
    if (!std::filesystem::exists(path)) {
        state.SkipWithError(("benchmark file absent: " + path.string()).c_str());
        return;
    }
    const LazInput input = parse_laz(path);
    if (!input.ok) {
        state.SkipWithError("no LASzip VLR");
        return;
    }
    const auto records = decode_all(path, input, 0);
    const auto threads = static_cast<unsigned>(state.range(0));
    const auto out_path = std::filesystem::temp_directory_path() / "lidarmill_laz_bench.laz";
    std::uint64_t points = 0;
    for (auto _ : state) {
        util::File out(out_path, util::File::Mode::write);
        auto writer =
            laz::make_laz_record_writer(out, input.data.point_format, input.data.record_length,
                                        laz::kDefaultChunkSize, threads);
        writer->write(records);
        writer->finish();
        points += records.size() / input.data.record_length;
    }
    std::filesystem::remove(out_path);
    state.counters["points/s"] =
        benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_LazDecode, lonestar4_2m, std::string("bench/lonestar4_2m.laz"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LazDecode, real7_2m, std::string("bench/real7_2m.laz"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LazDecode, legacy_lone_star_pf1, std::string("legacy/lone-star.laz"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LazEncode, lonestar4_2m, std::string("bench/lonestar4_2m.laz"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LazEncode, legacy_lone_star_pf1, std::string("legacy/lone-star.laz"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
