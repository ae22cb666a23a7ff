#include "enrich/out_of_core.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "enrich/chunk_compute.hpp"
#include "enrich/crowded_split.hpp"
#include "enrich/spill.hpp"
#include "features/blocks.hpp"
#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/scratch_dir.hpp"

namespace lidarmill::enrich {
namespace fs = std::filesystem;
namespace {

// Entries of a bucket past which its chunk holds more points than the budget allows (its
// capacity, halo included).
std::uint64_t crowded_entries(const Tile& tile) {
    const ChunkGrid& grid = tile.grid();
    const double share = grid.count() > 1 ? halo_factor(grid.side, tile.plan().halo) : 1.0;
    return static_cast<std::uint64_t>(static_cast<double>(tile.plan().chunk_capacity) * share);
}

// Computes one bucket's chunk; returns its own points' feature bytes, in bucket order.
std::vector<std::uint8_t> compute_bucket(const Tile& tile, ChunkComputer& computer,
                                         std::vector<std::uint8_t> bytes) {
    // Own points first (they are what the features are computed for), then the halo, each
    // in bucket order: blocks of entries are counted, then placed, in parallel.
    const std::size_t entries = bytes.size() / kHaloEntrySize;
    const auto is_own = [&](std::size_t e) {
        return (util::load_le<std::uint64_t>(bytes.data() + e * kHaloEntrySize) & kHaloFlag) == 0;
    };
    const std::vector<std::size_t> own_before =
        features::detail::kept_before_blocks(entries, is_own);
    const std::size_t own_total = own_before.back();
    ChunkCloud cloud;
    cloud.resize(entries);
    cloud.own = own_total;
    features::detail::for_each_block(
        entries, [&](std::size_t b, std::size_t first, std::size_t last) {
            std::size_t own_at = own_before[b];
            std::size_t halo_at = own_total + first - own_before[b];
            for (std::size_t e = first; e < last; ++e) {
                const std::uint8_t* entry = bytes.data() + e * kHaloEntrySize;
                const auto id = util::load_le<std::uint64_t>(entry);
                cloud.set((id & kHaloFlag) ? halo_at++ : own_at++, raw_xyz(entry + 8),
                          id & ~kHaloFlag, tile.frame);
            }
        });
    std::vector<std::uint8_t>().swap(bytes);
    computer.compute(cloud);
    const std::size_t own = cloud.own;
    cloud.release();

    std::vector<std::uint8_t> out(own * tile.feature_bytes);
    computer.encode(own, [&](std::size_t i) { return out.data() + i * tile.feature_bytes; });
    return out;
}

struct Buckets {
    std::vector<bool> crowded;  // holding more than the plan allows
    std::uint64_t bytes = 0;
};

// Pass 1: buckets the points (own and halo) by chunk; remembers each point's chunk and
// channel in file order (the "sequence").
// Buckets holding more than `crowded_limit` entries are marked crowded.
Buckets bucket_points(const Tile& tile, las::Reader& reader, bool collect_stats, TileRun& run,
                      const fs::path& folder, std::size_t buffer_bytes, std::uint64_t crowded_limit,
                      FirstPass& pass) {
    const ChunkGrid& grid = tile.grid();
    const std::size_t chunks = grid.count();
    Buckets result{std::vector<bool>(chunks, false), 0};
    BucketWriter buckets(folder, "bucket", chunks, buffer_bytes);
    BucketWriter sequence(folder, "sequence", 1, 1 << 20);
    BucketEntry entry{};
    const auto format = tile.metadata.header.point_format;
    pass = read_first_pass(
        tile, reader, collect_stats, run,
        [&](std::uint64_t index, const std::uint8_t* record, double x, double y) {
            const std::uint32_t chunk = grid.chunk_of(x, y);
            std::array<std::uint8_t, 4> sequence_entry{};
            util::store_le<std::uint32_t>(
                sequence_entry.data(),
                chunk | std::uint32_t{las::scanner_channel(record, format)} << kChannelShift);
            sequence.append(0, sequence_entry);
            util::store_le<std::uint64_t>(entry.data(), index);
            std::memcpy(entry.data() + 8, record, 12);
            append_with_halo(grid, tile.halo, buckets, chunk, entry, x, y);
        });
    buckets.finish();
    sequence.finish();
    for (std::size_t c = 0; c < chunks; ++c) {
        result.bytes += buckets.bytes_written(c);
        result.crowded[c] = buckets.bytes_written(c) / kHaloEntrySize > crowded_limit;
    }
    return result;
}

}  // namespace

ComputedTile compute_out_of_core(const Tile& tile, las::Reader& reader, bool collect_stats,
                                 TileRun& run) {
    const ChunkGrid& grid = tile.grid();
    if (grid.count() > kChunkMask) throw std::logic_error("enrich: too many out-of-core chunks");
    const fs::path& output = tile.output;
    const fs::path parent = tile.options.temp_dir.empty()
                                ? (output.has_parent_path() ? output.parent_path() : fs::path("."))
                                : tile.options.temp_dir;
    auto scratch = std::make_unique<util::ScratchDir>(parent, "enrich");
    const fs::path& folder = scratch->path();
    const std::size_t chunks = grid.count();
    const auto buffer_bytes = static_cast<std::size_t>(
        std::clamp(spill_buffer_pool(tile.options.memory_budget) / static_cast<double>(chunks),
                   16.0 * 1024, 4.0 * kMiB));

    ComputedTile computed;
    const std::uint64_t crowded_limit = crowded_entries(tile);
    const Buckets buckets = bucket_points(tile, reader, collect_stats, run, folder, buffer_bytes,
                                          crowded_limit, computed.first_pass);
    computed.scratch_bytes = buckets.bytes;

    // Pass 2: each chunk on its own, its own points' feature bytes in file order. The next
    // bucket is read and the last chunk's features written while a chunk is computed: done
    // in turn, the file copies left a core idle.
    ChunkComputer computer(tile, computed.first_pass.ground, run);
    const auto compute = [&](std::vector<std::uint8_t> bucket) {
        return compute_bucket(tile, computer, std::move(bucket));
    };
    CrowdedSplitter splitter(tile.metadata.path, tile.frame, tile.halo, crowded_limit,
                             tile.feature_bytes, compute);
    {
        std::vector<std::uint8_t> next_bucket, written;
        tbb::task_group reads, writes;  // after the buffers: destroyed (waited) first
        const auto read_next = [&](std::size_t c) {
            if (buckets.crowded[c]) return;  // never whole in memory: split (below)
            reads.run([&, c] { next_bucket = read_bucket(bucket_file_name(folder, "bucket", c)); });
        };
        read_next(0);
        for (std::size_t c = 0; c < chunks; ++c) {
            reads.wait();
            if (buckets.crowded[c]) {
                writes.wait();
                std::vector<std::uint8_t>().swap(written);
                const fs::path bucket = bucket_file_name(folder, "bucket", c);
                spdlog::debug(
                    "{}: chunk {} holds {} points with its halo, over the {} planned: split",
                    tile.metadata.path, c, fs::file_size(bucket) / kHaloEntrySize, crowded_limit);
                computed.scratch_bytes += splitter.compute(
                    folder, bucket, grid.square(static_cast<std::uint32_t>(c)),
                    bucket_file_name(folder, "out", c), fmt::format("split{}-", c));
                ++computed.split_chunks;
                if (c + 1 < chunks) read_next(c + 1);
                continue;
            }
            std::vector<std::uint8_t> bucket = std::move(next_bucket);
            next_bucket = {};
            if (c + 1 < chunks) read_next(c + 1);
            std::vector<std::uint8_t> features = compute(std::move(bucket));
            computed.scratch_bytes += features.size();
            writes.wait();
            written = std::move(features);
            writes.run([&, c] { write_scratch(bucket_file_name(folder, "out", c), written); });
        }
        writes.wait();
    }

    // Pass 3 (the output) reads the chunks' features merged back into file order.
    computed.feed =
        std::make_unique<MergeFeed>(std::move(scratch), chunks, buffer_bytes, tile.feature_bytes);
    return computed;
}

}  // namespace lidarmill::enrich
