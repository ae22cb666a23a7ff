#pragma once
// The input of the feature computation: point coordinates as parallel arrays.
#include <cstddef>
#include <cstdint>
#include <span>

namespace lidarmill::features {

// All points loaded for one computation (a chunk plus its halo). Coordinates are in
// metres RELATIVE TO A LOCAL ORIGIN chosen by the caller (never absolute projected
// coordinates in float32); use the same origin for every chunk of a tile so that a
// point's features do not depend on the chunking.
struct PointCloudView {
    std::span<const double> x, y, z;
    // A stable key per point, e.g. its index in the file: breaks ties between equally
    // distant neighbours the same way whatever the chunking. Empty: the index in this
    // view is used instead (then results may depend on how the points were chunked).
    std::span<const std::uint64_t> point_ids;

    std::size_t size() const { return x.size(); }
    std::uint64_t id(std::size_t index) const {
        return point_ids.empty() ? index : point_ids[index];
    }
};

}  // namespace lidarmill::features
