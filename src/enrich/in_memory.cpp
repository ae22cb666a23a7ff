#include "enrich/in_memory.hpp"

#include <memory>
#include <vector>

#include "enrich/chunk_compute.hpp"
#include "features/blocks.hpp"
#include "las/point_format.hpp"
#include "util/error.hpp"

namespace lidarmill::enrich {
namespace {

// What the first pass keeps: positions, and the chunk lists.
struct ReadTile {
    std::vector<RawXyz> xyz;
    std::vector<std::uint8_t> channels;
    std::vector<std::uint32_t> chunk_of;
    // Each chunk's halo points (file order), listed as the points stream by.
    std::vector<std::vector<std::uint32_t>> halo_of;
};

// The points grouped by chunk, in file order within each chunk: chunk c's are
// order[start[c]] to order[start[c + 1]].
struct ChunkOrder {
    std::vector<std::uint64_t> start;
    std::vector<std::uint32_t> order;
};

ChunkOrder group_by_chunk(std::vector<std::uint32_t>& chunk_of, std::uint64_t n,
                          std::uint32_t chunks) {
    ChunkOrder g;
    g.start.assign(chunks + 1, 0);
    for (std::uint64_t i = 0; i < n; ++i) ++g.start[chunk_of[i] + 1];
    for (std::size_t c = 0; c < chunks; ++c) g.start[c + 1] += g.start[c];
    g.order.resize(n);
    {
        std::vector<std::uint64_t> fill(g.start.begin(), g.start.end() - 1);
        for (std::uint64_t i = 0; i < n; ++i)
            g.order[fill[chunk_of[i]]++] = static_cast<std::uint32_t>(i);
    }
    std::vector<std::uint32_t>().swap(chunk_of);
    return g;
}

}  // namespace

ComputedTile compute_in_memory(const Tile& tile, las::Reader& reader, bool keep_channels,
                               TileRun& run) {
    const std::uint64_t expected = tile.plan().points;
    const ChunkGrid& grid = tile.grid();
    ReadTile read;
    read.xyz.reserve(expected);
    if (keep_channels) read.channels.reserve(expected);
    read.chunk_of.resize(expected);
    read.halo_of.resize(grid.count());
    const auto format = tile.metadata.header.point_format;
    ComputedTile computed;
    computed.first_pass = read_first_pass(
        tile, reader, keep_channels, run,
        [&](std::uint64_t index, const std::uint8_t* record, double x, double y) {
            if (index >= expected) {
                throw util::InputError(tile.metadata.path, "more point records than announced");
            }
            read.xyz.push_back(raw_xyz(record));
            if (keep_channels) read.channels.push_back(las::scanner_channel(record, format));
            read.chunk_of[index] = grid.chunk_of(x, y);
            if (grid.count() > 1) {
                grid.for_each_halo_chunk(x, y, tile.halo, [&](std::uint32_t h) {
                    read.halo_of[h].push_back(static_cast<std::uint32_t>(index));
                });
            }
        });
    const std::uint64_t n = computed.first_pass.points;
    ChunkOrder chunks = group_by_chunk(read.chunk_of, n, grid.count());

    // Every byte is written by a chunk before it is read: no zero-filling.
    auto features = std::make_unique_for_overwrite<std::uint8_t[]>(n * tile.feature_bytes);
    ChunkComputer computer(tile, computed.first_pass.ground, run);
    ChunkCloud cloud;
    for (std::uint32_t c = 0; c < grid.count(); ++c) {
        const auto own = static_cast<std::size_t>(chunks.start[c + 1] - chunks.start[c]);
        cloud.clear();
        const std::vector<std::uint32_t>& halo = read.halo_of[c];
        cloud.resize(own + halo.size());
        features::detail::parallel_for_index(own + halo.size(), [&](std::size_t i) {
            const std::uint32_t id = i < own ? chunks.order[chunks.start[c] + i] : halo[i - own];
            cloud.set(i, read.xyz[id], id, tile.frame);
        });
        cloud.own = own;
        std::vector<std::uint32_t>().swap(read.halo_of[c]);
        computer.compute(cloud);
        computer.encode(cloud.own, [&](std::size_t i) {
            return features.get() + cloud.ids[i] * tile.feature_bytes;
        });
    }
    cloud.release();
    std::vector<std::uint32_t>().swap(chunks.order);
    std::vector<RawXyz>().swap(read.xyz);

    computed.feed = std::make_unique<InMemoryFeed>(std::move(features), std::move(read.channels),
                                                   tile.feature_bytes);
    return computed;
}

}  // namespace lidarmill::enrich
