#pragma once
// Writes the COPC file: header, VLRs (COPC info first, LASzip, WKT, extra bytes), the LAZ
// point data with one variable-size chunk per node, the chunk table, and the hierarchy EVLR
// split into pages. Header and info VLR are patched at the end, when offsets are known.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "copc/format.hpp"
#include "copc/plan.hpp"
#include "las/writer.hpp"
#include "laz/laszip_vlr.hpp"
#include "util/file.hpp"

namespace lidarmill::copc {

// Depth step between hierarchy pages: the root page holds depths 0-3, child pages start
// at depths 4, 8, ... for nodes that have children.
inline constexpr int kPageLevels = 4;

struct HierarchyLayout {
    struct Page {
        VoxelKey root;
        std::vector<Entry> entries;  // nodes, then pointers to child pages
    };
    std::vector<Page> pages;  // root page first, then breadth first
};

// Pages for a set of nodes (every node's ancestors must be present, zero-count if empty).
// Child page pointers carry the page sizes; offsets are filled by assign_page_offsets.
HierarchyLayout paginate(const std::map<VoxelKey, Entry>& nodes, int page_levels = kPageLevels);
void assign_page_offsets(HierarchyLayout& layout, std::uint64_t first_page_offset);

class CopcFileWriter {
  public:
    CopcFileWriter(const std::filesystem::path& path, const OutputPlan& plan);
    const laz::LaszipVlr& laszip() const { return laszip_; }
    // Appends one node's compressed chunk; returns its absolute file offset.
    std::uint64_t append_chunk(std::span<const std::uint8_t> bytes, std::uint64_t points);
    // Writes chunk table and hierarchy, patches header and info VLR, renames into place.
    void finish(const std::map<VoxelKey, Entry>& nodes, CopcInfo info,
                const las::PointStats& stats);
    std::size_t page_count() const { return page_count_; }

  private:
    util::AtomicOutputFile output_;
    las::Header header_;
    laz::LaszipVlr laszip_;
    std::vector<std::uint8_t> vlr_bytes_;  // all VLRs, info placeholder first
    std::uint32_t vlr_count_ = 0;
    std::uint64_t point_data_offset_ = 0;
    std::uint64_t position_ = 0;
    std::vector<std::uint64_t> chunk_bytes_;
    std::vector<std::uint64_t> chunk_points_;
    std::size_t page_count_ = 0;
};

}  // namespace lidarmill::copc
