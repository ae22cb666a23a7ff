#include "copc/converter.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "copc/format.hpp"
#include "copc/octree.hpp"
#include "copc/plan.hpp"
#include "copc/spill.hpp"
#include "copc/writer.hpp"
#include "las/convert.hpp"
#include "laz/chunk_codec.hpp"
#include "io/open.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"
#include "util/memory.hpp"
#include "util/size.hpp"
#include "util/threads.hpp"

namespace lidarmill::copc {

namespace fs = std::filesystem;
using util::load_le;
using util::store_le;

namespace {

constexpr std::size_t kReadBatchPoints = 65536;
// Binary, libraries, thread stacks, reader and codec state: kept out of the sized buffers.
constexpr std::uint64_t kFixedOverhead = 96ull << 20;
constexpr std::size_t kUnitsInFlight = 3;

struct MemoryPlan {
    std::uint64_t budget = 0;
    std::size_t pool_bytes = 0;           // pass-1 bucket buffers
    std::size_t ancestor_pool_bytes = 0;  // pass-2 ancestor buffers
    std::uint64_t unit_max_points = 0;
    std::size_t tokens = 0;  // units in flight
    int bucket_depth = 0;
};

MemoryPlan plan_memory(std::uint64_t budget, unsigned threads, std::size_t record_length,
                       std::uint64_t points, std::size_t leaf_max) {
    MemoryPlan m;
    m.budget = budget;
    const std::uint64_t usable =
        budget > kFixedOverhead + (64ull << 20) ? budget - kFixedOverhead : 64ull << 20;
    m.pool_bytes = static_cast<std::size_t>(usable / 2);
    m.ancestor_pool_bytes =
        static_cast<std::size_t>(std::min<std::uint64_t>(usable / 16, 32ull << 20));
    // Unit sizes decide the file layout, so they must not depend on the thread count: a
    // fixed number of units in flight; more threads work inside a unit (node encoding).
    (void)threads;
    m.tokens = kUnitsInFlight;
    // A unit in memory: its temporary records, the per-node copies, sort items, the sorted
    // output of the nodes being encoded and their compressed bytes.
    const std::uint64_t per_point = 3 * (record_length + 8) + 40;
    const std::uint64_t for_units = usable - m.ancestor_pool_bytes - usable / 10;
    m.unit_max_points =
        std::clamp<std::uint64_t>(for_units / m.tokens / per_point, 4 * leaf_max, 4'000'000);
    // Buckets small enough that skewed data still fills units: ~16 buckets per unit when the
    // occupied cells grow like 4^depth (airborne data is 2.5D).
    const double wanted_cells =
        16.0 * static_cast<double>(points) / static_cast<double>(m.unit_max_points);
    m.bucket_depth = std::clamp(
        static_cast<int>(std::ceil(std::log(std::max(wanted_cells, 1.0)) / std::log(4.0))), 0,
        kMaxUnitDepth);
    return m;
}

struct Cube {
    std::array<double, 3> min{};
    double side = 1;
};

Cube cube_around(const std::array<double, 3>& lo, const std::array<double, 3>& hi,
                 const std::array<double, 3>& scale) {
    double extent = 0;
    for (int axis = 0; axis < 3; ++axis) extent = std::max(extent, hi[axis] - lo[axis]);
    const double margin = 2 * std::max({scale[0], scale[1], scale[2]});
    Cube cube;
    cube.side = extent + 2 * margin;
    for (int axis = 0; axis < 3; ++axis) cube.min[axis] = (lo[axis] + hi[axis]) / 2 - cube.side / 2;
    return cube;
}

// Re-expresses integer coordinates from the input's scale/offset into the output's.
class Requantizer {
  public:
    Requantizer(const las::Header& in, const las::Header& out, std::string file)
        : in_(in), out_(out), file_(std::move(file)) {
        identity_ = in.scale == out.scale && in.offset == out.offset;
    }
    void apply(std::span<std::uint8_t> records, std::size_t count,
               std::size_t record_length) const {
        if (identity_) return;
        for (std::size_t i = 0; i < count; ++i) {
            std::uint8_t* r = records.data() + i * record_length;
            for (int axis = 0; axis < 3; ++axis) {
                const double world =
                    load_le<std::int32_t>(r + 4 * axis) * in_.scale[axis] + in_.offset[axis];
                const double q = std::round((world - out_.offset[axis]) / out_.scale[axis]);
                if (!(q >= std::numeric_limits<std::int32_t>::min() &&
                      q <= std::numeric_limits<std::int32_t>::max())) {
                    throw util::InputError(
                        file_, fmt::format("a {} coordinate ({}) lies outside the range of the "
                                           "output scale and offset (header bounds are wrong)",
                                           "XYZ"[axis], world));
                }
                store_le(r + 4 * axis, static_cast<std::int32_t>(q));
            }
        }
    }

  private:
    const las::Header& in_;
    const las::Header& out_;
    std::string file_;
    bool identity_ = true;
};

// Reads every input in order, converting records to the output layout; calls
// sink(file_index, first_point_index, records, count) per batch.
template <typename Sink>
void for_each_batch(const OutputPlan& plan, unsigned threads, Sink&& sink) {
    const auto& out = plan.header;
    std::vector<std::uint8_t> in_buffer, out_buffer;
    for (std::size_t f = 0; f < plan.inputs.size(); ++f) {
        const auto& input = plan.inputs[f];
        auto reader = io::open_reader(input.path, {threads});
        const las::Header& in = reader->header();
        las::RecordConverter converter({in.point_format, in.record_length},
                                       {out.point_format, out.record_length}, true);
        const Requantizer requantizer(in, out, input.path.string());
        in_buffer.resize(kReadBatchPoints * in.record_length);
        out_buffer.resize(kReadBatchPoints * out.record_length);
        std::uint64_t index = 0;
        while (const std::size_t n = reader->read(in_buffer)) {
            converter.convert(in_buffer, n, out_buffer);
            requantizer.apply(out_buffer, n, out.record_length);
            if (!sink(static_cast<std::uint32_t>(f), index,
                      std::span<std::uint8_t>(out_buffer.data(), n * out.record_length), n)) {
                return;
            }
            index += n;
        }
    }
}

struct Pass1Result {
    bool all_inside = true;
    las::PointStats stats;
    double gps_min = std::numeric_limits<double>::infinity();
    double gps_max = -std::numeric_limits<double>::infinity();
};

Pass1Result bucket_points(const OutputPlan& plan, const CubeGrid& grid, int bucket_depth,
                          BlockStore& store, unsigned threads, util::Progress& progress) {
    Pass1Result result;
    const std::size_t length = plan.header.record_length;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed;
    std::vector<std::uint8_t> run;
    for_each_batch(
        plan, threads,
        [&](std::uint32_t file, std::uint64_t first, std::span<std::uint8_t> records,
            std::size_t n) {
            keyed.resize(n);
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint8_t* r = records.data() + i * length;
                bool inside;
                const auto cell = grid.cell(r, inside);
                if (!inside) {
                    result.all_inside = false;
                    return false;
                }
                const int shift = kGridBits - bucket_depth;
                const VoxelKey key{bucket_depth, static_cast<std::int32_t>(cell[0] >> shift),
                                   static_cast<std::int32_t>(cell[1] >> shift),
                                   static_cast<std::int32_t>(cell[2] >> shift)};
                keyed[i] = {key.packed(), static_cast<std::uint32_t>(i)};
                const double gps = load_le<double>(r + 22);
                if (!std::isnan(gps)) {
                    result.gps_min = std::min(result.gps_min, gps);
                    result.gps_max = std::max(result.gps_max, gps);
                }
            }
            result.stats.add(records, static_cast<std::uint16_t>(length), true);
            // Grouping a batch by bucket makes one store call per run instead of per point.
            std::sort(keyed.begin(), keyed.end());
            for (std::size_t i = 0; i < n;) {
                std::size_t j = i;
                run.clear();
                for (; j < n && keyed[j].first == keyed[i].first; ++j) {
                    const std::uint8_t* r = records.data() + std::size_t{keyed[j].second} * length;
                    run.insert(run.end(), r, r + length);
                    std::uint8_t id[8];
                    store_le(id, point_id(file, first + keyed[j].second));
                    run.insert(run.end(), id, id + 8);
                }
                store.add_many(keyed[i].first, run);
                i = j;
            }
            progress.advance(n);
            return true;
        });
    return result;
}

Cube exact_cube(const OutputPlan& plan, unsigned threads) {
    std::array<double, 3> lo{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::max()};
    std::array<double, 3> hi{std::numeric_limits<double>::lowest(),
                             std::numeric_limits<double>::lowest(),
                             std::numeric_limits<double>::lowest()};
    const auto& h = plan.header;
    for_each_batch(
        plan, threads,
        [&](std::uint32_t, std::uint64_t, std::span<std::uint8_t> records, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint8_t* r = records.data() + i * h.record_length;
                for (int axis = 0; axis < 3; ++axis) {
                    const double w =
                        load_le<std::int32_t>(r + 4 * axis) * h.scale[axis] + h.offset[axis];
                    lo[axis] = std::min(lo[axis], w);
                    hi[axis] = std::max(hi[axis], w);
                }
            }
            return true;
        });
    return cube_around(lo, hi, h.scale);
}

struct Unit {
    VoxelKey key;
    std::vector<std::uint64_t> buckets;
    std::uint64_t points = 0;
};

// Splits the bucket tree top-down into subtrees of at most unit_max points (or single buckets).
std::vector<Unit> choose_units(const std::map<std::uint64_t, std::uint64_t>& bucket_counts,
                               int bucket_depth, std::uint64_t unit_max) {
    std::vector<std::map<VoxelKey, std::uint64_t>> counts(bucket_depth + 1);
    std::map<VoxelKey, std::vector<std::uint64_t>> buckets_under;
    for (const auto& [packed, count] : bucket_counts) {
        VoxelKey key = VoxelKey::unpack(packed);
        for (int d = bucket_depth; d >= 0; --d) {
            counts[d][key] += count;
            key = key.parent();
        }
    }
    std::vector<Unit> units;
    std::vector<VoxelKey> stack{VoxelKey{}};
    while (!stack.empty()) {
        const VoxelKey node = stack.back();
        stack.pop_back();
        const auto it = counts[node.d].find(node);
        if (it == counts[node.d].end()) continue;
        if (node.d == bucket_depth || it->second <= unit_max) {
            units.push_back({node, {}, it->second});
            continue;
        }
        for (int octant = 7; octant >= 0; --octant) stack.push_back(node.child(octant));
    }
    std::map<VoxelKey, std::size_t> unit_of;
    for (std::size_t i = 0; i < units.size(); ++i) unit_of[units[i].key] = i;
    for (const auto& [packed, count] : bucket_counts) {
        VoxelKey key = VoxelKey::unpack(packed);
        while (!unit_of.count(key)) key = key.parent();
        units[unit_of[key]].buckets.push_back(packed);
    }
    return units;
}

struct EncodedNode {
    VoxelKey key;
    std::uint64_t points = 0;
    std::vector<std::uint8_t> bytes;
};

std::vector<EncodedNode> encode_nodes(std::vector<NodePoints>& nodes, const las::Header& header,
                                      const laz::LaszipVlr& laszip) {
    std::vector<EncodedNode> encoded(nodes.size());
    const std::size_t length = header.record_length;
    tbb::parallel_for(std::size_t{0}, nodes.size(), [&](std::size_t i) {
        const std::uint64_t n = nodes[i].records.size() / (length + 8);
        auto sorted = sorted_output_records(nodes[i].records, length);
        std::vector<std::uint8_t>().swap(nodes[i].records);
        auto encoder = laz::make_chunk_encoder(laszip, header.point_format, header.record_length);
        encoded[i] = {nodes[i].key, n, encoder->encode(sorted, n)};
    });
    return encoded;
}

void add_missing_ancestors(std::map<VoxelKey, Entry>& entries) {
    std::vector<VoxelKey> keys;
    for (const auto& [key, e] : entries) keys.push_back(key);
    for (VoxelKey key : keys) {
        while (key.d > 0) {
            key = key.parent();
            if (!entries.emplace(key, Entry{key, 0, 0, 0}).second) break;
        }
    }
    entries.emplace(VoxelKey{}, Entry{});
}

class Pass2 {
  public:
    Pass2(const OutputPlan& plan, const CubeGrid& grid, const MemoryPlan& memory,
          std::size_t leaf_max, BlockStore& points, BlockStore& ancestors, CopcFileWriter& writer,
          util::Progress& progress)
        : plan_(plan),
          grid_(grid),
          memory_(memory),
          leaf_max_(leaf_max),
          points_(points),
          ancestors_(ancestors),
          writer_(writer),
          progress_(progress) {}

    void write_units(const std::vector<Unit>& units) {
        std::size_t next = 0;
        tbb::parallel_pipeline(
            memory_.tokens,
            tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) -> std::size_t {
                                                    if (next >= units.size()) {
                                                        fc.stop();
                                                        return 0;
                                                    }
                                                    return next++;
                                                }) &
                tbb::make_filter<std::size_t, std::shared_ptr<UnitOutput>>(
                    tbb::filter_mode::parallel, [&](std::size_t i) { return build(units[i]); }) &
                tbb::make_filter<std::shared_ptr<UnitOutput>, void>(
                    tbb::filter_mode::serial_in_order, [&](const std::shared_ptr<UnitOutput>& out) {
                        write(*out);
                        for (std::uint64_t bucket : out->buckets) points_.release(bucket);
                        for (auto& a : out->ancestors)
                            ancestors_.add_many(a.key.packed(), a.records);
                        progress_.advance(out->points);
                    }));
    }

    void write_ancestors() {
        ancestors_.flush();
        std::vector<VoxelKey> keys;
        for (const auto& [packed, count] : ancestors_.counts())
            keys.push_back(VoxelKey::unpack(packed));
        std::sort(keys.begin(), keys.end());
        std::size_t next = 0;
        tbb::parallel_pipeline(
            memory_.tokens,
            tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) -> std::size_t {
                                                    if (next >= keys.size()) {
                                                        fc.stop();
                                                        return 0;
                                                    }
                                                    return next++;
                                                }) &
                tbb::make_filter<std::size_t, std::shared_ptr<UnitOutput>>(
                    tbb::filter_mode::parallel,
                    [&](std::size_t i) {
                        std::vector<NodePoints> nodes(1);
                        nodes[0].key = keys[i];
                        ancestors_.read(keys[i].packed(), nodes[0].records);
                        auto out = std::make_shared<UnitOutput>();
                        out->nodes = encode_nodes(nodes, plan_.header, writer_.laszip());
                        return out;
                    }) &
                tbb::make_filter<std::shared_ptr<UnitOutput>, void>(
                    tbb::filter_mode::serial_in_order,
                    [&](const std::shared_ptr<UnitOutput>& out) { write(*out); }));
    }

    std::map<VoxelKey, Entry>& entries() { return entries_; }

  private:
    struct UnitOutput {
        std::vector<EncodedNode> nodes;
        std::vector<NodePoints> ancestors;
        std::vector<std::uint64_t> buckets;
        std::uint64_t points = 0;
    };

    std::shared_ptr<UnitOutput> build(const Unit& unit) {
        std::vector<std::uint8_t> records;
        records.reserve(unit.points * (plan_.header.record_length + 8));
        for (std::uint64_t bucket : unit.buckets) points_.read(bucket, records);
        UnitResult built =
            build_unit(records, plan_.header.record_length, unit.key, grid_, leaf_max_);
        std::vector<std::uint8_t>().swap(records);
        auto out = std::make_shared<UnitOutput>();
        out->nodes = encode_nodes(built.nodes, plan_.header, writer_.laszip());
        out->ancestors = std::move(built.ancestors);
        out->buckets = unit.buckets;
        out->points = unit.points;
        return out;
    }

    void write(const UnitOutput& out) {
        for (const auto& node : out.nodes) {
            const std::uint64_t offset = writer_.append_chunk(node.bytes, node.points);
            entries_[node.key] =
                Entry{node.key, offset, static_cast<std::int32_t>(node.bytes.size()),
                      static_cast<std::int32_t>(node.points)};
        }
    }

    const OutputPlan& plan_;
    const CubeGrid& grid_;
    const MemoryPlan& memory_;
    std::size_t leaf_max_;
    BlockStore& points_;
    BlockStore& ancestors_;
    CopcFileWriter& writer_;
    util::Progress& progress_;
    std::map<VoxelKey, Entry> entries_;
};

}  // namespace

ConvertResult convert(const ConvertOptions& options) {
    ConvertResult result;
    std::ostream& progress_out = options.progress_out ? *options.progress_out : std::cerr;
    OutputPlan plan = plan_output(options.inputs, options.a_srs);
    result.warnings = plan.warnings;
    const unsigned threads = util::resolve_threads(options.threads);
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, threads);

    const std::uint64_t budget =
        options.memory_budget ? options.memory_budget : util::auto_memory_budget();
    const MemoryPlan memory = plan_memory(budget, threads, plan.header.record_length,
                                          plan.total_points, options.leaf_max_points);
    result.memory_budget = budget;
    result.bucket_depth = memory.bucket_depth;
    result.unit_max_points = memory.unit_max_points;
    spdlog::debug("copc: budget {}, bucket pool {}, unit <= {} points, bucket depth {}",
                  util::format_size(budget), util::format_size(memory.pool_bytes),
                  memory.unit_max_points, memory.bucket_depth);

    const fs::path temp_parent = !options.temp_dir.empty()          ? options.temp_dir
                                 : options.output.has_parent_path() ? options.output.parent_path()
                                                                    : fs::path(".");
    TempRunDir run_dir(temp_parent);
    const std::size_t temp_length = plan.header.record_length + 8;
    auto points =
        std::make_unique<BlockStore>(run_dir.path() / "points.bin", temp_length, memory.pool_bytes);
    result.temp_files = 1;

    Cube cube = cube_around(plan.header_min, plan.header_max, plan.header.scale);
    Pass1Result pass1;
    {
        util::Progress progress("copc: read", plan.total_points, options.progress, "points",
                                &progress_out);
        CubeGrid grid(cube.min, cube.side, plan.header.scale, plan.header.offset);
        pass1 = bucket_points(plan, grid, memory.bucket_depth, *points, threads, progress);
        if (!pass1.all_inside) {
            // Header bounds that do not hold the data: measure, then start over.
            result.bounds_rescanned = true;
            result.warnings.push_back(
                "input header bounds do not contain every point; bounds measured from the data");
            cube = exact_cube(plan, threads);
            points = std::make_unique<BlockStore>(run_dir.path() / "points.bin", temp_length,
                                                  memory.pool_bytes);
            CubeGrid exact(cube.min, cube.side, plan.header.scale, plan.header.offset);
            pass1 = bucket_points(plan, exact, memory.bucket_depth, *points, threads, progress);
            if (!pass1.all_inside)
                throw util::InputError(options.inputs.front().string(),
                                       "points changed between two reads");
        }
        points->flush();
        progress.finish();
    }
    result.points = pass1.stats.count;
    if (result.points == 0)
        throw util::InputError(options.inputs.front().string(), "no points to convert");

    const CubeGrid grid(cube.min, cube.side, plan.header.scale, plan.header.offset);
    const auto units = choose_units(points->counts(), memory.bucket_depth, memory.unit_max_points);
    result.units = units.size();
    BlockStore ancestors(run_dir.path() / "ancestors.bin", temp_length, memory.ancestor_pool_bytes);
    result.temp_files = 2;
    CopcFileWriter writer(options.output, plan);
    {
        util::Progress progress("copc: build", result.points, options.progress, "points",
                                &progress_out);
        Pass2 build(plan, grid, memory, options.leaf_max_points, *points, ancestors, writer,
                    progress);
        build.write_units(units);
        build.write_ancestors();
        progress.finish();
        auto& entries = build.entries();
        add_missing_ancestors(entries);
        CopcInfo info;
        info.halfsize = cube.side / 2;
        info.center_x = cube.min[0] + info.halfsize;
        info.center_y = cube.min[1] + info.halfsize;
        info.center_z = cube.min[2] + info.halfsize;
        info.spacing = cube.side / 128;
        if (pass1.gps_min <= pass1.gps_max) {
            info.gpstime_minimum = pass1.gps_min;
            info.gpstime_maximum = pass1.gps_max;
        }
        result.peak_temp_bytes = points->peak_bytes_on_disk() + ancestors.peak_bytes_on_disk();
        writer.finish(entries, info, pass1.stats);
        result.nodes = entries.size();
        result.pages = writer.page_count();
        for (const auto& [key, e] : entries) result.max_depth = std::max(result.max_depth, key.d);
    }
    return result;
}

}  // namespace lidarmill::copc
