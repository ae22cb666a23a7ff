#pragma once
// The features of one chunk: its points (own first, then the halo) go to the feature
// computation, and its own points' values are encoded into output bytes. Both paths, in
// memory and out of core, compute their chunks through this.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstdint>
#include <span>

#include "enrich/spill.hpp"
#include "enrich/tile.hpp"
#include "features/ground_model.hpp"
#include "util/uninitialized.hpp"

namespace lidarmill::enrich {

// The points loaded for one chunk: its own points first, then the halo.
struct ChunkCloud {
    // Filled by parallel loops right after resize().
    util::UninitVector<double> x, y, z;
    util::UninitVector<std::uint64_t> ids;
    std::size_t own = 0;

    void clear();
    void resize(std::size_t points);
    void release();  // also gives the memory back
    void set(std::size_t at, RawXyz p, std::uint64_t id, const Frame& frame) {
        x[at] = frame.x(p.x);
        y[at] = frame.y(p.y);
        z[at] = frame.z(p.z);
        ids[at] = id;
    }
};

class ChunkComputer {
  public:
    // `ground`: the tile's model (ignored when the features need none).
    ChunkComputer(const Tile& tile, const features::GroundModel& ground, TileRun& run);

    // Computes the features of the cloud's own points (kept until the next call), adding
    // them to the summary.
    void compute(const ChunkCloud& cloud);

    // Encodes the last computed chunk's features of its first `own` points, point i's at
    // destination(i).
    template <typename Destination>
    void encode(std::size_t own, Destination&& destination) const {
        const std::size_t width = tile_.options.features.size();
        const OutputLayout& layout = tile_.output_layout;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, own, 16384),
                          [&](const tbb::blocked_range<std::size_t>& points) {
                              for (std::size_t i = points.begin(); i != points.end(); ++i) {
                                  layout.encode(std::span(rows_).subspan(i * width, width),
                                                destination(i));
                              }
                          });
    }

  private:
    const Tile& tile_;
    const features::GroundModel* ground_;  // null when not needed
    TileRun& run_;
    util::UninitVector<float> rows_;  // the last chunk's features, a row per own point
    util::UninitVector<std::uint32_t> query_;
};

}  // namespace lidarmill::enrich
