#include "copc/octree.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/bytes.hpp"

namespace lidarmill::copc {

using util::load_le;

namespace {
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kGridMax = (1u << kGridBits) - 1;

// Spreads the low 21 bits of v so that bit i lands on bit 3i.
std::uint64_t spread3(std::uint64_t v) {
    v &= 0x1fffff;
    v = (v | v << 32) & 0x1f00000000ffffULL;
    v = (v | v << 16) & 0x1f0000ff0000ffULL;
    v = (v | v << 8) & 0x100f00f00f00f00fULL;
    v = (v | v << 4) & 0x10c30c30c30c30c3ULL;
    v = (v | v << 2) & 0x1249249249249249ULL;
    return v;
}

std::uint32_t compact3(std::uint64_t v) {
    v &= 0x1249249249249249ULL;
    v = (v ^ (v >> 2)) & 0x10c30c30c30c30c3ULL;
    v = (v ^ (v >> 4)) & 0x100f00f00f00f00fULL;
    v = (v ^ (v >> 8)) & 0x1f0000ff0000ffULL;
    v = (v ^ (v >> 16)) & 0x1f00000000ffffULL;
    v = (v ^ (v >> 32)) & 0x1fffffULL;
    return static_cast<std::uint32_t>(v);
}

std::uint64_t id_of(const std::uint8_t* temp_record, std::size_t record_length) {
    return load_le<std::uint64_t>(temp_record + record_length);
}
}  // namespace

std::uint64_t morton_encode(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return spread3(x) | (spread3(y) << 1) | (spread3(z) << 2);
}

VoxelKey key_of_morton(std::uint64_t morton, int depth) {
    const int shift = kGridBits - depth;
    return {depth, static_cast<std::int32_t>(compact3(morton) >> shift),
            static_cast<std::int32_t>(compact3(morton >> 1) >> shift),
            static_cast<std::int32_t>(compact3(morton >> 2) >> shift)};
}

std::uint64_t sample_priority(std::uint64_t id) {
    // splitmix64 finalizer: a bijection, so priorities never tie.
    id += 0x9e3779b97f4a7c15ULL;
    id = (id ^ (id >> 30)) * 0xbf58476d1ce4e5b9ULL;
    id = (id ^ (id >> 27)) * 0x94d049bb133111ebULL;
    return id ^ (id >> 31);
}

CubeGrid::CubeGrid(std::array<double, 3> cube_min, double side, std::array<double, 3> scale,
                   std::array<double, 3> offset)
    : min_(cube_min), side_(side), scale_(scale), offset_(offset) {}

std::array<std::uint32_t, 3> CubeGrid::cell(const std::uint8_t* record, bool& inside) const {
    std::array<std::uint32_t, 3> out{};
    inside = true;
    for (int axis = 0; axis < 3; ++axis) {
        const double world =
            load_le<std::int32_t>(record + 4 * axis) * scale_[axis] + offset_[axis];
        const double t = (world - min_[axis]) / side_;
        const double slack = 0.5 * scale_[axis] / side_;
        if (!(t >= -slack && t <= 1.0 + slack)) inside = false;  // also catches NaN
        const double g = std::floor(t * (kGridMax + 1.0));
        out[axis] = g <= 0 ? 0 : g >= kGridMax ? kGridMax : static_cast<std::uint32_t>(g);
    }
    return out;
}

std::uint64_t CubeGrid::morton(const std::uint8_t* record) const {
    bool inside;
    const auto c = cell(record, inside);
    return morton_encode(c[0], c[1], c[2]);
}

VoxelKey CubeGrid::key_at(const std::uint8_t* record, int depth) const {
    bool inside;
    const auto c = cell(record, inside);
    const int shift = kGridBits - depth;
    return {depth, static_cast<std::int32_t>(c[0] >> shift),
            static_cast<std::int32_t>(c[1] >> shift), static_cast<std::int32_t>(c[2] >> shift)};
}

namespace {

struct SortItem {
    std::uint64_t morton;
    std::uint64_t id;
    std::uint32_t index;  // record index in the unit buffer
};

class UnitBuilder {
  public:
    UnitBuilder(std::vector<SortItem> items, int unit_depth, std::size_t leaf_max)
        : items_(std::move(items)),
          node_of_(items_.size(), kNone),
          unit_depth_(unit_depth),
          leaf_max_(leaf_max) {}

    void assign(std::size_t begin, std::size_t end, int depth) {
        const auto node = static_cast<std::uint32_t>(keys_.size());
        keys_.push_back(key_of_morton(items_[begin].morton, depth));
        const bool leaf = depth >= unit_depth_ && (end - begin <= leaf_max_ || depth >= kMaxDepth);
        if (leaf) {
            for (std::size_t i = begin; i < end; ++i) {
                if (node_of_[i] == kNone) node_of_[i] = node;
            }
            return;
        }
        keep_sample(begin, end, depth, node);
        const int child_shift = 3 * (kGridBits - depth - 1);
        for (std::size_t i = begin; i < end;) {
            const std::uint64_t child = items_[i].morton >> child_shift;
            std::size_t j = i + 1;
            while (j < end && (items_[j].morton >> child_shift) == child) ++j;
            assign(i, j, depth + 1);
            i = j;
        }
    }

    const std::vector<SortItem>& items() const { return items_; }
    const std::vector<std::uint32_t>& node_of() const { return node_of_; }
    const std::vector<VoxelKey>& keys() const { return keys_; }

  private:
    // Items are in morton order, so each sample cell is a contiguous run.
    void keep_sample(std::size_t begin, std::size_t end, int depth, std::uint32_t node) {
        const int cell_shift = 3 * (kGridBits - depth - kSampleLevels);
        for (std::size_t i = begin; i < end;) {
            const std::uint64_t cell = items_[i].morton >> cell_shift;
            std::size_t best = kNone;
            std::uint64_t best_priority = 0;
            std::size_t j = i;
            for (; j < end && (items_[j].morton >> cell_shift) == cell; ++j) {
                if (node_of_[j] != kNone) continue;
                const std::uint64_t priority = sample_priority(items_[j].id);
                if (best == kNone || priority < best_priority) {
                    best = j;
                    best_priority = priority;
                }
            }
            if (best != kNone) node_of_[best] = node;
            i = j;
        }
    }

    std::vector<SortItem> items_;
    std::vector<std::uint32_t> node_of_;
    std::vector<VoxelKey> keys_;
    int unit_depth_;
    std::size_t leaf_max_;
};

}  // namespace

UnitResult build_unit(std::span<const std::uint8_t> records, std::size_t record_length,
                      const VoxelKey& unit, const CubeGrid& grid, std::size_t leaf_max) {
    const std::size_t temp_length = record_length + 8;
    const std::size_t n = records.size() / temp_length;
    UnitResult result;
    if (n == 0) return result;
    std::vector<SortItem> items(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* r = records.data() + i * temp_length;
        items[i] = {grid.morton(r), id_of(r, record_length), static_cast<std::uint32_t>(i)};
    }
    std::sort(items.begin(), items.end(), [](const SortItem& a, const SortItem& b) {
        return a.morton != b.morton ? a.morton < b.morton : a.id < b.id;
    });
    UnitBuilder builder(std::move(items), unit.d, std::max<std::size_t>(leaf_max, 1));
    builder.assign(0, n, 0);

    // Counting sort of the records by node, node order = key order.
    const auto& keys = builder.keys();
    std::vector<std::uint32_t> order(keys.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
    std::vector<std::uint64_t> counts(keys.size(), 0);
    for (std::uint32_t node : builder.node_of()) ++counts[node];
    std::vector<NodePoints*> target(keys.size(), nullptr);
    result.nodes.reserve(keys.size());
    for (std::uint32_t node : order) {
        if (counts[node] == 0) continue;
        auto& list = keys[node].d < unit.d ? result.ancestors : result.nodes;
        list.push_back({keys[node], {}});
        list.back().records.reserve(counts[node] * temp_length);
    }
    // Pointers are taken once both vectors stopped growing.
    std::size_t a = 0, b = 0;
    for (std::uint32_t node : order) {
        if (counts[node] == 0) continue;
        target[node] = keys[node].d < unit.d ? &result.ancestors[a++] : &result.nodes[b++];
    }
    const auto& sorted = builder.items();
    const auto& node_of = builder.node_of();
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* r = records.data() + std::size_t{sorted[i].index} * temp_length;
        auto& out = target[node_of[i]]->records;
        out.insert(out.end(), r, r + temp_length);
    }
    return result;
}

std::vector<std::uint8_t> sorted_output_records(std::span<const std::uint8_t> temp_records,
                                                std::size_t record_length) {
    const std::size_t temp_length = record_length + 8;
    const std::size_t n = temp_records.size() / temp_length;
    struct Key {
        std::uint64_t gps;
        std::uint64_t id;
        std::uint32_t index;
    };
    std::vector<Key> keys(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* r = temp_records.data() + i * temp_length;
        // GPS time sits at byte 22 in formats 6-10.
        keys[i] = {ordered_bits(load_le<double>(r + 22)), id_of(r, record_length),
                   static_cast<std::uint32_t>(i)};
    }
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
        return a.gps != b.gps ? a.gps < b.gps : a.id < b.id;
    });
    std::vector<std::uint8_t> out(n * record_length);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(temp_records.data() + std::size_t{keys[i].index} * temp_length, record_length,
                    out.data() + i * record_length);
    }
    return out;
}

}  // namespace lidarmill::copc
