#pragma once
// The enriched file: every input record followed by its features, with the input's
// header, VLRs (the extra-bytes schema extended), EVLRs and CRS. A layered LAZ input written
// to LAZ keeps its compressed point layers and only the features' layers are encoded (see
// laz/layer_append.hpp); any other input is read again in full and encoded anew.
#include <cstdint>
#include <optional>
#include <vector>

#include "enrich/feeds.hpp"
#include "enrich/tile.hpp"
#include "las/writer.hpp"
#include "laz/layer_append.hpp"
#include "laz/laz_reader.hpp"

namespace lidarmill::enrich {

// The input's compressed chunks, when the output can copy their layers.
struct LayerReuse {
    laz::LayerAppender appender;
    std::vector<laz::ChunkLocation> chunks;
};

// Whether (and how) the output can copy the input's compressed layers; decided before the
// first pass, which then gathers the header statistics such an output needs.
std::optional<LayerReuse> plan_layer_reuse(const Tile& tile);

// Writes the output from `feed`. `reuse`: copy the input's compressed layers (every
// announced point was read); `stats`: the records' statistics, for that case.
// `points_read`: by the first pass.
void write_output(const Tile& tile, FeatureFeed& feed, const LayerReuse* reuse,
                  const las::PointStats& stats, std::uint64_t points_read, TileRun& run);

}  // namespace lidarmill::enrich
