#pragma once
// Per-feature minimum, maximum and no-data count over a tile's points, for the report.
// Chunks add their rows as they are computed, so the summary costs no second pass.
#include <cstdint>
#include <span>
#include <vector>

#include "features/feature.hpp"

namespace lidarmill::enrich {

struct FeatureSummary {
    features::Feature feature;
    double min = 0, max = 0;    // over values that are not no-data (NaN if none)
    std::uint64_t no_data = 0;  // points without a value
};

class SummaryAccumulator {
  public:
    explicit SummaryAccumulator(std::span<const features::Feature> features);
    // Adds `rows` of one value per feature.
    void add(std::span<const float> rows);
    std::vector<FeatureSummary> result() const;

  private:
    std::vector<FeatureSummary> summary_;
};

}  // namespace lidarmill::enrich
