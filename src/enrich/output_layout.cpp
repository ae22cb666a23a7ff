#include "enrich/output_layout.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::enrich {
namespace {

struct Bounds {
    double min, max;
};

std::optional<Bounds> bounded_range(Feature feature, const NeighbourhoodParams& params) {
    const auto range = compact_range(feature);
    if (!range) return std::nullopt;
    return Bounds{range->min, range->max_is_max_radius ? params.max_radius : range->max};
}

// 32000 steps over the range keep the quantisation step near 3e-5 for unit ranges while
// leaving int16 room for the no-data value.
constexpr double kCompactSteps = 32000.0;

}  // namespace

Precision parse_precision(std::string_view text) {
    if (text == "float32") return Precision::float32;
    if (text == "compact") return Precision::compact;
    throw util::UsageError("unknown precision '" + std::string(text) +
                           "' (expected float32 or compact)");
}

las::ExtraBytesDescriptor StoredDimension::descriptor() const {
    las::ExtraBytesDescriptor d;
    d.name = std::string(feature_name(feature));
    d.description = std::string(feature_description(feature));
    if (compact) {
        d.data_type = static_cast<std::uint8_t>(las::ExtraType::i16);
        d.options = 1u | 8u | 16u;  // no_data, scale, offset
        util::store_le<std::int64_t>(d.no_data.data(), kCompactNoData);
        d.scale = {scale, 0.0, 0.0};
        d.offset = {offset, 0.0, 0.0};
    } else {
        d.data_type = static_cast<std::uint8_t>(las::ExtraType::f32);
        d.options = 1u;  // no_data: floating-point no-data values are stored as double
        util::store_le<double>(d.no_data.data(), std::numeric_limits<double>::quiet_NaN());
    }
    return d;
}

void StoredDimension::encode(float value, std::uint8_t* destination) const {
    if (!compact) {
        util::store_le<float>(destination, value);
        return;
    }
    std::int16_t raw = kCompactNoData;
    if (!std::isnan(value)) {
        const double clamped = std::clamp(static_cast<double>(value), min_value, max_value);
        raw = static_cast<std::int16_t>(std::lround((clamped - offset) / scale));
    }
    util::store_le<std::int16_t>(destination, raw);
}

double StoredDimension::decode(const std::uint8_t* source) const {
    if (!compact) return util::load_le<float>(source);
    const auto raw = util::load_le<std::int16_t>(source);
    if (raw == kCompactNoData) return std::numeric_limits<double>::quiet_NaN();
    return raw * scale + offset;
}

OutputLayout::OutputLayout(std::span<const Feature> features, Precision precision,
                           const NeighbourhoodParams& neighbourhood) {
    for (const Feature feature : features) {
        StoredDimension dim{feature};
        const auto range = bounded_range(feature, neighbourhood);
        if (precision == Precision::compact && range) {
            dim.compact = true;
            dim.min_value = range->min;
            dim.max_value = range->max;
            // Symmetric ranges are centred on zero so that 0 is stored exactly.
            dim.offset = range->min < 0 ? 0.0 : range->min;
            dim.scale = std::max(std::abs(range->min), std::abs(range->max)) / kCompactSteps;
        }
        bytes_per_point_ += dim.size();
        plain_floats_ &= !dim.compact;
        dimensions_.push_back(dim);
    }
}

void OutputLayout::encode(std::span<const float> values, std::uint8_t* destination) const {
    if (std::endian::native == std::endian::little && plain_floats_) {
        std::memcpy(destination, values.data(), values.size_bytes());
        return;
    }
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
        dimensions_[d].encode(values[d], destination);
        destination += dimensions_[d].size();
    }
}

}  // namespace lidarmill::enrich
