#include "enrich/tile.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/error.hpp"

namespace lidarmill::enrich {
namespace {

void check_dimension_names(const Tile& tile) {
    for (const auto& dim : tile.output_layout.dimensions()) {
        const auto name = features::feature_name(dim.feature);
        if (tile.metadata.extra_bytes.find(name)) {
            throw util::InputError(tile.metadata.path,
                                   fmt::format("already has an extra-bytes dimension named "
                                               "'{}' (enriched before?)",
                                               name));
        }
    }
}

}  // namespace

Tile make_tile(const std::filesystem::path& input, const std::filesystem::path& output,
               const EnrichOptions& options, const las::FileMetadata& metadata) {
    OutputLayout output_layout(options.features, options.precision, options.neighbourhood);
    const RecordLayout layout = record_layout(metadata, output_layout);
    const std::size_t feature_bytes = output_layout.bytes_per_point();
    const Frame frame = make_frame(metadata.header);
    PlannedTile planned = make_plan(metadata, options);
    const double halo = planned.plan.halo * (1 + 1e-9) + 1e-6;
    Tile tile{input,  output,        options, metadata,           std::move(output_layout),
              layout, feature_bytes, frame,   std::move(planned), halo};
    check_dimension_names(tile);
    return tile;
}

void note_footprint(const Tile& tile, TileRun& run) {
    if (!tile.planned.footprint) return;
    const TileFootprint& footprint = *tile.planned.footprint;
    const XyExtent header = header_extent(tile.metadata.header, tile.frame);
    const double core_area = area_of(footprint.core);
    spdlog::debug("{}: planned on the points' footprint: {} points, core box {:.0f} x {:.0f} m",
                  tile.metadata.path, footprint.points, footprint.core.max_x - footprint.core.min_x,
                  footprint.core.max_y - footprint.core.min_y);
    if (!plausible_extent(header) || core_area * 4 < area_of(header)) {
        run.warnings.push_back(fmt::format(
            "the header's bounding box ({:.3g} km2) is far larger than the points' "
            "({:.3g} km2, all but {} of {} points): stray points? Chunks and memory were "
            "planned on the points",
            area_of(header) / 1e6, core_area / 1e6, footprint.outside_core, footprint.points));
    }
}

}  // namespace lidarmill::enrich
