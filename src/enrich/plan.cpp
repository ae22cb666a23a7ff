#include "enrich/plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "enrich/spill.hpp"
#include "util/error.hpp"
#include "util/threads.hpp"

namespace lidarmill::enrich {
namespace {

// Program, libraries, thread stacks and allocator slack.
constexpr std::uint64_t kBaseBytes = 40 * kMiB;
// Share of the budget the estimates may fill; the rest absorbs estimation error and
// allocator fragmentation.
constexpr double kUsableShare = 0.8;
// Chunks are planned at half the size that would fit, so that a chunk twice as dense as
// the tile's mean still fits.
constexpr double kDensitySafety = 2.0;
constexpr std::uint64_t kMinChunkPoints = 20000;
// In memory, a chunk's features are computed in grid order and written back in file order,
// and its points packed into the grid the other way round: permutations that run from cache
// in small chunks and from RAM in big ones, so big chunks compute more slowly. Where halos
// are thin next to such a chunk, chunks stop growing at this many points, or at a side of
// kThinHaloSides halos (a few per cent more points loaded), whichever holds more.
constexpr std::uint64_t kCacheChunkPoints = 65536;
constexpr double kThinHaloSides = 100;
// Open bucket files (one per chunk) stay well under the usual descriptor limit of 1024.
constexpr std::uint64_t kMaxOutOfCoreChunks = 800;
// In memory, each chunk keeps a halo list while the tile is read.
constexpr std::uint64_t kMaxInMemoryChunks = 65536;
// Working memory per point loaded into a chunk (own or halo) besides its feature values:
// coordinates and id (32), the neighbour grid (points and ids 32, height keys 4, positions and
// cells ~12), the visit order (8), slack.
constexpr std::uint64_t kWorkingBytesPerPoint = 100;

using features::needs_ground;

double halo_width(const NeighbourhoodParams& p) {
    return std::max(p.max_radius, p.radius);
}

}  // namespace

void validate_options(const EnrichOptions& o) {
    if (o.features.empty()) throw util::UsageError("no features requested");
    const auto& n = o.neighbourhood;
    if (n.k < 1 || !(n.max_radius > 0) || !(n.radius > 0) || !std::isfinite(n.max_radius) ||
        !std::isfinite(n.radius)) {
        throw util::UsageError("--k-neighbors, --radius and --max-radius must be positive");
    }
    if (!(o.ground.cell_size > 0)) throw util::UsageError("ground cell size must be positive");
}

RecordLayout record_layout(const las::FileMetadata& m, const OutputLayout& output) {
    const std::size_t out = m.header.record_length + output.bytes_per_point();
    if (out > std::numeric_limits<std::uint16_t>::max()) {
        throw util::InputError(m.path, "records too long to append the features");
    }
    return {m.header.record_length, static_cast<std::uint16_t>(out)};
}

double area_of(const XyExtent& e) {
    return std::max((e.max_x - e.min_x) * (e.max_y - e.min_y), 1e-6);
}

double spill_buffer_pool(std::uint64_t memory_budget) {
    const double usable = static_cast<double>(memory_budget) * kUsableShare;
    return std::min(usable / 8.0, 64.0 * kMiB);
}

namespace {

std::uint64_t ground_bytes(const XyExtent& e, const EnrichOptions& o) {
    if (!needs_ground(o.features) || !plausible_extent(e)) return 0;
    // Ground everywhere in the extent: the model's blocks cover less where there is none,
    // which the header does not tell.
    try {
        return features::ground_model_bytes(e, o.ground, util::resolve_threads(o.threads));
    } catch (const util::UsageError&) {
        return 0;  // a grid too large for the header bounds: rebuilt on the data's extent
    }
}

std::uint64_t codec_bytes(const RecordLayout& l, unsigned threads) {
    // Decoded and encoded LAZ chunks in flight, two per thread, plus read batches.
    return 8 * kMiB + std::uint64_t{threads} * 2 * 50000 * (l.in + l.out) +
           kReadBatchPoints * (l.in + l.out);
}

// Chunks of `side` metres over the extent.
ChunkGrid grid_with_side(const XyExtent& e, double side) {
    ChunkGrid grid;
    const double width = std::max(e.max_x - e.min_x, 1e-3),
                 height = std::max(e.max_y - e.min_y, 1e-3);
    grid.x0 = e.min_x;
    grid.y0 = e.min_y;
    grid.side = side;
    grid.columns = static_cast<std::uint32_t>(std::max(1.0, std::ceil(width / side)));
    grid.rows = static_cast<std::uint32_t>(std::max(1.0, std::ceil(height / side)));
    return grid;
}

struct GridChoice {
    ChunkGrid grid;
    std::uint64_t chunk_points = 0;    // the mean
    std::uint64_t crowded_points = 0;  // the most crowded chunk's, when known (else 0)
};

GridChoice choose_grid(const XyExtent& e, std::uint64_t points, std::uint64_t target, double halo) {
    GridChoice c;
    c.chunk_points = points;
    if (!plausible_extent(e) || points <= target) {
        c.grid.x0 = plausible_extent(e) ? e.min_x : 0;
        c.grid.y0 = plausible_extent(e) ? e.min_y : 0;
        c.grid.side =
            plausible_extent(e) ? std::max({e.max_x - e.min_x, e.max_y - e.min_y, halo, 1.0}) : 1.0;
        return c;
    }
    const double width = std::max(e.max_x - e.min_x, 1e-3),
                 height = std::max(e.max_y - e.min_y, 1e-3);
    const double density = static_cast<double>(points) / (width * height);
    c.grid =
        grid_with_side(e, std::max(std::sqrt(static_cast<double>(target) / density), 2.0 * halo));
    c.chunk_points = points / c.grid.count() + 1;
    return c;
}

// Own points of the grid's most crowded chunk, from the footprint's cells (each counted in
// the chunk of its centre).
std::uint64_t crowded_chunk_points(const TileFootprint& f, const ChunkGrid& grid) {
    std::vector<std::uint64_t> points(grid.count(), 0);
    for (const auto& cell : f.cells) {
        const double x = (static_cast<double>(cell.column) + 0.5) * f.cell_side;
        const double y = (static_cast<double>(cell.row) + 0.5) * f.cell_side;
        points[grid.chunk_of(x, y)] += cell.points;
    }
    return *std::max_element(points.begin(), points.end());
}

// Chunks sized by memory are planned for the tile's mean density, with kDensitySafety to
// spare. Where points crowd more than that (a coastal tile that is mostly sea, a town
// among fields), the chunks shrink until the most crowded one fits, within `max_chunks`.
GridChoice fit_crowded_chunks(GridChoice c, const XyExtent& e, const TileFootprint& f,
                              std::uint64_t target, double halo, std::uint64_t max_chunks) {
    const double room = static_cast<double>(target) * kDensitySafety;
    for (int round = 0; round < 24; ++round) {
        c.crowded_points = crowded_chunk_points(f, c.grid);
        const auto crowded = static_cast<double>(c.crowded_points);
        if (crowded <= room || c.grid.side <= 2.0 * halo) break;
        const double side =
            std::max(2.0 * halo, c.grid.side * std::min(0.9, std::sqrt(room / crowded)));
        const ChunkGrid smaller = grid_with_side(e, side);
        if (smaller.count() > max_chunks) break;
        c.grid = smaller;
        c.chunk_points = f.points / c.grid.count() + 1;
    }
    return c;
}

// Per own point of a chunk while it is computed: loaded points' working memory, feature
// columns, and (out of core) the bucket entries read back and the feature bytes built.
std::uint64_t chunk_bytes_per_point(const RecordLayout& l, std::size_t features, double halo_share,
                                    bool out_of_core) {
    double bytes = (kWorkingBytesPerPoint + 4.0 * features) * halo_share;
    // Out of core, the next chunk's bucket is read and the previous chunk's features are
    // written meanwhile: twice the entries and feature bytes.
    if (out_of_core) bytes += 2.0 * (kHaloEntrySize * halo_share + (l.out - l.in));
    return static_cast<std::uint64_t>(std::ceil(bytes));
}

struct PlanInputs {
    RecordLayout layout;
    XyExtent extent;  // the header's, or the footprint's core box
    std::uint64_t points;
    std::uint64_t fixed;  // base + ground + codec
    double halo;
};

// Fewer points per m^2 of the header's box than the first, the box is likely not where the
// points are (a stray point far away); more than the second, the bounds are wrong (left at
// zero by some writers). A genuinely sparse or dense tile costs the footprint's read and
// nothing else. Airborne surveys have 0.5 to a few hundred points per m^2.
constexpr double kSuspectDensity = 0.05, kImpossibleDensity = 1e6;

bool header_box_suspect(const las::FileMetadata& m) {
    if (m.readable_points == 0) return false;
    const XyExtent box = header_extent(m.header, make_frame(m.header));
    const double density = static_cast<double>(m.readable_points) / area_of(box);
    return !plausible_extent(box) || density < kSuspectDensity || density > kImpossibleDensity;
}

// The points' footprint when the header's box is suspect, else null.
std::shared_ptr<const TileFootprint> footprint_if_suspect(const las::FileMetadata& m,
                                                          const EnrichOptions& o) {
    if (!header_box_suspect(m)) return nullptr;
    FootprintRequest request;
    request.ground = o.ground;
    for (const auto c : o.ground_classes) request.ground_classes.set(c);
    request.needs_ground = needs_ground(o.features);
    request.threads = util::resolve_threads(o.threads);
    return footprint_of(m, make_frame(m.header), request);
}

PlanInputs plan_inputs(const las::FileMetadata& m, const EnrichOptions& o,
                       const TileFootprint* footprint) {
    validate_options(o);
    const OutputLayout output(o.features, o.precision, o.neighbourhood);
    PlanInputs in;
    in.layout = record_layout(m, output);
    const XyExtent header = header_extent(m.header, make_frame(m.header));
    in.extent = footprint ? footprint->core : header;
    in.points = m.readable_points;
    in.halo = halo_width(o.neighbourhood);
    std::uint64_t ground = ground_bytes(header, o);
    // (0 from the header: bounds too absurd for a grid, rebuilt on the data's extent.)
    if (footprint && needs_ground(o.features))
        ground = ground == 0 ? footprint->ground_bytes : std::min(ground, footprint->ground_bytes);
    in.fixed = kBaseBytes + ground + codec_bytes(in.layout, util::resolve_threads(o.threads));
    return in;
}

std::uint64_t minimum_memory(const PlanInputs& in, std::size_t features) {
    const auto min_chunk =
        std::min<std::uint64_t>(std::max<std::uint64_t>(in.points, 1), kMinChunkPoints);
    const auto chunk = chunk_bytes_per_point(in.layout, features, 2.0, true) * min_chunk;
    return static_cast<std::uint64_t>(
        static_cast<double>(in.fixed + chunk * kDensitySafety + 2 * kMiB) / kUsableShare);
}

// Largest own-point count per chunk that fits `available` bytes (at least the minimum).
std::uint64_t fitting_chunk_points(const PlanInputs& in, std::size_t features, double available,
                                   bool out_of_core) {
    // The halo share depends on the chunk side, which depends on the count: iterate.
    double share = 1.5;
    std::uint64_t points = kMinChunkPoints;
    for (int i = 0; i < 4; ++i) {
        const auto per_point = chunk_bytes_per_point(in.layout, features, share, out_of_core);
        points = static_cast<std::uint64_t>(std::max(0.0, available) / per_point / kDensitySafety);
        points = std::max(points, kMinChunkPoints);
        if (!plausible_extent(in.extent) || in.points == 0) break;
        const double side =
            std::max(std::sqrt(points * area_of(in.extent) / in.points), 2 * in.halo);
        share = halo_factor(side, in.halo);
    }
    return points;
}

// The in-memory chunk size past which chunks no longer grow (see kCacheChunkPoints).
std::uint64_t cache_chunk_points(const PlanInputs& in) {
    if (!plausible_extent(in.extent) || in.points == 0) return in.points;
    const double side = kThinHaloSides * in.halo;
    const double thin_halo_points =
        static_cast<double>(in.points) / area_of(in.extent) * side * side;
    return static_cast<std::uint64_t>(
        std::max(static_cast<double>(kCacheChunkPoints), std::min(thin_halo_points, 1e18)));
}

PlannedTile plan_with(const las::FileMetadata& m, const EnrichOptions& o,
                      std::shared_ptr<const TileFootprint> footprint) {
    const PlanInputs in = plan_inputs(m, o, footprint.get());
    const std::size_t features = o.features.size();
    TilePlan plan;
    plan.points = in.points;
    plan.input_record_length = in.layout.in;
    plan.output_record_length = in.layout.out;
    plan.halo = in.halo;
    const double usable = static_cast<double>(o.memory_budget) * kUsableShare;
    // In memory, the whole tile keeps its coordinates, chunk order, halo lists (a point in
    // at most one halo on average), scanner channel and feature bytes; records are read
    // again (or their compressed layers copied) at the end.
    const std::uint64_t resident_tile =
        in.points * (sizeof(std::int32_t) * 6 + 1ull + (in.layout.out - in.layout.in));
    const auto whole_tile = chunk_bytes_per_point(in.layout, features, 1.0, false) * in.points;
    plan.in_core_bytes = in.fixed + resident_tile + whole_tile;

    const double in_core_room = usable - static_cast<double>(in.fixed + resident_tile);
    const auto min_chunk = std::min<std::uint64_t>(in.points, kMinChunkPoints);
    const bool in_core =
        in_core_room >= static_cast<double>(chunk_bytes_per_point(in.layout, features, 2.0, false) *
                                            min_chunk * kDensitySafety);
    std::uint64_t target = 0;
    // Chunks sized by memory rather than taken whole or capped for speed.
    bool memory_bound = !in_core;
    if (in_core) {
        memory_bound = whole_tile > in_core_room;
        target = memory_bound ? fitting_chunk_points(in, features, in_core_room, false) : in.points;
        target = std::min(target, cache_chunk_points(in));
    } else {
        // Bucket and merge buffers: at most 1/8 of the budget, 64 MiB each.
        const double buffers = 2.0 * spill_buffer_pool(o.memory_budget);
        target = fitting_chunk_points(in, features, usable - in.fixed - buffers, true);
        if (in.points / target + 1 > kMaxOutOfCoreChunks)
            target = in.points / kMaxOutOfCoreChunks + 1;
    }
    if (o.max_chunk_points > 0) target = std::min(target, o.max_chunk_points);
    target = std::max<std::uint64_t>(target, 1);
    GridChoice choice = choose_grid(in.extent, in.points, target, in.halo);
    if (footprint && (memory_bound || o.max_chunk_points > 0) && choice.grid.count() > 1) {
        choice = fit_crowded_chunks(choice, in.extent, *footprint, target, in.halo,
                                    in_core ? kMaxInMemoryChunks : kMaxOutOfCoreChunks);
    }
    plan.out_of_core = !in_core;
    plan.chunk_points = choice.chunk_points;
    plan.chunk_columns = choice.grid.columns;
    plan.chunk_rows = choice.grid.rows;
    plan.chunk_side = choice.grid.side;
    plan.crowded_chunk_points = choice.crowded_points;
    plan.chunk_capacity = static_cast<std::uint64_t>(static_cast<double>(target) * kDensitySafety);
    const double share = choice.grid.count() > 1 ? halo_factor(choice.grid.side, in.halo) : 1.0;
    const auto chunk =
        static_cast<std::uint64_t>(chunk_bytes_per_point(in.layout, features, share, !in_core) *
                                   std::max(choice.chunk_points, choice.crowded_points));
    plan.estimated_peak_bytes = in.fixed + chunk + (in_core ? resident_tile : 0);
    plan.minimum_bytes = minimum_memory(in, features);
    return {plan, choice.grid, std::move(footprint)};
}

}  // namespace

// From the header, or from where the points are when the header's box is suspect.
// (Reading the footprint of every tile whose chunks are sized by memory would also catch
// tiles that are crowded in a part of a sound box, such as coastal tiles, but it costs a
// sizeable share of such a run.)
PlannedTile make_plan(const las::FileMetadata& m, const EnrichOptions& o) {
    return plan_with(m, o, footprint_if_suspect(m, o));
}

TilePlan plan_tile(const las::FileMetadata& m, const EnrichOptions& o) {
    return make_plan(m, o).plan;
}

std::uint64_t minimum_tile_memory(const las::FileMetadata& m, const EnrichOptions& o) {
    return minimum_memory(plan_inputs(m, o, footprint_if_suspect(m, o).get()), o.features.size());
}

}  // namespace lidarmill::enrich
