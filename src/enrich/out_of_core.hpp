#pragma once
// The out-of-core path, for tiles whose working set exceeds the budget: the first pass
// buckets the points (own and halo) by chunk into a scratch folder and notes each point's
// chunk in file order; each chunk is then read back and computed on its own (a crowded one
// split further, see crowded_split.hpp), its features written to scratch; the output merges
// them back into file order.
#include "enrich/computed.hpp"
#include "enrich/tile.hpp"
#include "las/reader.hpp"

namespace lidarmill::enrich {

// `collect_stats`: gather the header statistics in the first pass. The feed returned owns
// the scratch folder.
ComputedTile compute_out_of_core(const Tile& tile, las::Reader& reader, bool collect_stats,
                                 TileRun& run);

}  // namespace lidarmill::enrich
