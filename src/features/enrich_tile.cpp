#include "features/enrich_tile.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "features/blocks.hpp"
#include "features/enrich_spill.hpp"
#include "features/tile_footprint.hpp"
#include "las/point_format.hpp"
#include "las/writer.hpp"
#include "laz/layer_append.hpp"
#include "laz/laz_reader.hpp"
#include "laz/open.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"
#include "util/memory.hpp"
#include "util/scratch_dir.hpp"
#include "util/uninitialized.hpp"

namespace lidarmill::features {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
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
// in small chunks and from RAM in big ones (real7, one chunk of 2 M points: features 1.55-1.65
// CPU-s; chunks of 64 k: 1.40-1.43). Where halos are thin next to such a chunk, chunks stop
// growing at this many points, or at a side of kThinHaloSides halos (about 4 % more points
// loaded), whichever holds more.
constexpr std::uint64_t kCacheChunkPoints = 65536;
constexpr double kThinHaloSides = 100;
// Open bucket files (one per chunk) stay well under the usual descriptor limit of 1024.
constexpr std::uint64_t kMaxOutOfCoreChunks = 800;
// In memory, each chunk keeps a halo list while the tile is read.
constexpr std::uint64_t kMaxInMemoryChunks = 65536;
constexpr std::size_t kReadBatchPoints = 65536;
constexpr std::uint64_t kHaloFlag = std::uint64_t{1} << 63;
constexpr std::size_t kHaloEntrySize = 8 + 12;  // id, X, Y, Z
// Working memory per point loaded into a chunk (own or halo) besides its feature values:
// coordinates and id (32), the neighbour grid (points and ids 32, height keys 4, positions and
// cells ~12), the visit order (8), slack.
constexpr std::uint64_t kWorkingBytesPerPoint = 100;

double halo_width(const NeighbourhoodParams& p) {
    return std::max(p.max_radius, p.radius);
}

void validate_options(const EnrichOptions& o) {
    if (o.features.empty()) throw util::UsageError("no features requested");
    const auto& n = o.neighbourhood;
    if (n.k < 1 || !(n.max_radius > 0) || !(n.radius > 0) || !std::isfinite(n.max_radius) ||
        !std::isfinite(n.radius)) {
        throw util::UsageError("--k-neighbors, --radius and --max-radius must be positive");
    }
    if (!(o.ground.cell_size > 0)) throw util::UsageError("ground cell size must be positive");
}

using detail::Frame;
using detail::header_extent;
using detail::make_frame;
using detail::plausible_extent;

// Square chunks over the tile's xy extent. Points outside the extent fall into the border
// chunks, whose outer sides are open.
struct ChunkGrid {
    double x0 = 0, y0 = 0, side = 1;
    std::uint32_t columns = 1, rows = 1;

    std::uint32_t count() const { return columns * rows; }
    std::uint32_t column(double x) const { return clamp_index((x - x0) / side, columns); }
    std::uint32_t row(double y) const { return clamp_index((y - y0) / side, rows); }
    std::uint32_t chunk_of(double x, double y) const { return row(y) * columns + column(x); }

    // Calls visit(chunk) for each chunk other than the point's own whose halo (its square
    // widened by `halo` on each side, box test) holds the point. side >= halo, so only the
    // 8 surrounding chunks can qualify.
    template <typename Visit>
    void for_each_halo_chunk(double x, double y, double halo, Visit&& visit) const {
        const std::uint32_t col = column(x), rw = row(y);
        const bool left = col > 0 && x - (x0 + col * side) <= halo;
        const bool right = col + 1 < columns && x0 + (col + 1) * side - x <= halo;
        const bool below = rw > 0 && y - (y0 + rw * side) <= halo;
        const bool above = rw + 1 < rows && y0 + (rw + 1) * side - y <= halo;
        for (int dr = -1; dr <= 1; ++dr) {
            if ((dr < 0 && !below) || (dr > 0 && !above)) continue;
            for (int dc = -1; dc <= 1; ++dc) {
                if ((dc < 0 && !left) || (dc > 0 && !right) || (dc == 0 && dr == 0)) continue;
                visit((rw + dr) * columns + (col + dc));
            }
        }
    }

  private:
    static std::uint32_t clamp_index(double position, std::uint32_t count) {
        if (!(position > 0)) return 0;  // also NaN
        return static_cast<std::uint32_t>(std::min(position, static_cast<double>(count - 1)));
    }
};

struct Layout {
    std::uint16_t in = 0, out = 0;
};

Layout record_layout(const las::FileMetadata& m, const OutputLayout& output) {
    const std::size_t out = m.header.record_length + output.bytes_per_point();
    if (out > std::numeric_limits<std::uint16_t>::max()) {
        throw util::InputError(m.path, "records too long to append the features");
    }
    return {m.header.record_length, static_cast<std::uint16_t>(out)};
}

std::uint64_t ground_bytes(const XyExtent& e, const EnrichOptions& o) {
    if (!needs_ground(o.features) || !plausible_extent(e)) return 0;
    // Ground everywhere in the extent: the model's blocks cover less where there is none,
    // which the header does not tell.
    try {
        return ground_model_bytes(e, o.ground, laz::resolve_threads(o.threads));
    } catch (const util::UsageError&) {
        return 0;  // a grid too large for the header bounds: rebuilt on the data's extent
    }
}

std::uint64_t codec_bytes(const Layout& l, unsigned threads) {
    // Decoded and encoded LAZ chunks in flight, two per thread, plus read batches.
    return 8 * kMiB + std::uint64_t{threads} * 2 * 50000 * (l.in + l.out) +
           kReadBatchPoints * (l.in + l.out);
}

// Loaded points per own point for square chunks of `side` metres.
double halo_factor(double side, double halo) {
    return 1.0 + (4.0 * halo * side + 4.0 * halo * halo) / (side * side);
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
std::uint64_t crowded_chunk_points(const detail::TileFootprint& f, const ChunkGrid& grid) {
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
GridChoice fit_crowded_chunks(GridChoice c, const XyExtent& e, const detail::TileFootprint& f,
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
std::uint64_t chunk_bytes_per_point(const Layout& l, std::size_t features, double halo_share,
                                    bool out_of_core) {
    double bytes = (kWorkingBytesPerPoint + 4.0 * features) * halo_share;
    // Out of core, the next chunk's bucket is read and the previous chunk's features are
    // written meanwhile: twice the entries and feature bytes.
    if (out_of_core) bytes += 2.0 * (kHaloEntrySize * halo_share + (l.out - l.in));
    return static_cast<std::uint64_t>(std::ceil(bytes));
}

struct PlanInputs {
    Layout layout;
    XyExtent extent;  // the header's, or the footprint's core box
    std::uint64_t points;
    std::uint64_t fixed;  // base + ground + codec
    double halo;
};

// The extent's area (m^2), never zero.
double area_of(const XyExtent& e) {
    return std::max((e.max_x - e.min_x) * (e.max_y - e.min_y), 1e-6);
}

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
std::shared_ptr<const detail::TileFootprint> footprint_if_suspect(const las::FileMetadata& m,
                                                                  const EnrichOptions& o) {
    if (!header_box_suspect(m)) return nullptr;
    detail::FootprintRequest request;
    request.ground = o.ground;
    for (const auto c : o.ground_classes) request.ground_classes.set(c);
    request.needs_ground = needs_ground(o.features);
    request.threads = laz::resolve_threads(o.threads);
    return detail::footprint_of(m, make_frame(m.header), request);
}

PlanInputs plan_inputs(const las::FileMetadata& m, const EnrichOptions& o,
                       const detail::TileFootprint* footprint) {
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
    in.fixed = kBaseBytes + ground + codec_bytes(in.layout, laz::resolve_threads(o.threads));
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

struct FullPlan {
    TilePlan plan;
    ChunkGrid grid;
    std::shared_ptr<const detail::TileFootprint> footprint;  // when read
};

FullPlan plan_with(const las::FileMetadata& m, const EnrichOptions& o,
                   std::shared_ptr<const detail::TileFootprint> footprint) {
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
        const double buffers = 2.0 * std::min(usable / 8.0, 64.0 * kMiB);
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

// From the header, or from where the points are when the header's box is suspect.
// (Reading the footprint of every tile whose chunks are sized by memory would also catch
// tiles that are crowded in a part of a sound box, such as coastal tiles, but it costs
// 10-15 % of such a run: real7 at 256M, 0.3 s of 2.0.)
FullPlan make_plan(const las::FileMetadata& m, const EnrichOptions& o) {
    return plan_with(m, o, footprint_if_suspect(m, o));
}

}  // namespace

TilePlan plan_tile(const las::FileMetadata& m, const EnrichOptions& o) {
    return make_plan(m, o).plan;
}

std::uint64_t minimum_tile_memory(const las::FileMetadata& m, const EnrichOptions& o) {
    return minimum_memory(plan_inputs(m, o, footprint_if_suspect(m, o).get()), o.features.size());
}

namespace {

// The points loaded for one chunk: its own points first, then the halo.
struct ChunkCloud {
    // Filled by parallel loops right after resize().
    util::UninitVector<double> x, y, z;
    util::UninitVector<std::uint64_t> ids;
    std::size_t own = 0;

    void clear() {
        x.clear();
        y.clear();
        z.clear();
        ids.clear();
        own = 0;
    }
    void resize(std::size_t points) {
        x.resize(points);
        y.resize(points);
        z.resize(points);
        ids.resize(points);
    }
    void release() {
        clear();
        x.shrink_to_fit();
        y.shrink_to_fit();
        z.shrink_to_fit();
        ids.shrink_to_fit();
    }
};

class SummaryAccumulator {
  public:
    explicit SummaryAccumulator(std::span<const Feature> features) {
        for (const Feature f : features) {
            summary_.push_back({f, std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(), 0});
        }
    }
    // Adds `rows` of one value per feature.
    void add(std::span<const float> rows) {
        const std::size_t width = summary_.size();
        if (width == 0) return;
        const Partial chunk = tbb::parallel_reduce(
            tbb::blocked_range<std::size_t>(0, rows.size() / width, 16384), Partial(width),
            [&](const tbb::blocked_range<std::size_t>& points, Partial acc) {
                for (std::size_t i = points.begin(); i != points.end(); ++i) {
                    acc.add(rows.subspan(i * width, width));
                }
                return acc;
            },
            [](Partial a, const Partial& b) {
                a.merge(b);
                return a;
            });
        for (std::size_t f = 0; f < width; ++f) {
            summary_[f].min = std::min<double>(summary_[f].min, chunk.min[f]);
            summary_[f].max = std::max<double>(summary_[f].max, chunk.max[f]);
            summary_[f].no_data += chunk.no_data[f];
        }
    }
    std::vector<FeatureSummary> result() const {
        auto out = summary_;
        for (auto& s : out) {
            if (s.min > s.max) s.min = s.max = std::numeric_limits<double>::quiet_NaN();
        }
        return out;
    }

  private:
    // Per-feature extremes and no-data counts of some rows, kept without branches (NaN
    // fails both comparisons), so that the loop over a row's features vectorises.
    struct Partial {
        explicit Partial(std::size_t width)
            : min(width, std::numeric_limits<float>::infinity()),
              max(width, -std::numeric_limits<float>::infinity()),
              no_data(width, 0) {}
        void add(std::span<const float> row) {
            for (std::size_t f = 0; f < row.size(); ++f) {
                const float v = row[f];
                min[f] = v < min[f] ? v : min[f];
                max[f] = v > max[f] ? v : max[f];
                no_data[f] += v != v ? 1 : 0;
            }
        }
        void merge(const Partial& other) {
            for (std::size_t f = 0; f < min.size(); ++f) {
                min[f] = std::min(min[f], other.min[f]);
                max[f] = std::max(max[f], other.max[f]);
                no_data[f] += other.no_data[f];
            }
        }
        std::vector<float> min, max;
        std::vector<std::uint64_t> no_data;
    };

    std::vector<FeatureSummary> summary_;
};

using detail::classification_of;

class ProgressCounter {
  public:
    ProgressCounter(const EnrichOptions& o, std::uint64_t points)
        : callback_(o.on_progress), total_(3 * points) {}
    void advance(std::uint64_t units) {
        done_ += units;
        if (callback_) callback_(std::min(done_, total_), total_);
    }

  private:
    std::function<void(std::uint64_t, std::uint64_t)> callback_;
    std::uint64_t total_;
    std::uint64_t done_ = 0;
};

// Adds the lifetime of the object to a phase total (for the debug log).
class PhaseTimer {
  public:
    struct Totals {
        double cpu = 0, wall = 0;
    };
    explicit PhaseTimer(Totals& totals)
        : totals_(totals),
          cpu_start_(seconds(CLOCK_PROCESS_CPUTIME_ID)),
          wall_start_(seconds(CLOCK_MONOTONIC)) {}
    ~PhaseTimer() {
        totals_.cpu += seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start_;
        totals_.wall += seconds(CLOCK_MONOTONIC) - wall_start_;
    }
    PhaseTimer(const PhaseTimer&) = delete;
    PhaseTimer& operator=(const PhaseTimer&) = delete;

  private:
    // CPU time says where the work goes even on a shared machine; CPU over wall time is
    // how well the phase keeps the cores busy.
    static double seconds(clockid_t clock) {
        timespec t{};
        ::clock_gettime(clock, &t);
        return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    }
    Totals& totals_;
    double cpu_start_, wall_start_;
};

// The feature bytes (and scanner channels) of the points in file order, a run at a time:
// from memory, or merged from the out-of-core chunk results.
class FeatureFeed {
  public:
    virtual ~FeatureFeed() = default;
    // Appends the next `count` points' feature bytes and channels.
    virtual void next(std::size_t count, std::vector<std::uint8_t>& features,
                      std::vector<std::uint8_t>& channels) = 0;
};

class InMemoryFeed final : public FeatureFeed {
  public:
    InMemoryFeed(std::span<const std::uint8_t> features, std::span<const std::uint8_t> channels,
                 std::size_t feature_bytes)
        : features_(features), channels_(channels), feature_bytes_(feature_bytes) {}
    void next(std::size_t count, std::vector<std::uint8_t>& features,
              std::vector<std::uint8_t>& channels) override {
        const auto f = features_.subspan(position_ * feature_bytes_, count * feature_bytes_);
        features.insert(features.end(), f.begin(), f.end());
        if (!channels_.empty()) {
            const auto c = channels_.subspan(position_, count);
            channels.insert(channels.end(), c.begin(), c.end());
        }
        position_ += count;
    }

  private:
    std::span<const std::uint8_t> features_, channels_;
    std::size_t feature_bytes_;
    std::size_t position_ = 0;
};

// Sequence entries: the point's chunk, its scanner channel in the top two bits.
constexpr std::uint32_t kChannelShift = 30;
constexpr std::uint32_t kChunkMask = (std::uint32_t{1} << kChannelShift) - 1;

class MergeFeed final : public FeatureFeed {
  public:
    MergeFeed(const fs::path& folder, std::size_t chunks, std::size_t buffer_bytes,
              std::size_t feature_bytes)
        : sequence_(bucket_file_name(folder, "sequence", 0), 1 << 20),
          feature_bytes_(feature_bytes) {
        for (std::size_t c = 0; c < chunks; ++c) {
            streams_.push_back(std::make_unique<SequentialReader>(
                bucket_file_name(folder, "out", c), buffer_bytes));
        }
    }
    void next(std::size_t count, std::vector<std::uint8_t>& features,
              std::vector<std::uint8_t>& channels) override {
        const std::size_t first_feature = features.size(), first_channel = channels.size();
        features.resize(first_feature + count * feature_bytes_);
        channels.resize(first_channel + count);
        std::uint8_t* feature_out = features.data() + first_feature;
        std::uint8_t* channel_out = channels.data() + first_channel;
        for (std::size_t i = 0; i < count; ++i) {
            const auto entry = util::load_le<std::uint32_t>(sequence_.next(4));
            const std::uint8_t* bytes = streams_[entry & kChunkMask]->next(feature_bytes_);
            std::memcpy(feature_out + i * feature_bytes_, bytes, feature_bytes_);
            channel_out[i] = static_cast<std::uint8_t>(entry >> kChannelShift);
        }
    }

  private:
    SequentialReader sequence_;
    std::vector<std::unique_ptr<SequentialReader>> streams_;
    std::size_t feature_bytes_;
};

struct RawXyz {
    std::int32_t x, y, z;
};

RawXyz raw_xyz(const std::uint8_t* record) {
    return {util::load_le<std::int32_t>(record), util::load_le<std::int32_t>(record + 4),
            util::load_le<std::int32_t>(record + 8)};
}

std::uint8_t scanner_channel(const std::uint8_t* record, std::uint8_t format) {
    return las::is_extended_format(format) ? (record[15] >> 4) & 3 : 0;
}

// Everything the passes share.
class TileJob {
  public:
    TileJob(const fs::path& input, const fs::path& output, const EnrichOptions& options)
        : input_(input),
          output_(output),
          options_(options),
          // Pass 1 needs positions and classes only; the output takes every field from
          // the input again (by copying compressed layers, or by a second full read).
          reader_(laz::open_reader(input, {options.threads, laz::DecodeScope::positions})),
          metadata_(reader_->metadata()),
          output_layout_(options.features, options.precision, options.neighbourhood),
          layout_(record_layout(metadata_, output_layout_)),
          feature_bytes_(output_layout_.bytes_per_point()),
          frame_(make_frame(metadata_.header)),
          full_plan_(make_plan(metadata_, options)),
          halo_(plan_.halo * (1 + 1e-9) + 1e-6),
          need_ground_(needs_ground(options.features)),
          summary_(options.features),
          progress_(options, plan_.points) {
        grid_ = full_plan_.grid;
        for (const auto c : options.ground_classes) ground_classes_.set(c);
        check_dimension_names();
        if (full_plan_.footprint) note_footprint(*full_plan_.footprint);
        if (plan_.out_of_core && grid_.count() > kChunkMask) {
            throw std::logic_error("enrich: too many out-of-core chunks");
        }
        plan_layer_appending();
    }

    EnrichResult run() {
        const auto start = std::chrono::steady_clock::now();
        EnrichResult result;
        result.plan = plan_;
        result.out_of_core = plan_.out_of_core;
        result.chunks = grid_.count();
        if (plan_.out_of_core) {
            run_out_of_core(result);
        } else {
            run_in_core();
        }
        spdlog::debug(
            "{}: CPU/wall seconds: read {:.2f}/{:.2f}, features {:.2f}/{:.2f}, write "
            "{:.2f}/{:.2f} ({})",
            metadata_.path, read_time_.cpu, read_time_.wall, compute_time_.cpu, compute_time_.wall,
            write_time_.cpu, write_time_.wall,
            appending() ? "compressed input layers copied" : "records encoded again");
        result.points = points_read_;
        result.reused_compressed_layers = appending();
        result.summary = summary_.result();
        result.warnings = metadata_.warnings;
        result.warnings.insert(result.warnings.end(), warnings_.begin(), warnings_.end());
        result.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.peak_rss_bytes = util::peak_rss_bytes();
        return result;
    }

  private:
    void check_dimension_names() const {
        for (const auto& dim : output_layout_.dimensions()) {
            const auto name = feature_name(dim.feature);
            if (metadata_.extra_bytes.find(name)) {
                throw util::InputError(metadata_.path,
                                       fmt::format("already has an extra-bytes dimension named "
                                                   "'{}' (enriched before?)",
                                                   name));
            }
        }
    }

    void note_footprint(const detail::TileFootprint& footprint) {
        const XyExtent header = header_extent(metadata_.header, frame_);
        const double core_area = area_of(footprint.core);
        spdlog::debug("{}: planned on the points' footprint: {} points, core box {:.0f} x {:.0f} m",
                      metadata_.path, footprint.points, footprint.core.max_x - footprint.core.min_x,
                      footprint.core.max_y - footprint.core.min_y);
        if (!plausible_extent(header) || core_area * 4 < area_of(header)) {
            warnings_.push_back(fmt::format(
                "the header's bounding box ({:.3g} km2) is far larger than the points' "
                "({:.3g} km2, all but {} of {} points): stray points? Chunks and memory were "
                "planned on the points",
                area_of(header) / 1e6, core_area / 1e6, footprint.outside_core, footprint.points));
        }
    }

    // A layered LAZ input written to LAZ keeps its compressed layers: only the features'
    // layers are encoded (see laz/layer_append.hpp).
    void plan_layer_appending() {
        if (!options_.reuse_compressed_layers) return;
        if (!options_.compress.value_or(laz::is_laz_path(output_))) return;
        const auto vlr = laz::find_laszip_vlr(metadata_);
        if (!vlr || !(metadata_.header.point_format_raw & 0xC0)) return;
        const std::string why = laz::why_layers_cannot_be_appended(
            *vlr, layout_.in, static_cast<std::uint16_t>(feature_bytes_));
        if (!why.empty()) {
            spdlog::debug("{}: features appended by encoding records again: {}", metadata_.path,
                          why);
            return;
        }
        const util::File file(input_, util::File::Mode::read);
        const laz::LazPointData data{metadata_.header.offset_to_point_data,
                                     metadata_.point_data_end,
                                     metadata_.header.point_count(),
                                     metadata_.header.point_format,
                                     layout_.in,
                                     *vlr};
        laz::ChunkTable table = laz::read_chunk_table(file, data);
        if (!table.problem.empty()) return;  // the reader warns about it
        std::uint64_t points = 0;
        for (const auto& chunk : table.chunks) points += chunk.point_count;
        if (points != plan_.points) return;
        appender_.emplace(*vlr, layout_.in, static_cast<std::uint16_t>(feature_bytes_));
        input_chunks_ = std::move(table.chunks);
    }

    // Pass 1: streams the records, feeds the ground model (file order, so that its sums
    // do not depend on the chunking) and hands every record to `sink(index, record, x, y)`.
    template <typename Sink>
    void read_pass(Sink&& sink) {
        const PhaseTimer timer(read_time_);
        const auto& h = metadata_.header;
        const XyExtent extent = ground_extent();
        if (need_ground_ && plausible_extent(extent)) {
            try {
                ground_builder_.emplace(extent, options_.ground);
            } catch (const util::UsageError&) {
                ground_builder_.reset();  // absurd header bounds: rebuilt from the data below
            }
        }
        const bool extended = las::is_extended_format(h.point_format);
        std::vector<std::uint8_t> batch(kReadBatchPoints * layout_.in);
        std::uint64_t index = 0;
        while (const std::size_t n = reader_->read(batch)) {
            // The header statistics, for an output written from compressed layers.
            if (appender_) stats_.add(std::span(batch).first(n * layout_.in), layout_.in, extended);
            for (std::size_t i = 0; i < n; ++i, ++index) {
                const std::uint8_t* record = batch.data() + i * layout_.in;
                const double x = frame_.x(util::load_le<std::int32_t>(record));
                const double y = frame_.y(util::load_le<std::int32_t>(record + 4));
                note_extent(x, y);
                if (ground_builder_ &&
                    ground_classes_.test(classification_of(record, h.point_format))) {
                    ground_builder_->add(x, y, frame_.z(util::load_le<std::int32_t>(record + 8)));
                }
                sink(index, record, x, y);
            }
            progress_.advance(n);
        }
        points_read_ = index;
        finish_ground();
    }

    // The ground grid's extent: the header's, unless the points' footprint was read and
    // shows points beyond it (wrong bounds), which would make the model be built again
    // after the read pass (see finish_ground).
    XyExtent ground_extent() {
        const auto& footprint = full_plan_.footprint;
        if (!footprint) return header_extent(metadata_.header, frame_);
        if (!footprint->header_holds_points)
            warnings_.push_back(
                "header bounds do not cover the points (ground grid on the points)");
        return footprint->ground_extent;
    }

    void note_extent(double x, double y) {
        data_extent_.min_x = std::min(data_extent_.min_x, x);
        data_extent_.max_x = std::max(data_extent_.max_x, x);
        data_extent_.min_y = std::min(data_extent_.min_y, y);
        data_extent_.max_y = std::max(data_extent_.max_y, y);
    }

    void finish_ground() {
        if (!need_ground_) return;
        if (ground_builder_ && ground_builder_->ignored_count() == 0) {
            ground_ = ground_builder_->build();
            ground_builder_.reset();
            return;
        }
        ground_builder_.reset();
        if (points_read_ == 0) return;
        // The header bounds do not cover the points: read the ground points again with the
        // true extent (still in file order).
        warnings_.push_back("header bounds do not cover the points; ground model rebuilt");
        GroundModelBuilder builder(data_extent_, options_.ground);
        auto reader = laz::open_reader(input_, {options_.threads, laz::DecodeScope::positions});
        std::vector<std::uint8_t> batch(kReadBatchPoints * layout_.in);
        const auto format = metadata_.header.point_format;
        while (const std::size_t n = reader->read(batch)) {
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint8_t* record = batch.data() + i * layout_.in;
                if (!ground_classes_.test(classification_of(record, format))) continue;
                builder.add(frame_.x(util::load_le<std::int32_t>(record)),
                            frame_.y(util::load_le<std::int32_t>(record + 4)),
                            frame_.z(util::load_le<std::int32_t>(record + 8)));
            }
        }
        ground_ = builder.build();
    }

    void set_point(ChunkCloud& cloud, std::size_t at, RawXyz p, std::uint64_t id) const {
        cloud.x[at] = frame_.x(p.x);
        cloud.y[at] = frame_.y(p.y);
        cloud.z[at] = frame_.z(p.z);
        cloud.ids[at] = id;
    }

    // Computes the features of the cloud's own points into rows_.
    void compute_chunk(const ChunkCloud& cloud) {
        const PhaseTimer timer(compute_time_);
        const std::size_t own = cloud.own;
        rows_.resize(own * options_.features.size());  // every value is written below
        if (own > 0) {
            query_.resize(own);
            detail::parallel_for_index(
                own, [&](std::size_t i) { query_[i] = static_cast<std::uint32_t>(i); });
            const PointCloudView view{cloud.x, cloud.y, cloud.z, cloud.ids};
            compute_features(view, query_, options_.features, options_.neighbourhood,
                             need_ground_ ? &ground_ : nullptr, rows_);
        }
        summary_.add(rows_);
        progress_.advance(own);
    }

    // Stores the last computed chunk's features of its first `own` points, point i's at
    // destination(i).
    template <typename Destination>
    void encode_features(std::size_t own, Destination&& destination) const {
        const std::size_t width = options_.features.size();
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, own, 16384),
                          [&](const tbb::blocked_range<std::size_t>& points) {
                              for (std::size_t i = points.begin(); i != points.end(); ++i) {
                                  output_layout_.encode(std::span(rows_).subspan(i * width, width),
                                                        destination(i));
                              }
                          });
    }

    // ---- in memory ----------------------------------------------------------------------

    void run_in_core() {
        const std::uint64_t expected = plan_.points;
        std::vector<RawXyz> xyz;
        xyz.reserve(expected);
        std::vector<std::uint8_t> channels;
        if (appender_) channels.reserve(expected);
        std::vector<std::uint32_t> chunk_of(expected);
        // Each chunk's halo points (file order), listed as the points stream by.
        std::vector<std::vector<std::uint32_t>> halo_of(grid_.count());
        const auto format = metadata_.header.point_format;
        read_pass([&](std::uint64_t index, const std::uint8_t* record, double x, double y) {
            if (index >= expected) {
                throw util::InputError(metadata_.path, "more point records than announced");
            }
            xyz.push_back(raw_xyz(record));
            if (appender_) channels.push_back(scanner_channel(record, format));
            chunk_of[index] = grid_.chunk_of(x, y);
            if (grid_.count() > 1) {
                grid_.for_each_halo_chunk(x, y, halo_, [&](std::uint32_t h) {
                    halo_of[h].push_back(static_cast<std::uint32_t>(index));
                });
            }
        });
        const std::uint64_t n = points_read_;

        // Points grouped by chunk, in file order within each chunk.
        std::vector<std::uint64_t> start(grid_.count() + 1, 0);
        for (std::uint64_t i = 0; i < n; ++i) ++start[chunk_of[i] + 1];
        for (std::size_t c = 0; c < grid_.count(); ++c) start[c + 1] += start[c];
        std::vector<std::uint32_t> order(n);
        {
            std::vector<std::uint64_t> fill(start.begin(), start.end() - 1);
            for (std::uint64_t i = 0; i < n; ++i)
                order[fill[chunk_of[i]]++] = static_cast<std::uint32_t>(i);
        }
        std::vector<std::uint32_t>().swap(chunk_of);

        // Every byte is written by a chunk before it is read: no zero-filling.
        const auto features = std::make_unique_for_overwrite<std::uint8_t[]>(n * feature_bytes_);
        ChunkCloud cloud;
        for (std::uint32_t c = 0; c < grid_.count(); ++c) {
            const auto own = static_cast<std::size_t>(start[c + 1] - start[c]);
            cloud.clear();
            const std::vector<std::uint32_t>& halo = halo_of[c];
            cloud.resize(own + halo.size());
            detail::parallel_for_index(own + halo.size(), [&](std::size_t i) {
                const std::uint32_t id = i < own ? order[start[c] + i] : halo[i - own];
                set_point(cloud, i, xyz[id], id);
            });
            cloud.own = own;
            std::vector<std::uint32_t>().swap(halo_of[c]);
            compute_chunk(cloud);
            encode_features(cloud.own, [&](std::size_t i) {
                return features.get() + cloud.ids[i] * feature_bytes_;
            });
        }
        cloud.release();
        std::vector<std::uint32_t>().swap(order);
        std::vector<RawXyz>().swap(xyz);

        InMemoryFeed feed(std::span(features.get(), n * feature_bytes_), channels, feature_bytes_);
        write_output(feed);
    }

    // ---- out of core --------------------------------------------------------------------

    void run_out_of_core(EnrichResult& result) {
        const fs::path parent =
            options_.temp_dir.empty()
                ? (output_.has_parent_path() ? output_.parent_path() : fs::path("."))
                : options_.temp_dir;
        const util::ScratchDir scratch(parent, "enrich");
        const std::size_t chunks = grid_.count();
        const double usable = static_cast<double>(options_.memory_budget) * kUsableShare;
        const auto buffer_bytes = static_cast<std::size_t>(
            std::clamp(std::min(usable / 8.0, 64.0 * kMiB) / static_cast<double>(chunks),
                       16.0 * 1024, 4.0 * kMiB));

        // Pass 1: bucket the points (own and halo) by chunk; remember each point's chunk
        // and channel in file order.
        std::vector<bool> crowded(chunks, false);  // holding more than the plan allows
        {
            BucketWriter buckets(scratch.path(), "bucket", chunks, buffer_bytes);
            BucketWriter sequence(scratch.path(), "sequence", 1, 1 << 20);
            BucketEntry entry{};
            const auto format = metadata_.header.point_format;
            read_pass([&](std::uint64_t index, const std::uint8_t* record, double x, double y) {
                const std::uint32_t chunk = grid_.chunk_of(x, y);
                std::array<std::uint8_t, 4> sequence_entry{};
                util::store_le<std::uint32_t>(
                    sequence_entry.data(),
                    chunk | std::uint32_t{scanner_channel(record, format)} << kChannelShift);
                sequence.append(0, sequence_entry);
                util::store_le<std::uint64_t>(entry.data(), index);
                std::memcpy(entry.data() + 8, record, 12);
                bucket_with_halo(grid_, buckets, chunk, entry, x, y);
            });
            buckets.finish();
            sequence.finish();
            for (std::size_t c = 0; c < chunks; ++c) {
                result.scratch_bytes += buckets.bytes_written(c);
                crowded[c] = buckets.bytes_written(c) / kHaloEntrySize > crowded_entries();
            }
        }

        // Pass 2: each chunk on its own, its own points' feature bytes in file order. The
        // next bucket is read and the last chunk's features written while a chunk is
        // computed: done in turn, the file copies left a core idle.
        {
            std::vector<std::uint8_t> next_bucket, written;
            tbb::task_group reads, writes;  // after the buffers: destroyed (waited) first
            const auto read_next = [&](std::size_t c) {
                if (crowded[c]) return;  // never whole in memory: split (below)
                reads.run([&, c] {
                    next_bucket = read_bucket(bucket_file_name(scratch.path(), "bucket", c));
                });
            };
            read_next(0);
            for (std::size_t c = 0; c < chunks; ++c) {
                reads.wait();
                if (crowded[c]) {
                    writes.wait();
                    std::vector<std::uint8_t>().swap(written);
                    const fs::path bucket = bucket_file_name(scratch.path(), "bucket", c);
                    spdlog::debug(
                        "{}: chunk {} holds {} points with its halo, over the {} planned: "
                        "split",
                        metadata_.path, c, fs::file_size(bucket) / kHaloEntrySize,
                        crowded_entries());
                    result.scratch_bytes += compute_crowded(
                        scratch.path(), bucket, chunk_square(grid_, c),
                        bucket_file_name(scratch.path(), "out", c), fmt::format("split{}-", c));
                    ++result.split_chunks;
                    if (c + 1 < chunks) read_next(c + 1);
                    continue;
                }
                std::vector<std::uint8_t> bucket = std::move(next_bucket);
                next_bucket = {};
                if (c + 1 < chunks) read_next(c + 1);
                std::vector<std::uint8_t> features = compute_bucket(std::move(bucket));
                result.scratch_bytes += features.size();
                writes.wait();
                written = std::move(features);
                writes.run(
                    [&, c] { write_scratch(bucket_file_name(scratch.path(), "out", c), written); });
            }
            writes.wait();
        }

        // Pass 3: the output, the chunks' features merged back into file order.
        MergeFeed feed(scratch.path(), chunks, buffer_bytes, feature_bytes_);
        write_output(feed);
    }

    using BucketEntry = std::array<std::uint8_t, kHaloEntrySize>;

    // Appends `entry` to the bucket of `chunk` as it is, and flagged as halo to the bucket
    // of every other chunk of `grid` whose halo holds (x, y).
    void bucket_with_halo(const ChunkGrid& grid, BucketWriter& buckets, std::uint32_t chunk,
                          BucketEntry entry, double x, double y) const {
        buckets.append(chunk, entry);
        if (grid.count() == 1) return;
        util::store_le<std::uint64_t>(entry.data(),
                                      util::load_le<std::uint64_t>(entry.data()) | kHaloFlag);
        grid.for_each_halo_chunk(x, y, halo_, [&](std::uint32_t h) { buckets.append(h, entry); });
    }

    // Entries of a bucket past which its chunk holds more points than the budget allows
    // (its capacity, halo included).
    std::uint64_t crowded_entries() const {
        const double share = grid_.count() > 1 ? halo_factor(grid_.side, plan_.halo) : 1.0;
        return static_cast<std::uint64_t>(static_cast<double>(plan_.chunk_capacity) * share);
    }

    struct ChunkSquare {
        double x0, y0, side;
    };
    static ChunkSquare chunk_square(const ChunkGrid& grid, std::uint32_t chunk) {
        return {grid.x0 + (chunk % grid.columns) * grid.side,
                grid.y0 + (chunk / grid.columns) * grid.side, grid.side};
    }

    // A chunk whose points crowd beyond the plan (a coastal tile that is mostly sea, a town
    // among fields: the plan knows only the mean density) is split on disk into k x k
    // sub-chunks, each with its own halo, computed one by one (split again if need be);
    // their features are then merged back into the bucket's order. Sub-chunks take their
    // halo from the chunk's points and halo, which hold every point within the halo of
    // any part of the chunk, so the features are those of any other chunking. Writes the
    // chunk's own features to `out`; returns the scratch bytes written.
    std::uint64_t compute_crowded(const fs::path& folder, const fs::path& bucket,
                                  const ChunkSquare& square, const fs::path& out,
                                  const std::string& stem) {
        const std::uint64_t entries = fs::file_size(bucket) / kHaloEntrySize;
        const std::uint64_t limit = std::max<std::uint64_t>(crowded_entries(), 1);
        // Sub-chunks no narrower than two halos (their halos then reach their neighbours only).
        const auto most = static_cast<std::size_t>(std::floor(square.side / (2 * halo_)));
        // At most 16 x 16 at a time (open files); a sub-chunk still crowded is split again.
        const std::size_t k =
            std::min({most, std::size_t{16},
                      static_cast<std::size_t>(std::ceil(std::sqrt(1.5 * entries / limit)))});
        if (k < 2) return compute_to_file(bucket, out);  // as crowded as a chunk can be
        spdlog::debug("{}: {} points with halo split into {} x {} chunks of {:.0f} m ({})",
                      metadata_.path, entries, k, k, square.side / static_cast<double>(k), stem);
        ChunkGrid sub;
        sub.x0 = square.x0;
        sub.y0 = square.y0;
        sub.side = square.side / static_cast<double>(k);
        sub.columns = sub.rows = static_cast<std::uint32_t>(k);
        const SplitBucket split = split_bucket(bucket, entries, sub, folder, stem);
        std::uint64_t scratch_bytes = split.bytes;
        for (std::uint32_t c = 0; c < sub.count(); ++c) {
            const fs::path sub_bucket = bucket_file_name(folder, stem + "bucket", c);
            const fs::path sub_out = bucket_file_name(folder, stem + "out", c);
            scratch_bytes += fs::file_size(sub_bucket) / kHaloEntrySize > limit
                                 ? compute_crowded(folder, sub_bucket, chunk_square(sub, c),
                                                   sub_out, fmt::format("{}{}-", stem, c))
                                 : compute_to_file(sub_bucket, sub_out);
        }
        merge_in_bucket_order(folder, stem, sub.count(), split.own, out);
        return scratch_bytes + split.own * feature_bytes_;
    }

    struct SplitBucket {
        std::uint64_t own = 0;    // the chunk's own points
        std::uint64_t bytes = 0;  // written to the sub-buckets
    };

    // Streams a bucket into the sub-buckets `<stem>bucket-*` of `sub` (own points to their
    // sub-chunk, and every point to the halos of the sub-chunks it is near) and, per own
    // point in bucket order, its sub-chunk into `<stem>route-0`. Deletes the bucket.
    SplitBucket split_bucket(const fs::path& bucket, std::uint64_t entries, const ChunkGrid& sub,
                             const fs::path& folder, const std::string& stem) const {
        SplitBucket split;
        {
            SequentialReader in(bucket, 1 << 20);
            BucketWriter subs(folder, stem + "bucket", sub.count(), 64 << 10);
            BucketWriter route(folder, stem + "route", 1, 1 << 20);
            BucketEntry entry{};
            for (std::uint64_t e = 0; e < entries; ++e) {
                std::memcpy(entry.data(), in.next(kHaloEntrySize), kHaloEntrySize);
                const auto id = util::load_le<std::uint64_t>(entry.data());
                const RawXyz p = raw_xyz(entry.data() + 8);
                const double x = frame_.x(p.x), y = frame_.y(p.y);
                const std::uint32_t at = sub.chunk_of(x, y);
                if ((id & kHaloFlag) == 0) {
                    std::array<std::uint8_t, 2> to{};
                    util::store_le<std::uint16_t>(to.data(), static_cast<std::uint16_t>(at));
                    route.append(0, to);
                    ++split.own;
                }
                bucket_with_halo(sub, subs, at, entry, x, y);
            }
            subs.finish();
            route.finish();
            for (std::uint32_t c = 0; c < sub.count(); ++c) split.bytes += subs.bytes_written(c);
        }
        std::error_code ignored;
        fs::remove(bucket, ignored);
        return split;
    }

    // Writes the sub-chunks' features (`<stem>out-*`) to `out` in the split bucket's order
    // (`<stem>route-0`), and deletes them.
    void merge_in_bucket_order(const fs::path& folder, const std::string& stem,
                               std::uint32_t sub_chunks, std::uint64_t own,
                               const fs::path& out) const {
        {
            SequentialReader route(bucket_file_name(folder, stem + "route", 0), 1 << 20);
            std::vector<std::unique_ptr<SequentialReader>> features_of;
            for (std::uint32_t c = 0; c < sub_chunks; ++c) {
                features_of.push_back(std::make_unique<SequentialReader>(
                    bucket_file_name(folder, stem + "out", c), 64 << 10));
            }
            util::File file(out, util::File::Mode::write);
            std::vector<std::uint8_t> block;
            block.reserve(1 << 20);
            for (std::uint64_t i = 0; i < own; ++i) {
                const auto at = util::load_le<std::uint16_t>(route.next(2));
                const std::uint8_t* features = features_of[at]->next(feature_bytes_);
                block.insert(block.end(), features, features + feature_bytes_);
                if (block.size() >= (1 << 20)) {
                    file.write(block);
                    block.clear();
                }
            }
            file.write(block);
            file.close();
        }
        std::error_code ignored;
        fs::remove(bucket_file_name(folder, stem + "route", 0), ignored);
        for (std::uint32_t c = 0; c < sub_chunks; ++c)
            fs::remove(bucket_file_name(folder, stem + "out", c), ignored);
    }

    // Computes a bucket's chunk into `out`; returns the bytes written.
    std::uint64_t compute_to_file(const fs::path& bucket, const fs::path& out) {
        const std::vector<std::uint8_t> features = compute_bucket(read_bucket(bucket));
        write_scratch(out, features);
        return features.size();
    }

    static void write_scratch(const fs::path& path, std::span<const std::uint8_t> bytes) {
        util::File file(path, util::File::Mode::write);
        file.write(bytes);
        file.close();
    }

    // A bucket's entries (deleted from the disk once read).
    static std::vector<std::uint8_t> read_bucket(const fs::path& path) {
        std::vector<std::uint8_t> bytes;
        {
            util::File file(path, util::File::Mode::read);
            bytes.resize(file.size());
            file.read_exact(bytes, "scratch bucket");
        }
        std::error_code ignored;
        fs::remove(path, ignored);
        if (bytes.size() % kHaloEntrySize != 0) {
            throw util::InputError(path.string(), "scratch bucket has a partial entry");
        }
        return bytes;
    }

    // Computes one bucket's chunk; returns its own points' feature bytes, in bucket order.
    std::vector<std::uint8_t> compute_bucket(std::vector<std::uint8_t> bytes) {
        // Own points first (they are what the features are computed for), then the halo,
        // each in bucket order: blocks of entries are counted, then placed, in parallel.
        const std::size_t entries = bytes.size() / kHaloEntrySize;
        const auto is_own = [&](std::size_t e) {
            return (util::load_le<std::uint64_t>(bytes.data() + e * kHaloEntrySize) & kHaloFlag) ==
                   0;
        };
        const std::vector<std::size_t> own_before = detail::kept_before_blocks(entries, is_own);
        const std::size_t own_total = own_before.back();
        ChunkCloud cloud;
        cloud.resize(entries);
        cloud.own = own_total;
        detail::for_each_block(entries, [&](std::size_t b, std::size_t first, std::size_t last) {
            std::size_t own_at = own_before[b];
            std::size_t halo_at = own_total + first - own_before[b];
            for (std::size_t e = first; e < last; ++e) {
                const std::uint8_t* entry = bytes.data() + e * kHaloEntrySize;
                const auto id = util::load_le<std::uint64_t>(entry);
                set_point(cloud, (id & kHaloFlag) ? halo_at++ : own_at++, raw_xyz(entry + 8),
                          id & ~kHaloFlag);
            }
        });
        std::vector<std::uint8_t>().swap(bytes);
        compute_chunk(cloud);
        const std::size_t own = cloud.own;
        cloud.release();

        std::vector<std::uint8_t> out(own * feature_bytes_);
        encode_features(own, [&](std::size_t i) { return out.data() + i * feature_bytes_; });
        return out;
    }

    // ---- output -------------------------------------------------------------------------

    // Whether the output copies the input's compressed layers: possible for this input
    // (plan_layer_appending) and every announced point was read.
    bool appending() const { return appender_ && points_read_ == plan_.points; }

    void write_output(FeatureFeed& feed) {
        const PhaseTimer timer(write_time_);
        if (appending()) {
            write_appending_layers(feed);
        } else {
            write_records(feed);
        }
    }

    // Every compressed input chunk, its layers copied and the features' layers added.
    void write_appending_layers(FeatureFeed& feed) {
        auto writer = make_writer(appender_->output_vlr());
        writer->add_stats(stats_);
        const util::File input(input_, util::File::Mode::read);
        const laz::LayerAppender& appender = *appender_;
        for (std::size_t c = 0; c < input_chunks_.size(); ++c) {
            const laz::ChunkLocation& chunk = input_chunks_[c];
            std::vector<std::uint8_t> compressed(chunk.byte_count);
            input.pread_exact(chunk.offset, compressed, "compressed chunk");
            std::vector<std::uint8_t> features, channels;
            const auto points = static_cast<std::size_t>(chunk.point_count);
            features.reserve(points * feature_bytes_);
            channels.reserve(points);
            feed.next(points, features, channels);
            writer->write_encoded(
                points,
                [&appender, points, c, path = metadata_.path, compressed = std::move(compressed),
                 features = std::move(features), channels = std::move(channels)] {
                    try {
                        return appender.append(compressed, points, features, channels);
                    } catch (const util::InputError& e) {
                        throw util::InputError(path, fmt::format("chunk {}: {}", c, e.problem()));
                    }
                });
            progress_.advance(points);
        }
        writer->finish();
        collect_writer_warnings(*writer);
    }

    // The input read again in full, each record followed by its features.
    void write_records(FeatureFeed& feed) {
        auto reader = laz::open_reader(input_, {options_.threads});
        auto writer = make_writer(std::nullopt);
        std::vector<std::uint8_t> in(kReadBatchPoints * layout_.in);
        std::vector<std::uint8_t> out(kReadBatchPoints * layout_.out);
        std::vector<std::uint8_t> features, channels;
        std::uint64_t done = 0;
        while (std::size_t n = reader->read(in)) {
            n = static_cast<std::size_t>(std::min<std::uint64_t>(n, points_read_ - done));
            if (n == 0) break;
            features.clear();
            channels.clear();
            feed.next(n, features, channels);
            for (std::size_t i = 0; i < n; ++i) {
                std::uint8_t* record = out.data() + i * layout_.out;
                std::memcpy(record, in.data() + i * layout_.in, layout_.in);
                std::memcpy(record + layout_.in, features.data() + i * feature_bytes_,
                            feature_bytes_);
            }
            writer->write(std::span(out).first(n * layout_.out));
            done += n;
            progress_.advance(n);
        }
        if (done != points_read_) {
            throw util::InputError(metadata_.path, "changed while being enriched (fewer points)");
        }
        writer->finish();
        collect_writer_warnings(*writer);
    }

    std::unique_ptr<las::Writer> make_writer(std::optional<laz::LaszipVlr> laszip_vlr) const {
        const auto& in = metadata_.header;
        const std::uint8_t minor = std::max<std::uint8_t>(in.version_minor, 2);
        las::WriterConfig config;
        config.header = las::derive_header(in, minor, in.point_format, layout_.out);
        if (minor == in.version_minor) config.header.global_encoding = in.global_encoding;
        config.header.extra_header_bytes = in.extra_header_bytes;
        config.vlrs = metadata_.vlrs;
        const las::Vlr schema = output_schema().to_vlr();
        const auto existing = std::ranges::find_if(
            config.vlrs, [](const las::Vlr& v) { return v.is("LASF_Spec", 4); });
        if (existing != config.vlrs.end()) {
            *existing = schema;  // same place in the VLR list
        } else {
            config.vlrs.push_back(schema);
        }
        config.bytes_after_vlrs = metadata_.bytes_after_vlrs;
        config.evlrs = metadata_.evlrs;
        laz::WriteOptions write_options;
        write_options.compress = options_.compress;
        write_options.threads = options_.threads;
        write_options.laszip_vlr = std::move(laszip_vlr);
        return laz::create_writer(output_, std::move(config), write_options);
    }

    las::ExtraBytesSchema output_schema() const {
        las::ExtraBytesSchema schema = metadata_.extra_bytes;
        if (schema.undeclared_bytes() > 0) {
            // Opaque bytes must be declared before new dimensions can follow them.
            las::ExtraBytesDescriptor opaque;
            opaque.data_type = 0;
            opaque.options = static_cast<std::uint8_t>(schema.undeclared_bytes());
            opaque.name = "undeclared_bytes";
            opaque.description = "Undeclared input extra bytes";
            const std::size_t size = schema.undeclared_bytes();
            schema.total_size = schema.declared_size;
            if (size > 255) {
                throw util::InputError(metadata_.path,
                                       "more than 255 undeclared extra bytes per record");
            }
            schema.add(opaque);
        }
        for (const auto& dim : output_layout_.dimensions()) schema.add(dim.descriptor());
        return schema;
    }

    void collect_writer_warnings(const las::Writer& writer) {
        warnings_.insert(warnings_.end(), writer.warnings.begin(), writer.warnings.end());
    }

    fs::path input_, output_;
    const EnrichOptions& options_;
    std::unique_ptr<las::Reader> reader_;
    const las::FileMetadata& metadata_;
    OutputLayout output_layout_;
    Layout layout_;
    std::size_t feature_bytes_;
    Frame frame_;
    FullPlan full_plan_;
    const TilePlan& plan_ = full_plan_.plan;
    double halo_;
    ChunkGrid grid_;
    bool need_ground_;
    std::bitset<256> ground_classes_;
    std::optional<GroundModelBuilder> ground_builder_;
    GroundModel ground_;
    XyExtent data_extent_{
        std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    SummaryAccumulator summary_;
    ProgressCounter progress_;
    std::uint64_t points_read_ = 0;
    util::UninitVector<float> rows_;  // the last chunk's features, a row per own point
    util::UninitVector<std::uint32_t> query_;
    std::vector<std::string> warnings_;
    las::PointStats stats_;  // of the input records, for a header written without them
    std::optional<laz::LayerAppender> appender_;
    std::vector<laz::ChunkLocation> input_chunks_;
    PhaseTimer::Totals read_time_, compute_time_, write_time_;
};

}  // namespace

EnrichResult enrich_file(const fs::path& input, const fs::path& output,
                         const EnrichOptions& options) {
    std::error_code ec;
    if (fs::exists(output, ec) && fs::equivalent(input, output, ec)) {
        throw util::UsageError(fmt::format("{}: output would overwrite the input", input.string()));
    }
    validate_options(options);
    tbb::task_arena arena(options.threads > 0 ? static_cast<int>(options.threads)
                                              : tbb::task_arena::automatic);
    return arena.execute([&] { return TileJob(input, output, options).run(); });
}

}  // namespace lidarmill::features
