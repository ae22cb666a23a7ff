#pragma once
// Reading COPC files (copc.io) from any byte source: the LAS header and VLRs, the COPC
// info VLR, the octree hierarchy (pages loaded on demand, once) and the points of a node.
// The validator reads through its building blocks, and spatial queries will read through
// it, so that a file and a remote object (a future HTTP source) are read the same way: a
// query prunes the walk so that pages of subtrees it does not want are never fetched.
//
// Reader is strict: a file that is not COPC, or whose hierarchy cannot be walked, gives a
// one-line util::InputError naming the source. The validator, which must report such
// problems instead, uses the building blocks below it (find_hierarchy_evlr, Hierarchy with
// a problem handler, decode_node).
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "copc/format.hpp"
#include "las/header.hpp"
#include "las/point_buffer.hpp"
#include "las/reader.hpp"
#include "laz/laszip_vlr.hpp"
#include "util/byte_source.hpp"

namespace lidarmill::copc {

// Cheap test on metadata already read (no I/O): the first VLR is the COPC info VLR, as the
// spec requires. Use it to route a COPC input to this reader; Reader itself checks the rest.
bool is_copc(const las::FileMetadata& metadata);

// An axis-aligned box in scaled coordinates. A node's cube holds the points whose
// coordinates lie in [min, max], bounds included (COPC writers put points on a shared face
// in either node).
struct Box {
    std::array<double, 3> min{}, max{};
    bool intersects(const Box& other) const;
};

// The cube of node `key` in the octree that `info` describes.
Box node_bounds(const CopcInfo& info, const VoxelKey& key);

// Where the payload of the hierarchy EVLR ('copc' 1000) lies: every page must be inside.
struct HierarchyExtent {
    std::uint64_t offset = 0;  // absolute; 0 when the EVLR chain did not lead to it
    std::uint64_t size = 0;
    // The payload when the metadata read already holds it (a local file): pages are then
    // cut from it rather than read again. Empty: pages are read from the source.
    std::span<const std::uint8_t> bytes;
    bool contains(std::uint64_t at, std::uint64_t bytes) const {
        return offset > 0 && at >= offset && at + bytes <= offset + size;
    }
};

// The hierarchy EVLR of `metadata` (the last one, if several), or nullopt when there is none.
std::optional<HierarchyExtent> find_hierarchy_evlr(const las::FileMetadata& metadata);

// Why the hierarchy cannot be walked (no hierarchy EVLR, or the root page outside it), or
// an empty string when it can.
std::string hierarchy_extent_problem(const std::optional<HierarchyExtent>& extent,
                                     const CopcInfo& info);

// Decides whether a walk enters a subtree: called with a node's key and cube before the
// node is visited and before a child page is loaded. Return false to skip the node and
// the page; the filter must then also reject every key below it (a spatial test on the
// cube does). An empty filter accepts everything.
using KeyFilter = std::function<bool(const VoxelKey& key, const Box& cube)>;
using NodeVisitor = std::function<void(const Entry& node)>;
// Receives one line per problem met in the hierarchy (invalid key, page outside the EVLR,
// page referenced twice...), in walk order; the walk skips what the problem concerns.
using ProblemHandler = std::function<void(const std::string& problem)>;

struct WalkStats {
    std::size_t pages = 0;         // distinct pages walked
    std::uint64_t page_bytes = 0;  // their declared sizes, summed
};

// The octree hierarchy: pages read from the source when a walk first needs them and kept.
// Thread-safe.
class Hierarchy {
  public:
    Hierarchy(std::shared_ptr<const util::ByteSource> source, const HierarchyExtent& extent,
              const CopcInfo& info);

    // Pages read from the source so far.
    std::size_t pages_loaded() const;

    // Breadth first from the root page: visits every node entry (point count >= 0) that
    // `filter` accepts, loading only the child pages it accepts.
    WalkStats walk(const KeyFilter& filter, const NodeVisitor& visit,
                   const ProblemHandler& problem) const;

  private:
    // The raw bytes of a page, read once. Throws util::InputError naming the source when the
    // page is not inside the hierarchy EVLR.
    std::shared_ptr<const std::vector<std::uint8_t>> load_page(std::uint64_t offset,
                                                               std::uint64_t size) const;

    struct PageCache {
        std::mutex mutex;
        std::map<std::pair<std::uint64_t, std::uint64_t>,
                 std::shared_ptr<const std::vector<std::uint8_t>>>
            pages;
    };

    std::shared_ptr<const util::ByteSource> source_;
    HierarchyExtent extent_;
    CopcInfo info_;
    std::unique_ptr<PageCache> cache_ = std::make_unique<PageCache>();
};

// Decodes the compressed chunk of `node` into node.point_count raw LAS records of
// header.record_length bytes. Throws the codec's util::InputError("", problem) (no file
// name) when the chunk is damaged.
std::vector<std::uint8_t> decode_node(const laz::LaszipVlr& laszip, const las::Header& header,
                                      const Entry& node, std::span<const std::uint8_t> chunk);

class Reader {
  public:
    explicit Reader(std::shared_ptr<const util::ByteSource> source);
    static Reader open(const std::filesystem::path& path);

    std::string name() const { return source_->name(); }
    const util::ByteSource& source() const { return *source_; }
    const las::FileMetadata& metadata() const { return metadata_; }
    const las::Header& header() const { return metadata_.header; }
    const CopcInfo& info() const { return info_; }
    const laz::LaszipVlr& laszip() const { return laszip_; }
    // The OGC WKT of the file's CRS, when it has one.
    const std::optional<std::string>& wkt() const { return metadata_.crs.wkt; }
    std::uint8_t point_format() const { return metadata_.header.point_format; }
    std::uint16_t record_length() const { return metadata_.header.record_length; }
    std::uint64_t point_count() const { return metadata_.header.point_count(); }

    const Hierarchy& hierarchy() const { return hierarchy_; }
    Box node_bounds(const VoxelKey& key) const { return copc::node_bounds(info_, key); }
    // Walks the nodes `filter` accepts (see KeyFilter); a damaged hierarchy throws
    // util::InputError naming the source.
    void for_each_node(const KeyFilter& filter, const NodeVisitor& visit) const;
    // Every node entry (empty nodes included), in walk order.
    std::vector<Entry> nodes() const;

    // The compressed bytes of a node, and its decoded raw records. Errors name the source
    // and the node.
    std::vector<std::uint8_t> read_node_chunk(const Entry& node) const;
    std::vector<std::uint8_t> read_node(const Entry& node) const;
    // The same records as columns, for code that works on fields rather than raw bytes.
    las::PointBuffer read_points(const Entry& node) const;

  private:
    std::shared_ptr<const util::ByteSource> source_;
    las::FileMetadata metadata_;
    CopcInfo info_;
    laz::LaszipVlr laszip_;
    Hierarchy hierarchy_;
};

}  // namespace lidarmill::copc
