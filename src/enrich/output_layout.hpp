#pragma once
// How enriched features are stored in the output records: one extra-bytes dimension per
// feature, float32 (NaN = no data) or, with Precision::compact, scaled int16 for the
// features whose range is bounded (the scale and offset live in the extra-bytes
// descriptor, so standard readers such as PDAL and laspy see real values).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "features/compute.hpp"
#include "features/feature.hpp"
#include "las/extra_bytes.hpp"

namespace lidarmill::enrich {

using features::Feature;
using features::NeighbourhoodParams;

enum class Precision { float32, compact };

// "float32" | "compact"; throws util::UsageError otherwise.
Precision parse_precision(std::string_view text);

// One stored dimension: float32, or int16 holding round((value - offset) / scale).
struct StoredDimension {
    Feature feature;
    bool compact = false;
    double scale = 1.0, offset = 0.0;
    double min_value = 0.0, max_value = 0.0;  // compact only: values are clamped into this

    std::size_t size() const { return compact ? 2 : 4; }
    las::ExtraBytesDescriptor descriptor() const;
    void encode(float value, std::uint8_t* destination) const;
    // The value a reader gets back from the stored bytes (NaN for no data).
    double decode(const std::uint8_t* source) const;
};

inline constexpr std::int16_t kCompactNoData = -32768;

class OutputLayout {
  public:
    OutputLayout(std::span<const Feature> features, Precision precision,
                 const NeighbourhoodParams& neighbourhood);

    std::span<const StoredDimension> dimensions() const { return dimensions_; }
    std::size_t bytes_per_point() const { return bytes_per_point_; }

    // Writes a point's feature values (one per dimension, in order) into `destination`
    // (bytes_per_point() bytes).
    void encode(std::span<const float> values, std::uint8_t* destination) const;

  private:
    std::vector<StoredDimension> dimensions_;
    std::size_t bytes_per_point_ = 0;
    bool plain_floats_ = true;  // every dimension float32 on a little-endian host: a copy
};

}  // namespace lidarmill::enrich
