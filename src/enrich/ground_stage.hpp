#pragma once
// The ground model of a tile, built from its ground points in file order (so that the
// model does not depend on the chunking) while the first pass reads them. When the
// header's bounds turn out not to hold the points, the ground points are read again with
// the points' true extent.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enrich/footprint.hpp"
#include "enrich/tile.hpp"
#include "features/ground_model.hpp"
#include "las/point_format.hpp"
#include "util/bytes.hpp"

namespace lidarmill::enrich {

class GroundStage {
  public:
    // Starts the model on the ground grid's extent (the header's, or the points' when the
    // footprint shows the header's does not hold them, which adds a warning).
    GroundStage(const Tile& tile, std::vector<std::string>& warnings);

    void add(double x, double y, const std::uint8_t* record) {
        if (builder_ && classes_.test(las::classification_of(record, format_))) {
            builder_->add(x, y, frame_.z(util::load_le<std::int32_t>(record + 8)));
        }
    }

    // The model once every point was added (empty when the features need none);
    // `data_extent` is where the points were.
    features::GroundModel finish(std::uint64_t points_read, const XyExtent& data_extent);

  private:
    const Tile& tile_;
    std::vector<std::string>& warnings_;
    Frame frame_;
    std::uint8_t format_;
    bool needed_;
    std::bitset<256> classes_;
    std::optional<features::GroundModelBuilder> builder_;
};

}  // namespace lidarmill::enrich
