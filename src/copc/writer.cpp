#include "copc/writer.hpp"

#include <deque>
#include <set>

#include <fmt/format.h>

#include "las/crs.hpp"
#include "laz/laz_writer.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::copc {

namespace {
bool is_page_root(const VoxelKey& key, const std::set<VoxelKey>& parents, int page_levels) {
    return key.d == 0 || (key.d % page_levels == 0 && parents.count(key) > 0);
}

las::Vlr make_vlr(std::string user, std::uint16_t id, std::string description,
                  std::vector<std::uint8_t> data) {
    las::Vlr v;
    v.user_id = std::move(user);
    v.record_id = id;
    v.description = std::move(description);
    v.data = std::move(data);
    return v;
}
}  // namespace

HierarchyLayout paginate(const std::map<VoxelKey, Entry>& nodes, int page_levels) {
    std::set<VoxelKey> parents;
    for (const auto& [key, entry] : nodes) {
        if (key.d > 0) parents.insert(key.parent());
    }
    // The page each node is listed in: that of its nearest page-root ancestor (or itself).
    std::map<VoxelKey, std::vector<Entry>> page_nodes;
    std::map<VoxelKey, std::vector<VoxelKey>> child_pages;
    for (const auto& [key, entry] : nodes) {
        VoxelKey owner = key;
        while (!is_page_root(owner, parents, page_levels)) owner = owner.parent();
        page_nodes[owner].push_back(entry);
        if (owner == key && key.d > 0) {
            VoxelKey above = key.parent();
            while (!is_page_root(above, parents, page_levels)) above = above.parent();
            child_pages[above].push_back(key);
        }
    }
    HierarchyLayout layout;
    std::map<VoxelKey, std::size_t> index_of;
    std::deque<VoxelKey> pending{VoxelKey{}};
    while (!pending.empty()) {
        const VoxelKey root = pending.front();
        pending.pop_front();
        index_of[root] = layout.pages.size();
        layout.pages.push_back({root, page_nodes[root]});
        for (const VoxelKey& child : child_pages[root]) pending.push_back(child);
    }
    for (auto& page : layout.pages) {
        for (const VoxelKey& child : child_pages[page.root]) {
            Entry pointer;
            pointer.key = child;
            pointer.point_count = -1;
            pointer.byte_size =
                static_cast<std::int32_t>(page_nodes[child].size() + child_pages[child].size()) *
                static_cast<std::int32_t>(kEntrySize);
            page.entries.push_back(pointer);
        }
    }
    return layout;
}

void assign_page_offsets(HierarchyLayout& layout, std::uint64_t first_page_offset) {
    std::map<VoxelKey, std::uint64_t> offset_of;
    std::uint64_t at = first_page_offset;
    for (const auto& page : layout.pages) {
        offset_of[page.root] = at;
        at += page.entries.size() * kEntrySize;
    }
    for (auto& page : layout.pages) {
        for (Entry& e : page.entries) {
            if (e.point_count == -1) e.offset = offset_of.at(e.key);
        }
    }
}

CopcFileWriter::CopcFileWriter(const std::filesystem::path& path, const OutputPlan& plan)
    : output_(path), header_(plan.header) {
    laszip_ = laz::LaszipVlr::for_point_format(header_.point_format, header_.record_length,
                                               laz::kVariableChunkSize);
    std::vector<las::Vlr> vlrs;
    vlrs.push_back(
        make_vlr(kCopcUserId, kInfoRecordId, "COPC info", std::vector<std::uint8_t>(kInfoSize, 0)));
    vlrs.push_back(laszip_.to_vlr());
    if (plan.wkt) vlrs.push_back(las::make_wkt_vlr(*plan.wkt));
    if (plan.extra_bytes_vlr) vlrs.push_back(*plan.extra_bytes_vlr);
    for (const auto& v : vlrs) {
        const auto bytes = serialize_vlr(v);
        vlr_bytes_.insert(vlr_bytes_.end(), bytes.begin(), bytes.end());
    }
    vlr_count_ = static_cast<std::uint32_t>(vlrs.size());
    point_data_offset_ = las::kHeaderSize14 + vlr_bytes_.size();
    // Placeholders; finish() rewrites them.
    auto& file = output_.file();
    file.write(std::vector<std::uint8_t>(las::kHeaderSize14, 0));
    file.write(vlr_bytes_);
    file.write(std::vector<std::uint8_t>(8, 0));  // chunk table offset
    position_ = point_data_offset_ + 8;
}

std::uint64_t CopcFileWriter::append_chunk(std::span<const std::uint8_t> bytes,
                                           std::uint64_t points) {
    const std::uint64_t offset = position_;
    output_.file().write(bytes);
    position_ += bytes.size();
    chunk_bytes_.push_back(bytes.size());
    chunk_points_.push_back(points);
    return offset;
}

void CopcFileWriter::finish(const std::map<VoxelKey, Entry>& nodes, CopcInfo info,
                            const las::PointStats& stats) {
    auto& file = output_.file();
    const std::uint64_t chunk_table_offset = position_;
    const auto table = laz::encode_chunk_table(chunk_bytes_, chunk_points_, true);
    file.write(table);
    position_ += table.size();

    const std::uint64_t evlr_offset = position_;
    HierarchyLayout layout = paginate(nodes);
    assign_page_offsets(layout, evlr_offset + las::kEvlrHeaderSize);
    page_count_ = layout.pages.size();
    std::vector<std::uint8_t> pages;
    for (const auto& page : layout.pages) {
        for (const Entry& e : page.entries) {
            std::uint8_t raw[kEntrySize];
            e.serialize(raw);
            pages.insert(pages.end(), raw, raw + kEntrySize);
        }
    }
    const las::Vlr hierarchy =
        make_vlr(kCopcUserId, kHierarchyRecordId, "EPT hierarchy", std::move(pages));
    file.write(serialize_evlr(hierarchy));

    info.root_hier_offset = evlr_offset + las::kEvlrHeaderSize;
    info.root_hier_size = layout.pages.front().entries.size() * kEntrySize;
    las::Header h = header_;
    las::apply_stats(h, stats);
    h.header_size = las::kHeaderSize14;
    h.offset_to_point_data = static_cast<std::uint32_t>(point_data_offset_);
    h.number_of_vlrs = vlr_count_;
    h.evlr_offset = evlr_offset;
    h.evlr_count = 1;
    h.waveform_data_start = 0;
    file.seek(0);
    file.write(las::serialize_header(h));
    const auto info_bytes = info.serialize();
    file.seek(kInfoDataOffset);
    file.write(info_bytes);
    std::uint8_t pointer[8];
    util::store_le(pointer, static_cast<std::int64_t>(chunk_table_offset));
    file.seek(point_data_offset_);
    file.write(pointer);
    file.flush();
    output_.commit();
}

}  // namespace lidarmill::copc
