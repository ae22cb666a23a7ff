#pragma once
// The first read of a tile: positions, returns and classes only. It feeds the ground model
// (file order), gathers the header statistics that an output written from the input's
// compressed layers needs, and hands every record to the path's sink, which keeps what its
// path needs (in memory: positions and chunk lists; out of core: buckets on disk).
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "enrich/ground_stage.hpp"
#include "enrich/tile.hpp"
#include "las/point_format.hpp"
#include "las/reader.hpp"
#include "las/writer.hpp"
#include "util/bytes.hpp"

namespace lidarmill::enrich {

struct FirstPass {
    std::uint64_t points = 0;  // read
    features::GroundModel ground;
    las::PointStats stats;  // of the records, when asked for
};

// Streams the records of `reader` and calls sink(index, record, x, y) for each.
// `collect_stats`: gather the header statistics.
template <typename Sink>
FirstPass read_first_pass(const Tile& tile, las::Reader& reader, bool collect_stats, TileRun& run,
                          Sink&& sink) {
    const PhaseTimer timer(run.read_time);
    FirstPass pass;
    GroundStage ground(tile, run.warnings);
    constexpr double inf = std::numeric_limits<double>::infinity();
    XyExtent extent{inf, inf, -inf, -inf};
    const bool extended = las::is_extended_format(tile.metadata.header.point_format);
    const std::uint16_t length = tile.layout.in;
    std::vector<std::uint8_t> batch(kReadBatchPoints * length);
    std::uint64_t index = 0;
    while (const std::size_t n = reader.read(batch)) {
        if (collect_stats) pass.stats.add(std::span(batch).first(n * length), length, extended);
        for (std::size_t i = 0; i < n; ++i, ++index) {
            const std::uint8_t* record = batch.data() + i * length;
            const double x = tile.frame.x(util::load_le<std::int32_t>(record));
            const double y = tile.frame.y(util::load_le<std::int32_t>(record + 4));
            extent.min_x = std::min(extent.min_x, x);
            extent.max_x = std::max(extent.max_x, x);
            extent.min_y = std::min(extent.min_y, y);
            extent.max_y = std::max(extent.max_y, y);
            ground.add(x, y, record);
            sink(index, record, x, y);
        }
        run.progress.advance(n);
    }
    pass.points = index;
    pass.ground = ground.finish(index, extent);
    return pass;
}

}  // namespace lidarmill::enrich
