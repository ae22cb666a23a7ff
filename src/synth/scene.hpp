#pragma once
// The synthetic scene in tile-local metres (0..side on x and y, absolute z): terrain with a
// river, land-use zones, buildings and trees, and a uniform grid to find objects near a ray.
// Internal to the synth module.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace lidarmill::synth::detail {

struct Vec2 {
    double x = 0, y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) {
    return {a.x + b.x, a.y + b.y};
}
inline Vec2 operator-(Vec2 a, Vec2 b) {
    return {a.x - b.x, a.y - b.y};
}
inline Vec2 operator*(double k, Vec2 a) {
    return {k * a.x, k * a.y};
}
inline double dot(Vec2 a, Vec2 b) {
    return a.x * b.x + a.y * b.y;
}

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Smooth 2-D value noise in [-amplitude, amplitude].
class ValueNoise {
  public:
    ValueNoise() = default;
    ValueNoise(std::uint64_t seed, double wavelength, double amplitude);
    double operator()(double x, double y) const;
    double amplitude() const { return amplitude_; }

  private:
    std::uint64_t seed_ = 0;
    double inv_wavelength_ = 1, amplitude_ = 0;
    double shift_x_ = 0, shift_y_ = 0;
};

// A meandering river crossing the whole tile, with a water level that drops slowly downstream.
struct River {
    bool along_x = true;
    double center = 0, meander_amplitude = 0, wavelength = 1, phase = 0;
    double half_width = 0, level_start = 0, level_drop_per_m = 0;

    double distance(double x, double y) const;  // from the centre line, metres
    double level(double x, double y) const;     // water surface z
    bool contains(double x, double y) const { return distance(x, y) < half_width; }
};

// Top surface (ground, or water where the river is) baked on a grid for fast ray casting.
class Terrain {
  public:
    Terrain() = default;
    Terrain(std::uint64_t seed, double side);
    double height(double x, double y) const;
    const River& river() const { return river_; }
    double min_z() const { return min_z_; }
    double max_z() const { return max_z_; }
    double base_z() const { return base_z_; }
    // Bounds valid for any tile with this seed and side, known without baking.
    static void bounds(std::uint64_t seed, double side, double& lo, double& hi);

  private:
    double unbaked_height(double x, double y) const;

    double base_z_ = 0;
    std::array<ValueNoise, 4> octaves_{};
    River river_;
    double cell_ = 1, inv_cell_ = 1;
    int nx_ = 0, ny_ = 0;
    std::vector<float> grid_;
    double min_z_ = 0, max_z_ = 0;
};

enum class Zone : std::uint8_t { field, crop, urban, forest, water };

// Land use on a coarse raster: Voronoi regions of seeded sites with noisy borders.
class ZoneMap {
  public:
    struct Site {
        Vec2 position;
        Zone zone;
        double street_angle;  // building orientation in urban regions
    };
    ZoneMap() = default;
    ZoneMap(std::uint64_t seed, double side, const River& river);
    Zone at(double x, double y) const;
    const Site& nearest_site(double x, double y) const;

  private:
    Zone classify(double x, double y, const River& river) const;

    std::vector<Site> sites_;
    ValueNoise warp_x_, warp_y_, crop_noise_;
    double cell_ = 1, inv_cell_ = 1;
    int nx_ = 0, ny_ = 0;
    std::vector<Zone> raster_;
};

enum class RoofType : std::uint8_t { flat, gable, hip };

// A rectangular building in its own frame (u along half_u, v along half_v), standing on the
// highest ground of its footprint. The solid is the intersection of half-spaces: four walls and
// up to four roof planes, so a ray hit is a convex clip.
struct Building {
    Vec2 center;
    double cos_a = 1, sin_a = 0;
    double half_u = 0, half_v = 0;
    double eave_z = 0, slope = 0;  // roof rise per metre inwards
    double top_z = 0;
    RoofType roof = RoofType::flat;
    float roof_reflectance = 0.3f, wall_reflectance = 0.4f;
    std::array<std::uint8_t, 4> roof_rgbn{}, wall_rgbn{};  // red, green, blue, near infrared

    Vec2 to_local(Vec2 p) const {
        const Vec2 d = p - center;
        return {d.x * cos_a + d.y * sin_a, -d.x * sin_a + d.y * cos_a};
    }
    Vec2 to_world(double u, double v) const {
        return {center.x + u * cos_a - v * sin_a, center.y + u * sin_a + v * cos_a};
    }
    double roof_z(double u, double v) const;
    double bounding_radius() const { return std::hypot(half_u, half_v); }
};

// One vertical side of a building, from `start` along unit `dir` for `length`, facing `normal`.
struct Wall {
    std::uint32_t building = 0;
    Vec2 start, dir, normal;
    double length = 0;
};

struct Tree {
    Vec2 center;
    double center_z = 0, radius_h = 1, radius_v = 1;  // ellipsoidal crown
    double ground_z = 0;
    float foliage_density = 0.5f;  // expected returns per metre of path through the crown
    std::array<std::uint8_t, 4> rgbn{};
};

// A ray from the scanner: p(s) = (ox + s*tx, oy + s*ty, oz - s), s = metres of descent.
struct Ray {
    double ox = 0, oy = 0, oz = 0, tx = 0, ty = 0;
    double x(double s) const { return ox + s * tx; }
    double y(double s) const { return oy + s * ty; }
    double z(double s) const { return oz - s; }
};

// Face 0-3 are walls (+u, -u, +v, -v), 4 and above roof planes; s = kInf on a miss.
struct BuildingHit {
    double s = kInf;
    int face = -1;
    bool is_wall() const { return face >= 0 && face < 4; }
};
BuildingHit intersect(const Building&, const Ray&);
// Entry and exit of the ray through the crown; false on a miss.
bool intersect(const Tree&, const Ray&, double& s_in, double& s_out);

// Uniform grid listing which objects overlap each cell (CSR layout). Items with the top bit set
// are buildings, others trees.
class ObjectGrid {
  public:
    static constexpr std::uint32_t kBuildingBit = 0x80000000u;
    ObjectGrid() = default;
    ObjectGrid(double side, double cell, std::span<const Building>, std::span<const Tree>);
    // Replaces `out` with the items overlapping the box, each once.
    void query(double x0, double y0, double x1, double y1, std::vector<std::uint32_t>& out) const;

  private:
    // An object is listed in every cell its bounding box overlaps; the first cell of the box
    // lets a query report it once without sorting.
    struct Entry {
        std::uint32_t id;
        std::uint16_t first_ix, first_iy;
    };
    int cell_of(double v, int n) const;

    double inv_cell_ = 1;
    int nx_ = 0, ny_ = 0;
    std::vector<std::uint32_t> starts_;
    std::vector<Entry> entries_;
};

struct Scene {
    double side = 0;
    std::uint64_t seed = 0;
    Terrain terrain;
    ZoneMap zones;
    std::vector<Building> buildings;
    std::vector<Wall> walls;
    std::vector<Tree> trees;
    ObjectGrid grid;
    double max_object_height = 0;  // highest object top above the lowest ground under it
};

Scene build_scene(std::uint64_t seed, double side);

}  // namespace lidarmill::synth::detail
