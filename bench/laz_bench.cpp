// LAZ decode/encode throughput.
//
// BM_ChunkDecode / BM_ChunkEncode: the chunk codec alone, one thread, all compressed bytes
// in memory (no file I/O, no reader pipeline); rates are per CPU second so that a busy
// machine disturbs them less. BM_LazDecode / BM_LazEncode: the parallel file reader and
// writer, wall time, 1 and 2 threads.
//
// BM_Byte14Encode: the BYTE14 item encoder alone on 50,000 in-memory records of 48 extra
// bytes (what `enrich` appends), reported as time per encoded symbol (one per byte).
//
// Inputs: the shared benchmark files, plus synthetic tiles s6.laz / s8.laz in
// $LIDARMILL_BENCH_TILES (default /tmp/lidarmill-bench; bench/laz_bench.sh writes them).
// Absent inputs are reported as skipped. $LIDARMILL_BENCH_MAX_CHUNKS limits the chunk
// benchmarks to the first N chunks (for valgrind runs).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "laz/chunk_codec.hpp"
#include "laz/layered_items.hpp"
#include "laz/laz_reader.hpp"
#include "laz/laz_writer.hpp"
#include "util/bytes.hpp"
#include "util/file.hpp"

namespace {

using namespace lidarmill;

std::filesystem::path data_dir() {
    return LIDARMILL_SHARED_DATA;
}

std::filesystem::path tiles_dir() {
    const char* dir = std::getenv("LIDARMILL_BENCH_TILES");
    return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path("/tmp/lidarmill-bench");
}

std::size_t max_chunks() {
    const char* limit = std::getenv("LIDARMILL_BENCH_MAX_CHUNKS");
    const long long parsed = limit ? std::atoll(limit) : 0;
    return parsed > 0 ? static_cast<std::size_t>(parsed) : static_cast<std::size_t>(-1);
}

// A benchmark input: relative names live in the shared data folder, "tile:" names in
// the synthetic tile folder.
std::filesystem::path input_path(const std::string& name) {
    constexpr std::string_view kTile = "tile:";
    if (name.starts_with(kTile)) return tiles_dir() / name.substr(kTile.size());
    return data_dir() / name;
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

// Opens a benchmark input or tells the benchmark why it is skipped.
bool open_input(benchmark::State& state, const std::string& name, LazInput& input) {
    const auto path = input_path(name);
    if (!std::filesystem::exists(path)) {
        state.SkipWithError(("benchmark file absent: " + path.string()).c_str());
        return false;
    }
    input = parse_laz(path);
    if (!input.ok) {
        state.SkipWithError(("no LASzip VLR: " + path.string()).c_str());
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- chunk codec level

// The compressed chunks of one file held in memory, and what they decode to.
struct ChunkSet {
    LazInput input;
    std::vector<std::vector<std::uint8_t>> compressed;
    std::vector<std::size_t> points;
    std::size_t total_points = 0;
};

ChunkSet load_chunks(const std::filesystem::path& path, const LazInput& input) {
    ChunkSet set{input, {}, {}, 0};
    const util::File file(path, util::File::Mode::read);
    const laz::ChunkTable table = laz::read_chunk_table(file, input.data);
    const std::size_t limit = std::min(max_chunks(), table.chunks.size());
    for (std::size_t i = 0; i < limit; ++i) {
        const auto& chunk = table.chunks[i];
        std::vector<std::uint8_t> bytes(chunk.byte_count);
        file.pread_exact(chunk.offset, bytes, "chunk");
        set.compressed.push_back(std::move(bytes));
        set.points.push_back(static_cast<std::size_t>(chunk.point_count));
        set.total_points += static_cast<std::size_t>(chunk.point_count);
    }
    return set;
}

// Kept out of line (and named alike in the laz-perf driver) so that valgrind
// --toggle-collect can count exactly the codec work.
[[gnu::noinline]] std::size_t decode_chunks(const ChunkSet& set, laz::ChunkDecoder& decoder,
                                            std::span<std::uint8_t> records) {
    const std::size_t record_length = set.input.data.record_length;
    std::size_t done = 0;
    for (std::size_t i = 0; i < set.compressed.size(); ++i) {
        decoder.decode(set.compressed[i], set.points[i],
                       records.subspan(done * record_length, set.points[i] * record_length));
        done += set.points[i];
    }
    return done;
}

[[gnu::noinline]] std::size_t encode_chunks(std::span<const std::uint8_t> records,
                                            std::size_t record_length, std::size_t chunk_points,
                                            laz::ChunkEncoder& encoder) {
    std::size_t compressed_bytes = 0;
    const std::size_t chunk_bytes = chunk_points * record_length;
    for (std::size_t at = 0; at < records.size(); at += chunk_bytes) {
        const auto chunk = records.subspan(at, std::min(chunk_bytes, records.size() - at));
        compressed_bytes += encoder.encode(chunk, chunk.size() / record_length).size();
    }
    return compressed_bytes;
}

std::vector<std::uint8_t> decode_set(const ChunkSet& set) {
    auto decoder = laz::make_chunk_decoder(set.input.data.vlr, set.input.data.point_format,
                                           set.input.data.record_length);
    std::vector<std::uint8_t> records(set.total_points * set.input.data.record_length);
    decode_chunks(set, *decoder, records);
    return records;
}

void BM_ChunkDecode(benchmark::State& state, const std::string& name) {
    LazInput input;
    if (!open_input(state, name, input)) return;
    const ChunkSet set = load_chunks(input_path(name), input);
    auto decoder =
        laz::make_chunk_decoder(input.data.vlr, input.data.point_format, input.data.record_length);
    std::vector<std::uint8_t> records(set.total_points * input.data.record_length);
    std::uint64_t points = 0;
    for (auto _ : state) {
        points += decode_chunks(set, *decoder, records);
        benchmark::DoNotOptimize(records.data());
    }
    state.counters["points/s"] =
        benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
    state.counters["points"] = static_cast<double>(set.total_points);
}

void BM_ChunkEncode(benchmark::State& state, const std::string& name) {
    LazInput input;
    if (!open_input(state, name, input)) return;
    const ChunkSet set = load_chunks(input_path(name), input);
    const auto records = decode_set(set);
    const auto& data = input.data;
    // Encode as our writer would: the VLR LASzip 3.4 writes for this format.
    const auto vlr = laz::LaszipVlr::for_point_format(data.point_format, data.record_length);
    auto encoder = laz::make_chunk_encoder(vlr, data.point_format, data.record_length);
    std::uint64_t points = 0;
    std::size_t compressed_bytes = 0;
    for (auto _ : state) {
        compressed_bytes = encode_chunks(records, data.record_length, vlr.chunk_size, *encoder);
        points += set.total_points;
    }
    state.counters["points/s"] =
        benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
    state.counters["bytes"] = static_cast<double>(compressed_bytes);
}

// ---------------------------------------------------------------- file reader/writer level

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
    LazInput input;
    if (!open_input(state, name, input)) return;
    const auto path = input_path(name);
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
    LazInput input;
    if (!open_input(state, name, input)) return;
    const auto records = decode_all(input_path(name), input, 0);
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

// ---------------------------------------------------------------- BYTE14 item encoder

constexpr std::size_t kFeatureRecords = 50'000;
constexpr std::size_t kFeatureFloats = 12;
constexpr std::size_t kFeatureBytes = kFeatureFloats * sizeof(float);

// Float32 features the way enrich produces them for points in scan order: a unit normal,
// eigenvalue ratios summing to one, verticality, curvature, omnivariance, height above
// ground, density and a roughness. Each follows a smooth field along the scan (neighbouring points
// see similar surfaces) plus measurement noise, so high bytes repeat and low bytes do not.
std::vector<std::uint8_t> feature_records() {
    std::mt19937 rng(42);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    std::uniform_real_distribution<float> phase(0.0f, 6.2831853f);
    std::array<float, 8> phases{};
    for (auto& p : phases) p = phase(rng);
    std::vector<std::uint8_t> records(kFeatureRecords * kFeatureBytes);
    for (std::size_t i = 0; i < kFeatureRecords; ++i) {
        const float t = static_cast<float>(i) * 0.002f;
        auto field = [&](std::size_t k, float scale) {
            return std::sin(t * (1.0f + 0.37f * static_cast<float>(k)) + phases[k]) * scale;
        };
        float nx = field(0, 0.3f) + 0.02f * noise(rng);
        float ny = field(1, 0.3f) + 0.02f * noise(rng);
        float nz = 1.0f;
        const float norm = std::sqrt(nx * nx + ny * ny + nz * nz);
        nx /= norm;
        ny /= norm;
        nz /= norm;
        const float linear = std::clamp(0.2f + field(2, 0.15f) + 0.03f * noise(rng), 0.0f, 1.0f);
        const float planar =
            std::clamp(0.6f + field(3, 0.2f) + 0.03f * noise(rng), 0.0f, 1.0f - linear);
        const float scatter = 1.0f - linear - planar;
        const std::array<float, kFeatureFloats> features = {
            nx,
            ny,
            nz,
            linear,
            planar,
            scatter,
            1.0f - std::abs(nz),
            std::abs(0.05f + field(4, 0.04f) + 0.005f * noise(rng)),
            std::cbrt(std::max(linear * planar * scatter, 0.0f)),
            std::max(0.0f, 3.0f + field(5, 3.0f) + 0.05f * noise(rng)),
            12.0f + field(6, 4.0f) + std::round(std::abs(noise(rng))),
            std::abs(field(7, 0.5f) + 0.1f * noise(rng)),
        };
        std::memcpy(records.data() + i * kFeatureBytes, features.data(), kFeatureBytes);
    }
    return records;
}

std::vector<std::uint8_t> random_records() {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> records(kFeatureRecords * kFeatureBytes);
    for (auto& b : records) b = static_cast<std::uint8_t>(rng() >> 24);
    return records;
}

// One chunk: the first record raw, every other one coded, as the layered writer does.
[[gnu::noinline]] std::size_t encode_byte14(laz::layered::Byte14Encoder& encoder,
                                            std::span<const std::uint8_t> records) {
    const std::size_t size = encoder.size();
    encoder.init(records.data(), 0);
    for (std::size_t at = size; at < records.size(); at += size) encoder.encode(&records[at], 0);
    encoder.done();
    std::size_t compressed_bytes = 0;
    for (std::size_t i = 0; i < encoder.layer_count(); ++i)
        compressed_bytes += encoder.layer(i).size();
    return compressed_bytes;
}

void BM_Byte14Encode(benchmark::State& state, bool random_bytes) {
    const auto records = random_bytes ? random_records() : feature_records();
    laz::layered::Byte14Encoder encoder(kFeatureBytes, laz::layered::Revision::v3);
    const auto symbols = static_cast<double>(records.size() - kFeatureBytes);
    std::size_t compressed_bytes = 0;
    for (auto _ : state) compressed_bytes = encode_byte14(encoder, records);
    // Inverted rate: CPU seconds per coded symbol, shown as e.g. "9.5n" (ns).
    state.counters["time/symbol"] = benchmark::Counter(
        symbols, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.counters["bytes/symbol"] = static_cast<double>(compressed_bytes) / symbols;
}

BENCHMARK_CAPTURE(BM_Byte14Encode, features_48b, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Byte14Encode, random_48b, true)->Unit(benchmark::kMillisecond);

#define LIDARMILL_CHUNK_BENCH(label, file)                                                      \
    BENCHMARK_CAPTURE(BM_ChunkDecode, label, std::string(file))->Unit(benchmark::kMillisecond); \
    BENCHMARK_CAPTURE(BM_ChunkEncode, label, std::string(file))->Unit(benchmark::kMillisecond)

LIDARMILL_CHUNK_BENCH(real7_2m, "bench/real7_2m.laz");
LIDARMILL_CHUNK_BENCH(lonestar4_2m, "bench/lonestar4_2m.laz");
LIDARMILL_CHUNK_BENCH(synth_pf6_20m, "tile:s6.laz");
LIDARMILL_CHUNK_BENCH(synth_pf8_20m, "tile:s8.laz");
LIDARMILL_CHUNK_BENCH(legacy_lone_star_pf1, "legacy/lone-star.laz");

#define LIDARMILL_FILE_BENCH(label, file)                     \
    BENCHMARK_CAPTURE(BM_LazDecode, label, std::string(file)) \
        ->Arg(1)                                              \
        ->Arg(2)                                              \
        ->Unit(benchmark::kMillisecond)                       \
        ->UseRealTime();                                      \
    BENCHMARK_CAPTURE(BM_LazEncode, label, std::string(file)) \
        ->Arg(1)                                              \
        ->Arg(2)                                              \
        ->Unit(benchmark::kMillisecond)                       \
        ->UseRealTime()

LIDARMILL_FILE_BENCH(real7_2m, "bench/real7_2m.laz");
LIDARMILL_FILE_BENCH(lonestar4_2m, "bench/lonestar4_2m.laz");
LIDARMILL_FILE_BENCH(legacy_lone_star_pf1, "legacy/lone-star.laz");

}  // namespace
