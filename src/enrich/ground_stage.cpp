#include "enrich/ground_stage.hpp"

#include "io/open.hpp"
#include "util/error.hpp"

namespace lidarmill::enrich {
namespace {

// The ground grid's extent: the header's, unless the points' footprint was read and shows
// points beyond it (wrong bounds), which would make the model be built again after the
// first pass (see GroundStage::finish).
XyExtent ground_extent(const Tile& tile, std::vector<std::string>& warnings) {
    const auto& footprint = tile.planned.footprint;
    if (!footprint) return header_extent(tile.metadata.header, tile.frame);
    if (!footprint->header_holds_points)
        warnings.push_back("header bounds do not cover the points (ground grid on the points)");
    return footprint->ground_extent;
}

}  // namespace

GroundStage::GroundStage(const Tile& tile, std::vector<std::string>& warnings)
    : tile_(tile),
      warnings_(warnings),
      frame_(tile.frame),
      format_(tile.metadata.header.point_format),
      needed_(features::needs_ground(tile.options.features)) {
    for (const auto c : tile.options.ground_classes) classes_.set(c);
    const XyExtent extent = ground_extent(tile, warnings);
    if (needed_ && plausible_extent(extent)) {
        try {
            builder_.emplace(extent, tile.options.ground);
        } catch (const util::UsageError&) {
            builder_.reset();  // absurd header bounds: rebuilt from the data in finish()
        }
    }
}

features::GroundModel GroundStage::finish(std::uint64_t points_read, const XyExtent& data_extent) {
    if (!needed_) return {};
    if (builder_ && builder_->ignored_count() == 0) {
        features::GroundModel model = builder_->build();
        builder_.reset();
        return model;
    }
    builder_.reset();
    if (points_read == 0) return {};
    // The header bounds do not cover the points: read the ground points again with the
    // true extent (still in file order).
    warnings_.push_back("header bounds do not cover the points; ground model rebuilt");
    builder_.emplace(data_extent, tile_.options.ground);
    auto reader =
        io::open_reader(tile_.input, {tile_.options.threads, laz::DecodeScope::positions});
    std::vector<std::uint8_t> batch(kReadBatchPoints * tile_.layout.in);
    while (const std::size_t n = reader->read(batch)) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t* record = batch.data() + i * tile_.layout.in;
            add(frame_.x(util::load_le<std::int32_t>(record)),
                frame_.y(util::load_le<std::int32_t>(record + 4)), record);
        }
    }
    features::GroundModel model = builder_->build();
    builder_.reset();
    return model;
}

}  // namespace lidarmill::enrich
