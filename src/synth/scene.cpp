#include "synth/scene.hpp"

#include <algorithm>
#include <numbers>

#include "synth/rng.hpp"

namespace lidarmill::synth::detail {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Distinct salts keep the random streams of the scene parts independent of each other.
enum Salt : std::uint64_t {
    salt_terrain = 0x7E44A1,
    salt_zones = 0x20E5,
    salt_buildings = 0xB1D,
    salt_trees = 0x7EE5,
};

double fade(double t) {
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
}

double smoothstep01(double t) {
    t = std::clamp(t, 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}

std::array<std::uint8_t, 4> jittered_rgbn(Rng& rng, int r, int g, int b, int nir, int spread) {
    auto channel = [&](int base) {
        const int v = base + static_cast<int>(rng.uniform(-spread, spread));
        return static_cast<std::uint8_t>(std::clamp(v, 0, 255));
    };
    return {channel(r), channel(g), channel(b), channel(nir)};
}

// The parameters of the terrain, shared by the baking constructor and the bounds query.
struct TerrainSpec {
    double base_z = 0;
    std::array<ValueNoise, 4> octaves{};
    River river;
};

TerrainSpec terrain_spec(std::uint64_t seed, double side) {
    TerrainSpec spec;
    Rng rng(hash_of(seed, salt_terrain));
    spec.base_z = rng.uniform(40.0, 400.0);
    const double relief = rng.uniform(0.4, 1.4);
    constexpr double wavelengths[] = {420.0, 170.0, 65.0, 23.0};
    constexpr double amplitudes[] = {14.0, 4.5, 1.3, 0.35};
    for (std::size_t i = 0; i < spec.octaves.size(); ++i) {
        spec.octaves[i] =
            ValueNoise(hash_of(seed, salt_terrain, i + 1), wavelengths[i] * rng.uniform(0.8, 1.25),
                       amplitudes[i] * relief);
    }
    River& river = spec.river;
    river.along_x = rng.chance(0.5);
    river.center = side * rng.uniform(0.25, 0.75);
    river.meander_amplitude = side * rng.uniform(0.03, 0.1);
    river.wavelength = side * rng.uniform(0.6, 1.3);
    river.phase = rng.uniform(0.0, kTwoPi);
    river.half_width = std::clamp(0.0125 * side, 3.0, 15.0) * rng.uniform(0.8, 1.2);
    river.level_start = spec.base_z - 0.3 * spec.octaves[0].amplitude();
    river.level_drop_per_m = rng.uniform(0.0005, 0.002);
    return spec;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
ValueNoise::ValueNoise(std::uint64_t seed, double wavelength, double amplitude)
    : seed_(seed), inv_wavelength_(1.0 / wavelength), amplitude_(amplitude) {
    Rng rng(seed);
    shift_x_ = rng.uniform(0.0, 1000.0);
    shift_y_ = rng.uniform(0.0, 1000.0);
}

double ValueNoise::operator()(double x, double y) const {
    const double fx = x * inv_wavelength_ + shift_x_;
    const double fy = y * inv_wavelength_ + shift_y_;
    const double ix = std::floor(fx), iy = std::floor(fy);
    const double wx = fade(fx - ix), wy = fade(fy - iy);
    const auto i = static_cast<std::uint64_t>(static_cast<std::int64_t>(ix));
    const auto j = static_cast<std::uint64_t>(static_cast<std::int64_t>(iy));
    auto lattice = [&](std::uint64_t a, std::uint64_t b) {
        return unit_from_bits(hash_of(seed_, a, b)) * 2.0 - 1.0;
    };
    const double v0 = lattice(i, j) + wx * (lattice(i + 1, j) - lattice(i, j));
    const double v1 = lattice(i, j + 1) + wx * (lattice(i + 1, j + 1) - lattice(i, j + 1));
    return amplitude_ * (v0 + wy * (v1 - v0));
}

// ---------------------------------------------------------------------------------------------
double River::distance(double x, double y) const {
    const double along = along_x ? x : y;
    const double across = along_x ? y : x;
    const double angle = kTwoPi * along / wavelength + phase;
    const double centre = center + meander_amplitude * std::sin(angle);
    const double slope = meander_amplitude * kTwoPi / wavelength * std::cos(angle);
    // Vertical offset scaled to the perpendicular distance to the local tangent.
    return std::abs(across - centre) / std::sqrt(1.0 + slope * slope);
}

double River::level(double x, double y) const {
    return level_start - level_drop_per_m * (along_x ? x : y);
}

// ---------------------------------------------------------------------------------------------
Terrain::Terrain(std::uint64_t seed, double side) {
    TerrainSpec spec = terrain_spec(seed, side);
    base_z_ = spec.base_z;
    octaves_ = spec.octaves;
    river_ = spec.river;
    // The relief's finest octave has a 20+ m wavelength, so 1-2 m cells interpolate it well;
    // the cap keeps huge tiles within a few MB.
    cell_ = std::max(1.0, side / 640.0);
    inv_cell_ = 1.0 / cell_;
    nx_ = static_cast<int>(std::ceil(side * inv_cell_)) + 1;
    ny_ = nx_;
    grid_.resize(static_cast<std::size_t>(nx_) * static_cast<std::size_t>(ny_));
    min_z_ = kInf;
    max_z_ = -kInf;
    for (int j = 0; j < ny_; ++j) {
        for (int i = 0; i < nx_; ++i) {
            const double z = unbaked_height(i * cell_, j * cell_);
            grid_[static_cast<std::size_t>(j) * nx_ + i] = static_cast<float>(z);
            min_z_ = std::min(min_z_, z);
            max_z_ = std::max(max_z_, z);
        }
    }
}

void Terrain::bounds(std::uint64_t seed, double side, double& lo, double& hi) {
    const TerrainSpec spec = terrain_spec(seed, side);
    double amplitude_sum = 0;
    for (const auto& octave : spec.octaves) amplitude_sum += octave.amplitude();
    const double lowest_water = spec.river.level_start - spec.river.level_drop_per_m * side;
    lo = std::min(spec.base_z - amplitude_sum, lowest_water) - 3.0;
    hi = spec.base_z + amplitude_sum + 6.0;  // banks rise a few metres above the base
}

double Terrain::unbaked_height(double x, double y) const {
    double relief = base_z_;
    for (const auto& octave : octaves_) relief += octave(x, y);
    const double d = river_.distance(x, y);
    const double water = river_.level(x, y);
    if (d < river_.half_width) return water;
    // A bank 0.8 m above the water that blends into the natural relief across the valley.
    const double from_shore = d - river_.half_width;
    const double bank = water + 0.8 + 0.06 * from_shore;
    const double w = smoothstep01(from_shore / 60.0);
    return bank + (relief - bank) * w;
}

double Terrain::height(double x, double y) const {
    const double fx = std::clamp(x * inv_cell_, 0.0, nx_ - 1.000001);
    const double fy = std::clamp(y * inv_cell_, 0.0, ny_ - 1.000001);
    const int i = static_cast<int>(fx), j = static_cast<int>(fy);
    const double wx = fx - i, wy = fy - j;
    const float* row = &grid_[static_cast<std::size_t>(j) * nx_ + i];
    const double z0 = row[0] + wx * (row[1] - row[0]);
    const double z1 = row[nx_] + wx * (row[nx_ + 1] - row[nx_]);
    return z0 + wy * (z1 - z0);
}

// ---------------------------------------------------------------------------------------------
ZoneMap::ZoneMap(std::uint64_t seed, double side, const River& river) {
    Rng rng(hash_of(seed, salt_zones));
    // About one land-use region per 6 ha; the first four are forced so that every tile,
    // however small, has buildings, forest and fields.
    const auto site_count =
        std::max<std::size_t>(6, static_cast<std::size_t>(side * side / 60000.0));
    constexpr Zone forced[] = {Zone::urban, Zone::forest, Zone::field, Zone::urban};
    for (std::size_t i = 0; i < site_count; ++i) {
        Site site;
        site.position = {rng.uniform(0.1, 0.9) * side, rng.uniform(0.1, 0.9) * side};
        if (i < std::size(forced)) {
            site.zone = forced[i];
        } else {
            const double u = rng.uniform();
            site.zone = u < 0.35 ? Zone::urban : (u < 0.65 ? Zone::forest : Zone::field);
        }
        site.street_angle = rng.uniform(0.0, std::numbers::pi / 2);
        sites_.push_back(site);
    }
    warp_x_ = ValueNoise(hash_of(seed, salt_zones, 1), 120.0, 25.0);
    warp_y_ = ValueNoise(hash_of(seed, salt_zones, 2), 120.0, 25.0);
    crop_noise_ = ValueNoise(hash_of(seed, salt_zones, 3), 90.0, 1.0);

    cell_ = std::max(2.0, side / 600.0);
    inv_cell_ = 1.0 / cell_;
    nx_ = static_cast<int>(std::ceil(side * inv_cell_));
    ny_ = nx_;
    raster_.resize(static_cast<std::size_t>(nx_) * static_cast<std::size_t>(ny_));
    for (int j = 0; j < ny_; ++j) {
        for (int i = 0; i < nx_; ++i) {
            raster_[static_cast<std::size_t>(j) * nx_ + i] =
                classify((i + 0.5) * cell_, (j + 0.5) * cell_, river);
        }
    }
}

const ZoneMap::Site& ZoneMap::nearest_site(double x, double y) const {
    const Vec2 warped{x + warp_x_(x, y), y + warp_y_(x, y)};
    const Site* best = &sites_.front();
    double best_d2 = kInf;
    for (const Site& site : sites_) {
        const Vec2 d = site.position - warped;
        const double d2 = dot(d, d);
        if (d2 < best_d2) {
            best_d2 = d2;
            best = &site;
        }
    }
    return *best;
}

Zone ZoneMap::classify(double x, double y, const River& river) const {
    if (river.contains(x, y)) return Zone::water;
    const Zone zone = nearest_site(x, y).zone;
    if (zone == Zone::field && crop_noise_(x, y) > 0.1) return Zone::crop;
    return zone;
}

Zone ZoneMap::at(double x, double y) const {
    const int i = std::clamp(static_cast<int>(x * inv_cell_), 0, nx_ - 1);
    const int j = std::clamp(static_cast<int>(y * inv_cell_), 0, ny_ - 1);
    return raster_[static_cast<std::size_t>(j) * nx_ + i];
}

// ---------------------------------------------------------------------------------------------
double Building::roof_z(double u, double v) const {
    const double inset_v = half_v - std::abs(v);
    const double inset_u = half_u - std::abs(u);
    switch (roof) {
        case RoofType::flat:
            return eave_z;
        case RoofType::gable:
            return eave_z + slope * std::max(0.0, inset_v);
        case RoofType::hip:
            return eave_z + slope * std::max(0.0, std::min(inset_v, inset_u));
    }
    return eave_z;
}

BuildingHit intersect(const Building& b, const Ray& ray) {
    // Ray in the building frame; every face is a half-space c0 + c1*s <= 0 of the solid.
    const Vec2 origin = b.to_local({ray.ox, ray.oy});
    const double tu = ray.tx * b.cos_a + ray.ty * b.sin_a;
    const double tv = -ray.tx * b.sin_a + ray.ty * b.cos_a;
    const double k = b.slope;
    const double above_eave = ray.oz - b.eave_z;
    double c0[8], c1[8];
    c0[0] = origin.x - b.half_u, c1[0] = tu;
    c0[1] = -origin.x - b.half_u, c1[1] = -tu;
    c0[2] = origin.y - b.half_v, c1[2] = tv;
    c0[3] = -origin.y - b.half_v, c1[3] = -tv;
    int faces = 5;
    if (b.roof == RoofType::flat) {
        c0[4] = above_eave, c1[4] = -1.0;
    } else {
        c0[4] = above_eave - k * b.half_v + k * origin.y, c1[4] = -1.0 + k * tv;
        c0[5] = above_eave - k * b.half_v - k * origin.y, c1[5] = -1.0 - k * tv;
        faces = 6;
        if (b.roof == RoofType::hip) {
            c0[6] = above_eave - k * b.half_u + k * origin.x, c1[6] = -1.0 + k * tu;
            c0[7] = above_eave - k * b.half_u - k * origin.x, c1[7] = -1.0 - k * tu;
            faces = 8;
        }
    }
    double enter = 0.0, leave = kInf;
    int face = -1;
    for (int i = 0; i < faces; ++i) {
        if (c1[i] < 0.0) {
            const double s = -c0[i] / c1[i];
            if (s > enter) enter = s, face = i;
        } else if (c1[i] > 0.0) {
            leave = std::min(leave, -c0[i] / c1[i]);
        } else if (c0[i] > 0.0) {
            return {};
        }
    }
    if (face < 0 || enter > leave) return {};
    return {enter, face};
}

bool intersect(const Tree& tree, const Ray& ray, double& s_in, double& s_out) {
    const double inv_h2 = 1.0 / (tree.radius_h * tree.radius_h);
    const double inv_v2 = 1.0 / (tree.radius_v * tree.radius_v);
    const double dx = ray.ox - tree.center.x, dy = ray.oy - tree.center.y;
    const double dz = ray.oz - tree.center_z;
    const double a = (ray.tx * ray.tx + ray.ty * ray.ty) * inv_h2 + inv_v2;
    const double b = 2.0 * ((dx * ray.tx + dy * ray.ty) * inv_h2 - dz * inv_v2);
    const double c = (dx * dx + dy * dy) * inv_h2 + dz * dz * inv_v2 - 1.0;
    const double disc = b * b - 4.0 * a * c;
    if (disc <= 0.0) return false;
    const double root = std::sqrt(disc);
    s_in = (-b - root) / (2.0 * a);
    s_out = (-b + root) / (2.0 * a);
    return s_out > 0.0;
}

// ---------------------------------------------------------------------------------------------
int ObjectGrid::cell_of(double v, int n) const {
    return std::clamp(static_cast<int>(std::floor(v * inv_cell_)), 0, n - 1);
}

ObjectGrid::ObjectGrid(double side, double cell, std::span<const Building> buildings,
                       std::span<const Tree> trees)
    : inv_cell_(1.0 / cell) {
    nx_ = std::max(1, static_cast<int>(std::ceil(side * inv_cell_)));
    ny_ = nx_;
    struct Box {
        std::uint32_t id;
        int x0, y0, x1, y1;
    };
    std::vector<Box> boxes;
    boxes.reserve(buildings.size() + trees.size());
    auto add = [&](std::uint32_t id, Vec2 c, double r) {
        boxes.push_back({id, cell_of(c.x - r, nx_), cell_of(c.y - r, ny_), cell_of(c.x + r, nx_),
                         cell_of(c.y + r, ny_)});
    };
    for (std::uint32_t i = 0; i < buildings.size(); ++i) {
        add(i | kBuildingBit, buildings[i].center, buildings[i].bounding_radius());
    }
    for (std::uint32_t i = 0; i < trees.size(); ++i) add(i, trees[i].center, trees[i].radius_h);

    std::vector<std::uint32_t> counts(static_cast<std::size_t>(nx_) * ny_ + 1, 0);
    for (const Box& box : boxes) {
        for (int y = box.y0; y <= box.y1; ++y)
            for (int x = box.x0; x <= box.x1; ++x) ++counts[static_cast<std::size_t>(y) * nx_ + x];
    }
    starts_.assign(counts.size(), 0);
    for (std::size_t i = 1; i < counts.size(); ++i) starts_[i] = starts_[i - 1] + counts[i - 1];
    entries_.resize(starts_.back());
    std::vector<std::uint32_t> fill(starts_.begin(), starts_.end() - 1);
    for (const Box& box : boxes) {
        const Entry entry{box.id, static_cast<std::uint16_t>(box.x0),
                          static_cast<std::uint16_t>(box.y0)};
        for (int y = box.y0; y <= box.y1; ++y)
            for (int x = box.x0; x <= box.x1; ++x)
                entries_[fill[static_cast<std::size_t>(y) * nx_ + x]++] = entry;
    }
}

void ObjectGrid::query(double x0, double y0, double x1, double y1,
                       std::vector<std::uint32_t>& out) const {
    out.clear();
    const int cx0 = cell_of(std::min(x0, x1), nx_), cx1 = cell_of(std::max(x0, x1), nx_);
    const int cy0 = cell_of(std::min(y0, y1), ny_), cy1 = cell_of(std::max(y0, y1), ny_);
    for (int y = cy0; y <= cy1; ++y) {
        for (int x = cx0; x <= cx1; ++x) {
            const std::size_t cell = static_cast<std::size_t>(y) * nx_ + x;
            for (std::uint32_t e = starts_[cell]; e < starts_[cell + 1]; ++e) {
                const Entry& entry = entries_[e];
                // Report an object only from the first query cell it overlaps.
                if (std::max<int>(entry.first_ix, cx0) == x &&
                    std::max<int>(entry.first_iy, cy0) == y) {
                    out.push_back(entry.id);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
namespace {

constexpr double kBuildingCell = 36.0;

double floors_to_eave(Rng& rng) {
    const double u = rng.uniform();
    const int floors = u < 0.12 ? 1 : u < 0.5 ? 2 : u < 0.72 ? 3 : u < 0.88 ? 4 : 6;
    return floors * 3.0 + rng.uniform(0.3, 1.0);
}

// Buildings on a jittered 36 m lattice inside urban regions, aligned with their region's
// streets, clear of the river and wholly inside the tile.
std::vector<Building> place_buildings(std::uint64_t seed, double side, const Terrain& terrain,
                                      const ZoneMap& zones) {
    std::vector<Building> buildings;
    const int n = static_cast<int>(side / kBuildingCell);
    const double margin = (side - n * kBuildingCell) / 2;
    for (int j = 0; j < n; ++j) {
        for (int i = 0; i < n; ++i) {
            Rng rng(hash_of(seed, salt_buildings, static_cast<std::uint64_t>(i),
                            static_cast<std::uint64_t>(j)));
            Vec2 c{margin + (i + 0.5) * kBuildingCell, margin + (j + 0.5) * kBuildingCell};
            if (zones.at(c.x, c.y) != Zone::urban || !rng.chance(0.85)) continue;
            Building b;
            b.half_u = rng.uniform(5.0, 13.0);
            b.half_v = rng.uniform(4.0, std::min(b.half_u, 9.0));
            const double radius = b.bounding_radius();
            const double jitter = std::max(0.0, kBuildingCell / 2 - radius - 1.5);
            c = c + Vec2{rng.uniform(-jitter, jitter), rng.uniform(-jitter, jitter)};
            const bool inside = c.x - radius > 1.0 && c.y - radius > 1.0 &&
                                c.x + radius < side - 1.0 && c.y + radius < side - 1.0;
            const River& river = terrain.river();
            if (!inside || river.distance(c.x, c.y) < river.half_width + radius + 3.0) continue;
            b.center = c;
            const double angle = zones.nearest_site(c.x, c.y).street_angle +
                                 (rng.chance(0.3) ? std::numbers::pi / 2 : 0.0) +
                                 rng.uniform(-0.05, 0.05);
            b.cos_a = std::cos(angle);
            b.sin_a = std::sin(angle);
            double base = terrain.height(c.x, c.y);
            for (double su : {-1.0, 1.0})
                for (double sv : {-1.0, 1.0}) {
                    const Vec2 corner = b.to_world(su * b.half_u, sv * b.half_v);
                    base = std::max(base, terrain.height(corner.x, corner.y));
                }
            b.eave_z = base + floors_to_eave(rng);
            const double roof_kind = rng.uniform();
            b.roof = roof_kind < 0.35   ? RoofType::flat
                     : roof_kind < 0.75 ? RoofType::gable
                                        : RoofType::hip;
            b.slope = b.roof == RoofType::flat ? 0.0 : rng.uniform(0.45, 1.0);
            b.top_z = b.eave_z + b.slope * b.half_v;
            if (b.roof == RoofType::flat) {
                b.roof_reflectance = static_cast<float>(rng.uniform(0.15, 0.5));
                b.roof_rgbn = jittered_rgbn(rng, 150, 150, 148, 90, 30);
            } else if (rng.chance(0.6)) {  // terracotta tiles
                b.roof_reflectance = static_cast<float>(rng.uniform(0.25, 0.4));
                b.roof_rgbn = jittered_rgbn(rng, 175, 90, 62, 110, 20);
            } else {  // slate
                b.roof_reflectance = static_cast<float>(rng.uniform(0.08, 0.2));
                b.roof_rgbn = jittered_rgbn(rng, 80, 84, 92, 60, 12);
            }
            b.wall_reflectance = static_cast<float>(rng.uniform(0.35, 0.6));
            b.wall_rgbn = jittered_rgbn(rng, 205, 195, 172, 150, 20);
            buildings.push_back(b);
        }
    }
    return buildings;
}

std::vector<Wall> building_walls(std::span<const Building> buildings) {
    std::vector<Wall> walls;
    walls.reserve(buildings.size() * 4);
    for (std::uint32_t i = 0; i < buildings.size(); ++i) {
        const Building& b = buildings[i];
        const Vec2 u_axis{b.cos_a, b.sin_a}, v_axis{-b.sin_a, b.cos_a};
        const double a = b.half_u, h = b.half_v;
        // Same face order as intersect(): +u, -u, +v, -v.
        walls.push_back({i, b.to_world(a, -h), v_axis, u_axis, 2 * h});
        walls.push_back({i, b.to_world(-a, h), -1.0 * v_axis, -1.0 * u_axis, 2 * h});
        walls.push_back({i, b.to_world(a, h), -1.0 * u_axis, v_axis, 2 * a});
        walls.push_back({i, b.to_world(-a, -h), u_axis, -1.0 * v_axis, 2 * a});
    }
    return walls;
}

enum class TreeKind { conifer, broadleaf, shrub };

Tree make_tree(Rng& rng, TreeKind kind, Vec2 at, const Terrain& terrain) {
    double height = 0, crown_fraction = 0;
    Tree tree;
    tree.center = at;
    switch (kind) {
        case TreeKind::conifer:
            height = rng.uniform(12.0, 26.0);
            tree.radius_h = rng.uniform(1.5, 3.0);
            crown_fraction = rng.uniform(0.55, 0.8);
            tree.foliage_density = static_cast<float>(rng.uniform(0.5, 0.9));
            tree.rgbn = jittered_rgbn(rng, 45, 82, 48, 175, 10);
            break;
        case TreeKind::broadleaf:
            height = rng.uniform(7.0, 22.0);
            tree.radius_h = std::min(rng.uniform(2.5, 5.0), height * 0.4);
            crown_fraction = rng.uniform(0.45, 0.7);
            tree.foliage_density = static_cast<float>(rng.uniform(0.3, 0.6));
            tree.rgbn = jittered_rgbn(rng, 75, 118, 58, 205, 15);
            break;
        case TreeKind::shrub:
            height = rng.uniform(0.8, 3.0);
            tree.radius_h = rng.uniform(0.7, 1.8);
            crown_fraction = rng.uniform(0.7, 0.9);
            tree.foliage_density = static_cast<float>(rng.uniform(0.9, 1.5));
            tree.rgbn = jittered_rgbn(rng, 88, 125, 62, 190, 15);
            break;
    }
    tree.ground_z = terrain.height(at.x, at.y);
    tree.radius_v = height * crown_fraction / 2;
    tree.center_z = tree.ground_z + height - tree.radius_v;
    return tree;
}

// Trees and shrubs on a jittered 6 m lattice: dense in forest, sparse in gardens and fields.
std::vector<Tree> place_trees(std::uint64_t seed, double side, const Terrain& terrain,
                              const ZoneMap& zones, std::span<const Building> buildings) {
    // Buildings by 36 m lattice cell, to keep garden trees off roofs.
    const int bn = std::max(1, static_cast<int>(side / kBuildingCell));
    const double margin = (side - bn * kBuildingCell) / 2;
    std::vector<std::vector<std::uint32_t>> by_cell(static_cast<std::size_t>(bn) * bn);
    auto bcell = [&](double v) {
        return std::clamp(static_cast<int>(std::floor((v - margin) / kBuildingCell)), 0, bn - 1);
    };
    for (std::uint32_t i = 0; i < buildings.size(); ++i) {
        by_cell[static_cast<std::size_t>(bcell(buildings[i].center.y)) * bn +
                bcell(buildings[i].center.x)]
            .push_back(i);
    }
    auto clear_of_buildings = [&](const Tree& t) {
        const int cx = bcell(t.center.x), cy = bcell(t.center.y);
        for (int y = std::max(0, cy - 1); y <= std::min(bn - 1, cy + 1); ++y)
            for (int x = std::max(0, cx - 1); x <= std::min(bn - 1, cx + 1); ++x)
                for (std::uint32_t i : by_cell[static_cast<std::size_t>(y) * bn + x]) {
                    const Vec2 d = buildings[i].center - t.center;
                    const double keep = buildings[i].bounding_radius() + t.radius_h + 1.0;
                    if (dot(d, d) < keep * keep) return false;
                }
        return true;
    };
    const River& river = terrain.river();
    auto acceptable = [&](const Tree& t) {
        return river.distance(t.center.x, t.center.y) > river.half_width + t.radius_h + 1.0 &&
               clear_of_buildings(t);
    };

    std::vector<Tree> trees;
    constexpr double cell = 6.0;
    const int n = static_cast<int>(std::ceil(side / cell));
    for (int j = 0; j < n; ++j) {
        for (int i = 0; i < n; ++i) {
            Rng rng(hash_of(seed, salt_trees, static_cast<std::uint64_t>(i),
                            static_cast<std::uint64_t>(j)));
            const Vec2 at{(i + rng.uniform()) * cell, (j + rng.uniform()) * cell};
            const Vec2 shrub_at{(i + rng.uniform()) * cell, (j + rng.uniform()) * cell};
            if (at.x >= side || at.y >= side || shrub_at.x >= side || shrub_at.y >= side) continue;
            const Zone zone = zones.at(at.x, at.y);
            double tree_chance = 0, shrub_chance = 0, conifer_share = 0;
            switch (zone) {
                case Zone::forest:
                    tree_chance = 0.85, shrub_chance = 0.25, conifer_share = 0.4;
                    break;
                case Zone::urban:
                    tree_chance = 0.06, shrub_chance = 0.06, conifer_share = 0.15;
                    break;
                case Zone::field:
                    tree_chance = 0.012, shrub_chance = 0.02, conifer_share = 0.1;
                    break;
                case Zone::crop:
                    tree_chance = 0.002, shrub_chance = 0.0, conifer_share = 0.0;
                    break;
                case Zone::water:
                    break;
            }
            if (rng.chance(tree_chance)) {
                const TreeKind kind =
                    rng.chance(conifer_share) ? TreeKind::conifer : TreeKind::broadleaf;
                Tree tree = make_tree(rng, kind, at, terrain);
                if (acceptable(tree)) trees.push_back(tree);
            }
            if (rng.chance(shrub_chance)) {
                Tree shrub = make_tree(rng, TreeKind::shrub, shrub_at, terrain);
                if (acceptable(shrub)) trees.push_back(shrub);
            }
        }
    }
    return trees;
}

}  // namespace

Scene build_scene(std::uint64_t seed, double side) {
    Scene scene;
    scene.side = side;
    scene.seed = seed;
    scene.terrain = Terrain(seed, side);
    scene.zones = ZoneMap(seed, side, scene.terrain.river());
    scene.buildings = place_buildings(seed, side, scene.terrain, scene.zones);
    scene.walls = building_walls(scene.buildings);
    scene.trees = place_trees(seed, side, scene.terrain, scene.zones, scene.buildings);
    scene.grid = ObjectGrid(side, 8.0, scene.buildings, scene.trees);
    double tallest = 0;
    for (const Building& b : scene.buildings) {
        double lowest = b.eave_z;
        for (double su : {-1.0, 1.0})
            for (double sv : {-1.0, 1.0}) {
                const Vec2 corner = b.to_world(su * b.half_u, sv * b.half_v);
                lowest = std::min(lowest, scene.terrain.height(corner.x, corner.y));
            }
        tallest = std::max(tallest, b.top_z - lowest);
    }
    for (const Tree& t : scene.trees)
        tallest = std::max(tallest, t.center_z + t.radius_v - t.ground_z);
    scene.max_object_height = tallest;
    return scene;
}

}  // namespace lidarmill::synth::detail
