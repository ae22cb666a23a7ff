#include "enrich/footprint.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "io/open.hpp"
#include "las/point_format.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::enrich {
namespace fs = std::filesystem;
using features::GroundCoverage;

namespace {

// Cells of the footprint: small next to the chunks they size (100 m and more, out of
// core), and few on a 1 km tile (4,000).
constexpr double kFootprintCell = 16.0;
// Footprints a process keeps (a batch plans each suspicious tile a few times).
constexpr std::size_t kCachedFootprints = 256;

double round_down_km(double value) {
    return std::isfinite(value) && std::abs(value) < 1e15 ? std::floor(value / 1000.0) * 1000.0
                                                          : 0.0;
}

std::uint64_t cell_key(std::int64_t column, std::int64_t row) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(row)) << 32) |
           static_cast<std::uint32_t>(column);
}

// The first index of `counts` (points per column or row, in order) with more than
// `allowed` points before it, scanning from the front.
template <typename It>
It first_beyond(It begin, It end, std::uint64_t allowed) {
    std::uint64_t before = 0;
    for (It it = begin; it != end; ++it) {
        before += it->second;
        if (before > allowed) return it;
    }
    return end == begin ? end : std::prev(end);
}

// Points of the cells that overlap `box`.
std::uint64_t points_in(const TileFootprint& f, const XyExtent& box) {
    auto overlaps = [&](std::int64_t index, double low, double high) {
        const double first = static_cast<double>(index) * f.cell_side;
        return first + f.cell_side > low && first <= high;
    };
    std::uint64_t inside = 0;
    for (const auto& cell : f.cells) {
        if (overlaps(cell.column, box.min_x, box.max_x) && overlaps(cell.row, box.min_y, box.max_y))
            inside += cell.points;
    }
    return inside;
}

// The box holding all points but at most `share` of them, a quarter of that on each side,
// in whole cells (within the data's box).
XyExtent core_box(const TileFootprint& f, double share) {
    const auto allowed =
        static_cast<std::uint64_t>(std::floor(share * static_cast<double>(f.points) / 4));
    if (allowed == 0 || f.cells.empty()) return f.data;
    std::map<std::int64_t, std::uint64_t> by_column, by_row;
    for (const auto& cell : f.cells) {
        by_column[cell.column] += cell.points;
        by_row[cell.row] += cell.points;
    }
    const std::int64_t column0 = first_beyond(by_column.begin(), by_column.end(), allowed)->first;
    const std::int64_t column1 = first_beyond(by_column.rbegin(), by_column.rend(), allowed)->first;
    const std::int64_t row0 = first_beyond(by_row.begin(), by_row.end(), allowed)->first;
    const std::int64_t row1 = first_beyond(by_row.rbegin(), by_row.rend(), allowed)->first;
    const double side = f.cell_side;
    return {std::max(f.data.min_x, static_cast<double>(column0) * side),
            std::max(f.data.min_y, static_cast<double>(row0) * side),
            std::min(f.data.max_x, static_cast<double>(column1 + 1) * side),
            std::min(f.data.max_y, static_cast<double>(row1 + 1) * side)};
}

TileFootprint scan(const las::FileMetadata& m, const Frame& frame, const FootprintRequest& r) {
    TileFootprint f;
    f.cell_side = kFootprintCell;
    f.data = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
              -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    std::unordered_map<std::uint64_t, std::uint64_t> counts;
    std::uint64_t last_key = ~std::uint64_t{0}, *last_count = nullptr;
    GroundCoverage ground(0, 0, r.ground);

    auto reader = io::open_reader(m.path, {r.threads, laz::DecodeScope::positions});
    const std::uint16_t length = m.header.record_length;
    const std::uint8_t format = m.header.point_format;
    std::vector<std::uint8_t> batch(kReadBatchPoints * length);
    while (const std::size_t n = reader->read(batch)) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t* record = batch.data() + i * length;
            const double x = frame.x(util::load_le<std::int32_t>(record));
            const double y = frame.y(util::load_le<std::int32_t>(record + 4));
            const double column = std::floor(x / kFootprintCell);
            const double row = std::floor(y / kFootprintCell);
            // Absurd coordinates (beyond 32-bit cells) count in the data box only.
            f.data = {std::min(f.data.min_x, x), std::min(f.data.min_y, y),
                      std::max(f.data.max_x, x), std::max(f.data.max_y, y)};
            ++f.points;
            if (!(std::abs(column) < 2e9 && std::abs(row) < 2e9)) continue;
            const std::uint64_t key =
                cell_key(static_cast<std::int64_t>(column), static_cast<std::int64_t>(row));
            if (key != last_key) {
                last_count = &counts[key];
                last_key = key;
            }
            ++*last_count;
            if (r.needs_ground && r.ground_classes.test(las::classification_of(record, format)))
                ground.add(x, y);
        }
    }
    if (f.points == 0) {
        f.data = f.core = {0, 0, 0, 0};
        f.ground_extent = header_extent(m.header, frame);
        return f;
    }
    f.cells.reserve(counts.size());
    for (const auto& [key, points] : counts) {
        f.cells.push_back({static_cast<std::int32_t>(key & 0xFFFFFFFFu),
                           static_cast<std::int32_t>(key >> 32), points});
    }
    std::sort(f.cells.begin(), f.cells.end(), [](const auto& a, const auto& b) {
        return std::pair(a.row, a.column) < std::pair(b.row, b.column);
    });
    f.core = core_box(f, kStrayShare);
    f.outside_core = f.points - points_in(f, f.core);
    const XyExtent header = header_extent(m.header, frame);
    f.header_holds_points = plausible_extent(header) && header.min_x <= f.data.min_x &&
                            header.min_y <= f.data.min_y && f.data.max_x <= header.max_x &&
                            f.data.max_y <= header.max_y;
    f.ground_extent = f.header_holds_points ? header : f.data;
    if (r.needs_ground) {
        try {
            f.ground_bytes = ground.model_bytes(f.ground_extent, r.threads);
        } catch (const util::UsageError&) {
            f.ground_bytes = 0;  // the tile's read pass will say why
        }
    }
    return f;
}

std::string cache_key(const las::FileMetadata& m, const FootprintRequest& r) {
    std::error_code error;
    const auto modified = fs::last_write_time(m.path, error);
    const auto ticks = error ? 0 : modified.time_since_epoch().count();
    std::string classes;
    for (std::size_t c = 0; c < r.ground_classes.size(); ++c)
        if (r.ground_classes.test(c)) classes += fmt::format("{},", c);
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", m.path, m.file_size, ticks, r.ground.cell_size,
                       r.ground.fill_reach, classes, r.needs_ground, r.threads);
}

}  // namespace

Frame make_frame(const las::Header& h) {
    Frame f;
    f.origin_x = round_down_km(h.min[0]);
    f.origin_y = round_down_km(h.min[1]);
    f.scale = h.scale;
    f.shift = {h.offset[0] - f.origin_x, h.offset[1] - f.origin_y, h.offset[2]};
    return f;
}

bool plausible_extent(const XyExtent& e) {
    return std::isfinite(e.min_x) && std::isfinite(e.max_x) && std::isfinite(e.min_y) &&
           std::isfinite(e.max_y) && e.min_x <= e.max_x && e.min_y <= e.max_y &&
           e.max_x - e.min_x < 1e7 && e.max_y - e.min_y < 1e7;
}

XyExtent header_extent(const las::Header& h, const Frame& f) {
    return {h.min[0] - f.origin_x, h.min[1] - f.origin_y, h.max[0] - f.origin_x,
            h.max[1] - f.origin_y};
}

std::shared_ptr<const TileFootprint> footprint_of(const las::FileMetadata& metadata,
                                                  const Frame& frame,
                                                  const FootprintRequest& request) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const TileFootprint>> cache;
    const std::string key = cache_key(metadata, request);
    {
        const std::lock_guard lock(mutex);
        if (const auto it = cache.find(key); it != cache.end()) return it->second;
    }
    const auto start = std::chrono::steady_clock::now();
    auto footprint = std::make_shared<const TileFootprint>(scan(metadata, frame, request));
    spdlog::debug("{}: footprint of {} points read in {:.2f} s ({} cells of {} m)", metadata.path,
                  footprint->points,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  footprint->cells.size(), footprint->cell_side);
    const std::lock_guard lock(mutex);
    if (cache.size() >= kCachedFootprints) cache.clear();
    cache.emplace(key, footprint);
    return footprint;
}

}  // namespace lidarmill::enrich
