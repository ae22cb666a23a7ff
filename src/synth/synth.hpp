#pragma once
// Deterministic synthetic airborne LiDAR tile: terrain, buildings with flat, gable and hip
// roofs, trees with multiple returns, a river, scanned by overlapping flight strips. The
// generator streams raw LAS point records (formats 6, 7, 8) with per-point ground truth.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace lidarmill::synth {

struct SynthParams {
    std::uint64_t points = 5'000'000;
    std::uint64_t seed = 1;
    double density = 15.0;                             // points per square metre
    double origin_x = 650000.0, origin_y = 6860000.0;  // lower-left corner, Lambert-93 metres
    bool rgb = false, nir = false;
};

enum class TruthClass : std::uint8_t {
    other = 0,
    ground = 1,
    wall = 2,
    roof = 3,
    vegetation = 4,
    water = 5
};

struct TruthRecord {
    TruthClass label;
    // roof/wall: true height of the point above the ground under it; else 0.
    float building_height;
};

struct TileLayout {
    std::uint8_t point_format;  // 6, 7 with rgb, 8 with nir (nir implies rgb)
    std::uint16_t record_length;
    double scale[3];  // 0.01 like IGN, z too
    double offset[3];
    double min[3];  // the tile box; exact bounds are computed by the writer
    double max[3];
    std::string wkt;  // EPSG:2154 RGF93 v1 / Lambert-93, OGC WKT1
    std::uint64_t point_count;
    double side;
};

TileLayout layout(const SynthParams&);

// Calls `sink` with consecutive batches (<= kMaxBatchPoints points each) of raw LAS records
// (record_length bytes each, point format layout.point_format, coordinates as int32 with
// layout.scale/offset) and the matching truth records, exactly layout.point_count points in
// acquisition order. Memory stays bounded (a few MB + O(scene objects)).
// Throws util::UsageError on unusable parameters (zero density, too many points).
using BatchSink =
    std::function<void(std::span<const std::uint8_t> records, std::span<const TruthRecord> truth)>;
void generate(const SynthParams&, const BatchSink& sink);

inline constexpr std::size_t kMaxBatchPoints = 65536;

// LAS classification codes the generator writes.
namespace las_class {
inline constexpr std::uint8_t ground = 2;
inline constexpr std::uint8_t low_vegetation = 3;     // below 0.5 m above ground
inline constexpr std::uint8_t medium_vegetation = 4;  // 0.5 m to 1.5 m
inline constexpr std::uint8_t high_vegetation = 5;    // above 1.5 m
inline constexpr std::uint8_t building = 6;
inline constexpr std::uint8_t water = 9;
}  // namespace las_class

}  // namespace lidarmill::synth
