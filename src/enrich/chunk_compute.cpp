#include "enrich/chunk_compute.hpp"

#include "features/blocks.hpp"
#include "features/compute.hpp"

namespace lidarmill::enrich {

void ChunkCloud::clear() {
    x.clear();
    y.clear();
    z.clear();
    ids.clear();
    own = 0;
}

void ChunkCloud::resize(std::size_t points) {
    x.resize(points);
    y.resize(points);
    z.resize(points);
    ids.resize(points);
}

void ChunkCloud::release() {
    clear();
    x.shrink_to_fit();
    y.shrink_to_fit();
    z.shrink_to_fit();
    ids.shrink_to_fit();
}

ChunkComputer::ChunkComputer(const Tile& tile, const features::GroundModel& ground, TileRun& run)
    : tile_(tile),
      ground_(features::needs_ground(tile.options.features) ? &ground : nullptr),
      run_(run) {}

void ChunkComputer::compute(const ChunkCloud& cloud) {
    const PhaseTimer timer(run_.compute_time);
    const std::size_t own = cloud.own;
    rows_.resize(own * tile_.options.features.size());  // every value is written below
    if (own > 0) {
        query_.resize(own);
        features::detail::parallel_for_index(
            own, [&](std::size_t i) { query_[i] = static_cast<std::uint32_t>(i); });
        const features::PointCloudView view{cloud.x, cloud.y, cloud.z, cloud.ids};
        features::compute_features(view, query_, tile_.options.features,
                                   tile_.options.neighbourhood, ground_, rows_);
    }
    run_.summary.add(rows_);
    run_.progress.advance(own);
}

}  // namespace lidarmill::enrich
