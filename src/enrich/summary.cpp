#include "enrich/summary.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <limits>

namespace lidarmill::enrich {
namespace {

// Per-feature extremes and no-data counts of some rows, kept without branches (NaN
// fails both comparisons), so that the loop over a row's features vectorises.
struct Partial {
    explicit Partial(std::size_t width)
        : min(width, std::numeric_limits<float>::infinity()),
          max(width, -std::numeric_limits<float>::infinity()),
          no_data(width, 0) {}
    void add(std::span<const float> row) {
        for (std::size_t f = 0; f < row.size(); ++f) {
            const float v = row[f];
            min[f] = v < min[f] ? v : min[f];
            max[f] = v > max[f] ? v : max[f];
            no_data[f] += v != v ? 1 : 0;
        }
    }
    void merge(const Partial& other) {
        for (std::size_t f = 0; f < min.size(); ++f) {
            min[f] = std::min(min[f], other.min[f]);
            max[f] = std::max(max[f], other.max[f]);
            no_data[f] += other.no_data[f];
        }
    }
    std::vector<float> min, max;
    std::vector<std::uint64_t> no_data;
};

}  // namespace

SummaryAccumulator::SummaryAccumulator(std::span<const features::Feature> features) {
    for (const features::Feature f : features) {
        summary_.push_back({f, std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), 0});
    }
}

void SummaryAccumulator::add(std::span<const float> rows) {
    const std::size_t width = summary_.size();
    if (width == 0) return;
    const Partial chunk = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, rows.size() / width, 16384), Partial(width),
        [&](const tbb::blocked_range<std::size_t>& points, Partial acc) {
            for (std::size_t i = points.begin(); i != points.end(); ++i) {
                acc.add(rows.subspan(i * width, width));
            }
            return acc;
        },
        [](Partial a, const Partial& b) {
            a.merge(b);
            return a;
        });
    for (std::size_t f = 0; f < width; ++f) {
        summary_[f].min = std::min<double>(summary_[f].min, chunk.min[f]);
        summary_[f].max = std::max<double>(summary_[f].max, chunk.max[f]);
        summary_[f].no_data += chunk.no_data[f];
    }
}

std::vector<FeatureSummary> SummaryAccumulator::result() const {
    auto out = summary_;
    for (auto& s : out) {
        if (s.min > s.max) s.min = s.max = std::numeric_limits<double>::quiet_NaN();
    }
    return out;
}

}  // namespace lidarmill::enrich
