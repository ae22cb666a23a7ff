#include "copc/reader.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

#include <fmt/format.h>

#include "laz/chunk_codec.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::copc {

using util::load_le;

bool is_copc(const las::FileMetadata& metadata) {
    return !metadata.vlrs.empty() && metadata.vlrs.front().is(kCopcUserId, kInfoRecordId);
}

bool Box::intersects(const Box& other) const {
    for (int axis = 0; axis < 3; ++axis) {
        if (other.max[axis] < min[axis] || other.min[axis] > max[axis]) return false;
    }
    return true;
}

Box node_bounds(const CopcInfo& info, const VoxelKey& key) {
    const double side = info.side() / std::ldexp(1.0, key.d);
    const auto cube_min = info.cube_min();
    const std::array<std::int32_t, 3> index{key.x, key.y, key.z};
    Box box;
    for (int axis = 0; axis < 3; ++axis) {
        box.min[axis] = cube_min[axis] + index[axis] * side;
        box.max[axis] = box.min[axis] + side;
    }
    return box;
}

std::optional<HierarchyExtent> find_hierarchy_evlr(const las::FileMetadata& metadata) {
    std::optional<HierarchyExtent> found;
    for (std::size_t i = 0; i < metadata.evlrs.size(); ++i) {
        const las::Vlr& e = metadata.evlrs[i];
        if (e.is(kCopcUserId, kHierarchyRecordId))
            found = HierarchyExtent{metadata.evlr_data_offsets[i], e.data.size(), e.data};
    }
    return found;
}

std::string hierarchy_extent_problem(const std::optional<HierarchyExtent>& extent,
                                     const CopcInfo& info) {
    if (!extent) return "no hierarchy EVLR (user id 'copc', record id 1000)";
    if (extent->contains(info.root_hier_offset, info.root_hier_size)) return {};
    return fmt::format(
        "root page ({} bytes at {}) is not inside the hierarchy EVLR ({} bytes at {})",
        info.root_hier_size, info.root_hier_offset, extent->size, extent->offset);
}

Hierarchy::Hierarchy(std::shared_ptr<const util::ByteSource> source, const HierarchyExtent& extent,
                     const CopcInfo& info)
    : source_(std::move(source)), extent_(extent), info_(info) {}

std::shared_ptr<const std::vector<std::uint8_t>> Hierarchy::load_page(std::uint64_t offset,
                                                                      std::uint64_t size) const {
    if (!extent_.contains(offset, size)) {
        throw util::InputError(
            source_->name(),
            fmt::format("hierarchy page ({} bytes at {}) is not inside the hierarchy EVLR", size,
                        offset));
    }
    const auto key = std::make_pair(offset, size);
    {
        std::lock_guard lock(cache_->mutex);
        if (const auto found = cache_->pages.find(key); found != cache_->pages.end())
            return found->second;
    }
    // Read outside the lock: a remote source may take a while, and two threads fetching the
    // same page at once only cost a duplicate read.
    auto page = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(size));
    if (!extent_.bytes.empty()) {
        std::ranges::copy(extent_.bytes.subspan(offset - extent_.offset, size), page->begin());
    } else {
        source_->read_at(offset, *page, "hierarchy page");
    }
    std::lock_guard lock(cache_->mutex);
    return cache_->pages.emplace(key, std::move(page)).first->second;
}

std::size_t Hierarchy::pages_loaded() const {
    std::lock_guard lock(cache_->mutex);
    return cache_->pages.size();
}

WalkStats Hierarchy::walk(const KeyFilter& filter, const NodeVisitor& visit,
                          const ProblemHandler& problem) const {
    const auto wanted = [&](const VoxelKey& key) {
        return !filter || filter(key, node_bounds(info_, key));
    };
    WalkStats stats;
    std::set<std::uint64_t> seen_pages;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> pending{
        {info_.root_hier_offset, info_.root_hier_size}};
    while (!pending.empty()) {
        const auto [offset, size] = pending.front();
        pending.pop_front();
        if (!seen_pages.insert(offset).second) {
            problem(fmt::format("page at {} is referenced twice", offset));
            continue;
        }
        if (size % kEntrySize != 0)
            problem(fmt::format("page at {} has {} bytes, not a multiple of 32", offset, size));
        ++stats.pages;
        stats.page_bytes += size;
        const auto page = load_page(offset, size);
        for (std::uint64_t i = 0; i + kEntrySize <= size; i += kEntrySize) {
            const Entry e = Entry::parse(page->data() + i);
            if (!e.key.valid()) {
                problem(fmt::format("entry key {} is not a valid octree key", e.key.to_string()));
                continue;
            }
            if (e.point_count == -1) {
                // A query is not failed by a damaged pointer to a subtree it does not want.
                if (!wanted(e.key)) continue;
                if (e.byte_size <= 0 ||
                    !extent_.contains(e.offset, static_cast<std::uint64_t>(e.byte_size))) {
                    problem(fmt::format(
                        "page pointer {} ({} bytes at {}) is not inside the hierarchy EVLR",
                        e.key.to_string(), e.byte_size, e.offset));
                } else {
                    pending.emplace_back(e.offset, static_cast<std::uint64_t>(e.byte_size));
                }
                continue;
            }
            if (e.point_count < -1) {
                problem(
                    fmt::format("node {} has point count {}", e.key.to_string(), e.point_count));
                continue;
            }
            if (wanted(e.key)) visit(e);
        }
    }
    return stats;
}

std::vector<std::uint8_t> decode_node(const laz::LaszipVlr& laszip, const las::Header& header,
                                      const Entry& node, std::span<const std::uint8_t> chunk) {
    std::vector<std::uint8_t> records(static_cast<std::size_t>(node.point_count) *
                                      header.record_length);
    auto decoder = laz::make_chunk_decoder(laszip, header.point_format, header.record_length);
    decoder->decode(chunk, static_cast<std::size_t>(node.point_count), records);
    return records;
}

namespace {

CopcInfo parse_info(const las::FileMetadata& metadata) {
    if (!is_copc(metadata)) {
        throw util::InputError(metadata.path,
                               "not a COPC file: the first VLR is not the COPC info VLR (user id "
                               "'copc', record id 1)");
    }
    const auto& data = metadata.vlrs.front().data;
    if (data.size() < kInfoSize) {
        throw util::InputError(metadata.path,
                               fmt::format("COPC info VLR holds {} bytes, not 160", data.size()));
    }
    return CopcInfo::parse(data);
}

laz::LaszipVlr checked_laszip(const las::FileMetadata& metadata) {
    if (!metadata.header.is_compressed())
        throw util::InputError(metadata.path, "COPC point data is not flagged as compressed");
    return laz::require_laszip_vlr(metadata);
}

HierarchyExtent checked_extent(const las::FileMetadata& metadata, const CopcInfo& info) {
    const auto extent = find_hierarchy_evlr(metadata);
    const std::string problem = hierarchy_extent_problem(extent, info);
    if (!problem.empty()) throw util::InputError(metadata.path, problem);
    return *extent;
}

}  // namespace

Reader::Reader(std::shared_ptr<const util::ByteSource> source)
    : source_(std::move(source)),
      metadata_(las::read_metadata(*source_)),
      info_(parse_info(metadata_)),
      laszip_(checked_laszip(metadata_)),
      hierarchy_(source_, checked_extent(metadata_, info_), info_) {}

Reader Reader::open(const std::filesystem::path& path) {
    return Reader(std::make_shared<util::FileByteSource>(path));
}

void Reader::for_each_node(const KeyFilter& filter, const NodeVisitor& visit) const {
    hierarchy_.walk(filter, visit, [this](const std::string& problem) {
        throw util::InputError(name(), "hierarchy: " + problem);
    });
}

std::vector<Entry> Reader::nodes() const {
    std::vector<Entry> all;
    for_each_node({}, [&](const Entry& e) { all.push_back(e); });
    return all;
}

std::vector<std::uint8_t> Reader::read_node_chunk(const Entry& node) const {
    if (node.byte_size < 0 ||
        node.offset + static_cast<std::uint64_t>(node.byte_size) > source_->size()) {
        throw util::InputError(
            name(),
            fmt::format("node {}: {} bytes at {} lie past the end of the data ({} bytes)",
                        node.key.to_string(), node.byte_size, node.offset, source_->size()));
    }
    std::vector<std::uint8_t> chunk(static_cast<std::size_t>(node.byte_size));
    source_->read_at(node.offset, chunk, "node data");
    return chunk;
}

std::vector<std::uint8_t> Reader::read_node(const Entry& node) const {
    if (node.point_count <= 0) return {};
    const auto chunk = read_node_chunk(node);
    try {
        return decode_node(laszip_, header(), node, chunk);
    } catch (const util::InputError& e) {
        throw util::InputError(name(), fmt::format("node {}: {}", node.key.to_string(),
                                                   e.file().empty() ? e.problem() : e.what()));
    }
}

las::PointBuffer Reader::read_points(const Entry& node) const {
    las::PointBuffer points(point_format(), record_length());
    const auto records = read_node(node);
    points.assign(records, records.size() / record_length());
    return points;
}

}  // namespace lidarmill::copc
