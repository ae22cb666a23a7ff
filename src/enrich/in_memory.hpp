#pragma once
// The in-memory path: the first pass keeps every point's position and, per chunk, the
// list of its halo points; chunks are then loaded from memory and computed one after the
// other, their features written into one buffer in file order.
#include "enrich/computed.hpp"
#include "enrich/tile.hpp"
#include "las/reader.hpp"

namespace lidarmill::enrich {

// `keep_channels`: keep the points' scanner channels (for appending compressed layers).
ComputedTile compute_in_memory(const Tile& tile, las::Reader& reader, bool keep_channels,
                               TileRun& run);

}  // namespace lidarmill::enrich
