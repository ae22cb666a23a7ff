#pragma once
// The square chunks a tile is computed in. Each chunk is loaded with a halo as wide as the
// largest neighbourhood, so that its points' features do not depend on the chunking.
#include <algorithm>
#include <cstdint>

namespace lidarmill::enrich {

// A chunk's square: its lower-left corner and side, metres.
struct ChunkSquare {
    double x0, y0, side;
};

// Square chunks over the tile's xy extent. Points outside the extent fall into the border
// chunks, whose outer sides are open.
struct ChunkGrid {
    double x0 = 0, y0 = 0, side = 1;
    std::uint32_t columns = 1, rows = 1;

    std::uint32_t count() const { return columns * rows; }
    std::uint32_t column(double x) const { return clamp_index((x - x0) / side, columns); }
    std::uint32_t row(double y) const { return clamp_index((y - y0) / side, rows); }
    std::uint32_t chunk_of(double x, double y) const { return row(y) * columns + column(x); }
    ChunkSquare square(std::uint32_t chunk) const {
        return {x0 + (chunk % columns) * side, y0 + (chunk / columns) * side, side};
    }

    // Calls visit(chunk) for each chunk other than the point's own whose halo (its square
    // widened by `halo` on each side, box test) holds the point. side >= halo, so only the
    // 8 surrounding chunks can qualify.
    template <typename Visit>
    void for_each_halo_chunk(double x, double y, double halo, Visit&& visit) const {
        const std::uint32_t col = column(x), rw = row(y);
        const bool left = col > 0 && x - (x0 + col * side) <= halo;
        const bool right = col + 1 < columns && x0 + (col + 1) * side - x <= halo;
        const bool below = rw > 0 && y - (y0 + rw * side) <= halo;
        const bool above = rw + 1 < rows && y0 + (rw + 1) * side - y <= halo;
        for (int dr = -1; dr <= 1; ++dr) {
            if ((dr < 0 && !below) || (dr > 0 && !above)) continue;
            for (int dc = -1; dc <= 1; ++dc) {
                if ((dc < 0 && !left) || (dc > 0 && !right) || (dc == 0 && dr == 0)) continue;
                visit((rw + dr) * columns + (col + dc));
            }
        }
    }

  private:
    static std::uint32_t clamp_index(double position, std::uint32_t count) {
        if (!(position > 0)) return 0;  // also NaN
        return static_cast<std::uint32_t>(std::min(position, static_cast<double>(count - 1)));
    }
};

// Loaded points per own point for square chunks of `side` metres.
inline double halo_factor(double side, double halo) {
    return 1.0 + (4.0 * halo * side + 4.0 * halo * halo) / (side * side);
}

}  // namespace lidarmill::enrich
