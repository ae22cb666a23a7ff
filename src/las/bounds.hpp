#pragma once
// Extents of the raw int32 X/Y/Z of point records, grown record by record. The writer's
// header statistics, `info`'s scan and `validate --deep` all measure the data this way.
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "util/bytes.hpp"

namespace lidarmill::las {

struct RawBounds {
    std::array<std::int32_t, 3> min{std::numeric_limits<std::int32_t>::max(),
                                    std::numeric_limits<std::int32_t>::max(),
                                    std::numeric_limits<std::int32_t>::max()};
    std::array<std::int32_t, 3> max{std::numeric_limits<std::int32_t>::min(),
                                    std::numeric_limits<std::int32_t>::min(),
                                    std::numeric_limits<std::int32_t>::min()};

    bool empty() const { return min[0] > max[0]; }

    void add(int axis, std::int32_t v) {
        min[axis] = std::min(min[axis], v);
        max[axis] = std::max(max[axis], v);
    }
    // Adds the coordinates of one record (X, Y, Z are its first 12 bytes in every format).
    void add(const std::uint8_t* record) {
        for (int axis = 0; axis < 3; ++axis)
            add(axis, util::load_le<std::int32_t>(record + 4 * axis));
    }
    void merge(const RawBounds& other) {
        for (int axis = 0; axis < 3; ++axis) {
            min[axis] = std::min(min[axis], other.min[axis]);
            max[axis] = std::max(max[axis], other.max[axis]);
        }
    }
};

}  // namespace lidarmill::las
