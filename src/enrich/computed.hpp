#pragma once
// What a compute path (in memory or out of core) hands to the output: the first pass's
// results and the feed of feature bytes in file order.
#include <cstdint>
#include <memory>

#include "enrich/feeds.hpp"
#include "enrich/first_pass.hpp"

namespace lidarmill::enrich {

struct ComputedTile {
    FirstPass first_pass;
    std::unique_ptr<FeatureFeed> feed;
    std::uint32_t split_chunks = 0;   // out of core: crowded chunks split
    std::uint64_t scratch_bytes = 0;  // out of core: written to the scratch folder
};

}  // namespace lidarmill::enrich
