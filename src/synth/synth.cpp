#include "synth/synth.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <vector>

#include "las/point_format.hpp"
#include "synth/rng.hpp"
#include "synth/scene.hpp"
#include "util/bytes.hpp"
#include "util/error.hpp"

namespace lidarmill::synth {

namespace {

using detail::BuildingHit;
using detail::kInf;
using detail::Ray;
using detail::Scene;
using detail::Vec2;
using detail::Zone;

constexpr double kScale = 0.01;
constexpr double kInvScale = 100.0;
constexpr double kMaxScanDegrees = 20.0;
constexpr double kScanAngleUnitDegrees = 0.006;
constexpr double kAircraftSpeed = 60.0;  // m/s
constexpr double kStripOverlap = 0.3;
constexpr double kMinAltitude = 150.0;        // above the highest ground, metres
constexpr double kMinReturnSeparation = 1.2;  // metres of range between distinct echoes
constexpr int kMaxReturns = 5;
constexpr double kRangeNoise = 0.02;  // metres, one sigma
// Extra wall sampling density per strip, relative to the pulse spacing: oblique pulses alone
// leave walls too sparse for stable normals.
constexpr double kWallSamplesPerPulseSpacing = 1.9;
// The main strips aim at this share of the points; a partial cross strip flies the rest so
// the count is exact without cutting a main strip short.
constexpr double kMainStripShare = 0.95;

constexpr const char* kLambert93Wkt =
    "PROJCS[\"RGF93 v1 / Lambert-93\",GEOGCS[\"RGF93 v1\",DATUM[\"Reseau_Geodesique_Francais_"
    "1993_v1\",SPHEROID[\"GRS 1980\",6378137,298.257222101,AUTHORITY[\"EPSG\",\"7019\"]],"
    "TOWGS84[0,0,0,0,0,0,0],AUTHORITY[\"EPSG\",\"6171\"]],PRIMEM[\"Greenwich\",0,AUTHORITY["
    "\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
    "AUTHORITY[\"EPSG\",\"4171\"]],PROJECTION[\"Lambert_Conformal_Conic_2SP\"],PARAMETER["
    "\"latitude_of_origin\",46.5],PARAMETER[\"central_meridian\",3],PARAMETER[\"standard_"
    "parallel_1\",49],PARAMETER[\"standard_parallel_2\",44],PARAMETER[\"false_easting\",700000],"
    "PARAMETER[\"false_northing\",6600000],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],AXIS["
    "\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"2154\"]]";

// floor(v + 0.5) without a libm call on baseline x86-64 (this runs once per coordinate).
inline std::int64_t round_half_up(double v) {
    const double t = v + 0.5;
    const auto n = static_cast<std::int64_t>(t);
    return n - (t < static_cast<double>(n) ? 1 : 0);
}

double tile_side(const SynthParams& p) {
    if (!(p.density > 0.0) || !std::isfinite(p.density)) {
        throw util::UsageError("synth: density must be a positive number of points per m2");
    }
    if (p.points > 20'000'000'000ull) throw util::UsageError("synth: at most 20 billion points");
    if (!std::isfinite(p.origin_x) || !std::isfinite(p.origin_y)) {
        throw util::UsageError("synth: origin must be finite");
    }
    // Whole centimetres, so the tile box is exactly representable at scale 0.01.
    return std::round(std::sqrt(static_cast<double>(p.points) / p.density) * 100.0) / 100.0;
}

// ---------------------------------------------------------------------------------------------
// What one emitted point carries before it is encoded.
struct PointSample {
    double x = 0, y = 0, z = 0;  // tile-local x, y; absolute z
    double gps_time = 0;
    double reflectance = 0;  // before energy and noise
    std::uint8_t return_number = 1, return_count = 1, classification = 0;
    bool scan_direction = false, edge = false;
    std::int16_t scan_angle = 0;
    std::array<std::uint8_t, 4> rgbn{};
    TruthRecord truth{TruthClass::other, 0.0f};
};

// Quantises, checks against the tile box, encodes and batches points; counts only when it has
// no sink (the density estimate).
class Emitter {
  public:
    Emitter(const TileLayout& layout, const SynthParams& params, const BatchSink* sink,
            std::uint64_t budget)
        : layout_(layout),
          sink_(sink),
          budget_(budget),
          offsets_(las::record_offsets(layout.point_format)) {
        for (int axis = 0; axis < 3; ++axis) {
            const double origin = axis == 0 ? params.origin_x : axis == 1 ? params.origin_y : 0.0;
            local_shift_[axis] = origin - layout.offset[axis];
            lo_[axis] = static_cast<std::int64_t>(
                std::ceil((layout.min[axis] - layout.offset[axis]) / kScale - 1e-6));
            hi_[axis] = static_cast<std::int64_t>(
                std::floor((layout.max[axis] - layout.offset[axis]) / kScale + 1e-6));
        }
        if (sink_ != nullptr) {
            records_.resize(kMaxBatchPoints * layout.record_length);
            truth_.reserve(kMaxBatchPoints);
        }
    }

    struct Quantized {
        std::int32_t xyz[3];
    };

    std::optional<Quantized> quantize(const PointSample& p) const {
        const double v[3] = {p.x, p.y, p.z};
        Quantized q{};
        for (int axis = 0; axis < 3; ++axis) {
            const std::int64_t n = round_half_up((v[axis] + local_shift_[axis]) * kInvScale);
            if (n < lo_[axis] || n > hi_[axis]) return std::nullopt;
            q.xyz[axis] = static_cast<std::int32_t>(n);
        }
        return q;
    }

    bool full() const { return emitted_ >= budget_; }
    bool fits(std::uint64_t n) const { return emitted_ + n <= budget_; }
    std::uint64_t emitted() const { return emitted_; }

    void emit(const PointSample& p, const Quantized& q, std::uint16_t intensity,
              std::uint16_t source_id) {
        ++emitted_;
        if (sink_ == nullptr) return;
        std::uint8_t* r = records_.data() + batch_points_ * layout_.record_length;
        std::fill(r, r + layout_.record_length, std::uint8_t{0});
        util::store_le<std::int32_t>(r + 0, q.xyz[0]);
        util::store_le<std::int32_t>(r + 4, q.xyz[1]);
        util::store_le<std::int32_t>(r + 8, q.xyz[2]);
        util::store_le<std::uint16_t>(r + 12, intensity);
        r[14] = static_cast<std::uint8_t>((p.return_number & 0x0F) | (p.return_count << 4));
        // Classification flags and scanner channel stay 0.
        r[15] = static_cast<std::uint8_t>((p.scan_direction ? 0x40 : 0) | (p.edge ? 0x80 : 0));
        r[16] = p.classification;
        r[17] = 0;  // user data
        util::store_le<std::int16_t>(r + 18, p.scan_angle);
        util::store_le<std::uint16_t>(r + 20, source_id);
        util::store_le<double>(r + 22, p.gps_time);
        if (las::has_rgb(layout_.point_format)) {
            for (int c = 0; c < 3; ++c) {
                util::store_le<std::uint16_t>(r + offsets_.rgb + 2 * c,
                                              static_cast<std::uint16_t>(p.rgbn[c] * 257));
            }
        }
        if (las::has_nir(layout_.point_format)) {
            util::store_le<std::uint16_t>(r + offsets_.nir,
                                          static_cast<std::uint16_t>(p.rgbn[3] * 257));
        }
        truth_.push_back(p.truth);
        if (++batch_points_ == kMaxBatchPoints) flush();
    }

    void flush() {
        if (sink_ == nullptr || batch_points_ == 0) return;
        (*sink_)(
            std::span<const std::uint8_t>(records_.data(), batch_points_ * layout_.record_length),
            std::span<const TruthRecord>(truth_));
        batch_points_ = 0;
        truth_.clear();
    }

  private:
    const TileLayout& layout_;
    const BatchSink* sink_;
    std::uint64_t budget_;
    std::uint64_t emitted_ = 0;
    las::RecordOffsets offsets_;
    double local_shift_[3] = {};
    std::int64_t lo_[3] = {}, hi_[3] = {};
    std::vector<std::uint8_t> records_;
    std::vector<TruthRecord> truth_;
    std::size_t batch_points_ = 0;
};

// ---------------------------------------------------------------------------------------------
struct Strip {
    Vec2 start, heading, right;  // the flight line; `right` is the aircraft's right-hand side
    double length = 0;
    std::uint16_t source_id = 0;
};

struct Flight {
    double altitude_z = 0;
    double max_tan = 0, max_angle = 0;  // half the scan field of view
    double swath = 0;
    double start_time = 0;
    std::vector<Strip> main_strips;
    Vec2 axis, across;  // main strips fly along ±axis
};

Flight plan_flight(const Scene& scene) {
    Flight flight;
    const double side = scene.side;
    const int strips = std::max(3, static_cast<int>(std::ceil(side / 450.0)));
    flight.swath = side / (1.0 + (1.0 - kStripOverlap) * (strips - 1));
    const double nominal_tan = std::tan(kMaxScanDegrees * std::numbers::pi / 180.0);
    const double height = std::max(flight.swath / 2 / nominal_tan, kMinAltitude);
    flight.altitude_z = scene.terrain.max_z() + height;
    flight.max_tan = flight.swath / 2 / height;
    flight.max_angle = std::atan(flight.max_tan);

    Rng rng(hash_of(scene.seed, 0xF11647));
    const bool north_south = rng.chance(0.5);
    flight.axis = north_south ? Vec2{0, 1} : Vec2{1, 0};
    flight.across = north_south ? Vec2{1, 0} : Vec2{0, 1};
    // Adjusted standard GPS time (GPS seconds - 1e9) of a morning in 2019-2028.
    flight.start_time = 2.2e8 + 86400.0 * rng.uniform(0.0, 3650.0) + 28800.0;
    for (int i = 0; i < strips; ++i) {
        const double centre = flight.swath / 2 + (1.0 - kStripOverlap) * flight.swath * i;
        const bool forward = i % 2 == 0;  // alternate headings, as flown
        Strip strip;
        strip.heading = forward ? flight.axis : -1.0 * flight.axis;
        strip.right = {strip.heading.y, -strip.heading.x};
        strip.start = centre * flight.across + (forward ? 0.0 : side) * flight.axis;
        strip.length = side;
        strip.source_id = static_cast<std::uint16_t>(i + 1);
        flight.main_strips.push_back(strip);
    }
    return flight;
}

// The k-th tie line across the main strips, at a golden-ratio sequence of positions.
Strip cross_strip(const Flight& flight, double side, int k, std::size_t main_count) {
    const double position = side * std::fmod(0.5 + 0.6180339887 * k, 1.0);
    const bool forward = k % 2 == 0;
    Strip strip;
    strip.heading = forward ? flight.across : -1.0 * flight.across;
    strip.right = {strip.heading.y, -strip.heading.x};
    strip.start = position * flight.axis + (forward ? 0.0 : side) * flight.across;
    strip.length = side;
    strip.source_id = static_cast<std::uint16_t>(main_count + 1 + k);
    return strip;
}

// Pulse spacing and scan mirror timing for a pulse density (pulses per m2 per strip).
struct Pattern {
    double spacing = 1;  // along track between lines, and across track at nadir
    double wall_spacing = 1;
    int pulses_per_line = 2;
    double line_period = 0, pulse_period = 0;
    std::vector<double> tan_angle;         // by pulse index, left to right
    std::vector<std::int16_t> scan_angle;  // the same in LAS units
};

Pattern make_pattern(const Flight& flight, double pulse_density) {
    Pattern p;
    p.spacing = 1.0 / std::sqrt(pulse_density);
    p.wall_spacing = p.spacing / kWallSamplesPerPulseSpacing;
    p.pulses_per_line = std::max(2, static_cast<int>(std::ceil(flight.swath / p.spacing)) + 1);
    p.line_period = p.spacing / kAircraftSpeed;
    p.pulse_period = p.line_period / p.pulses_per_line;
    const int n = p.pulses_per_line;
    for (int k = 0; k < n; ++k) {
        // An oscillating mirror sweeps at a constant angular rate.
        const double angle = -flight.max_angle + 2.0 * flight.max_angle * k / (n - 1);
        p.tan_angle.push_back(std::tan(angle));
        p.scan_angle.push_back(static_cast<std::int16_t>(
            std::lround(angle * 180.0 / std::numbers::pi / kScanAngleUnitDegrees)));
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
enum class SurfaceKind { ground, crop, water, roof, wall, vegetation };

struct Echo {
    double s;  // descent along the ray
    SurfaceKind kind;
    std::uint32_t object;
    double energy;  // share of the pulse energy left when the echo formed
};

std::array<std::uint8_t, 4> ground_rgbn(Zone zone) {
    switch (zone) {
        case Zone::urban:
            return {128, 124, 118, 80};
        case Zone::crop:
            return {96, 140, 62, 190};
        case Zone::forest:
            return {78, 72, 52, 110};
        case Zone::water:
            return {38, 58, 66, 12};
        case Zone::field:
            break;
    }
    return {118, 126, 78, 140};
}

double ground_reflectance(Zone zone) {
    switch (zone) {
        case Zone::urban:
            return 0.16;
        case Zone::crop:
            return 0.42;
        case Zone::forest:
            return 0.24;
        case Zone::water:
            return 0.04;
        case Zone::field:
            break;
    }
    return 0.32;
}

std::uint8_t vegetation_class(double height_above_ground) {
    if (height_above_ground < 0.5) return las_class::low_vegetation;
    if (height_above_ground < 1.5) return las_class::medium_vegetation;
    return las_class::high_vegetation;
}

// Scans one strip: pulses line by line, each traced through the scene, plus the extra wall
// samples of each line merged in time order.
class StripScanner {
  public:
    StripScanner(const Scene& scene, const Flight& flight, const Pattern& pattern, Emitter& emitter)
        : scene_(scene), flight_(flight), pattern_(pattern), emitter_(emitter) {}

    // Returns the GPS time after the last line.
    double scan(const Strip& strip, double start_time) {
        strip_ = &strip;
        rng_ = Rng(hash_of(scene_.seed, 0x57819, strip.source_id));
        prepare_walls();
        const auto lines = static_cast<std::int64_t>(std::ceil(strip.length / pattern_.spacing));
        const int n = pattern_.pulses_per_line;
        ground_guess_ = scene_.terrain.base_z();
        for (std::int64_t j = 0; j < lines && !emitter_.full(); ++j) {
            const double line_along = j * pattern_.spacing;
            const double line_time = start_time + j * pattern_.line_period;
            const bool left_to_right = j % 2 == 0;
            collect_wall_samples(line_along, line_time, left_to_right);
            std::size_t next_wall = 0;
            for (int k = 0; k < n && !emitter_.full(); ++k) {
                const int angle_index = left_to_right ? k : n - 1 - k;
                const double along = line_along + pattern_.spacing * k / n;
                fire_pulse(along, angle_index, line_time + k * pattern_.pulse_period, left_to_right,
                           k == n - 1);
                while (next_wall < wall_samples_.size() && wall_samples_[next_wall].pulse < k + 1) {
                    emit_wall_sample(wall_samples_[next_wall++]);
                }
            }
        }
        return start_time + lines * pattern_.line_period;
    }

  private:
    struct WallSpan {
        double lo, hi;
        std::uint32_t wall;
    };
    struct WallSample {
        double pulse;  // fractional pulse index within the line: sets time and order
        PointSample point;
    };

    Vec2 scanner_xy(double along) const { return strip_->start + along * strip_->heading; }

    Ray ray_for(double along, double tan_angle) const {
        const Vec2 s = scanner_xy(along);
        return {s.x, s.y, flight_.altitude_z, strip_->right.x * tan_angle,
                strip_->right.y * tan_angle};
    }

    // Descent at which the ray meets the top surface; the fixed point converges fast because
    // slope * tan(scan angle) is well below 1.
    double ground_descent(const Ray& ray) {
        double s = ray.oz - ground_guess_;
        for (int i = 0; i < 4; ++i) {
            const double next = ray.oz - scene_.terrain.height(ray.x(s), ray.y(s));
            const bool settled = std::abs(next - s) < 5e-3;  // well under the range noise
            s = next;
            if (settled) break;
        }
        ground_guess_ = ray.z(s);
        return s;
    }

    void fire_pulse(double along, int angle_index, double time, bool left_to_right, bool edge) {
        const double tan_angle = pattern_.tan_angle[static_cast<std::size_t>(angle_index)];
        const Ray ray = ray_for(along, tan_angle);
        trace(ray, std::abs(tan_angle));
        if (echo_count_ == 0) return;

        // Members, not locals: zeroing five samples per pulse showed in profiles.
        auto& points = pulse_points_;
        auto& quantized = pulse_quantized_;
        auto& intensities = pulse_intensities_;
        int inside = 0;
        for (int i = 0; i < echo_count_; ++i) {
            PointSample& p = points[inside];
            describe(ray, echoes_[i], p);
            p.return_number = static_cast<std::uint8_t>(i + 1);
            p.return_count = static_cast<std::uint8_t>(echo_count_);
            p.gps_time = time;
            p.scan_direction = left_to_right;
            p.edge = edge;
            p.scan_angle = pattern_.scan_angle[static_cast<std::size_t>(angle_index)];
            const auto q = emitter_.quantize(p);
            if (!q) continue;  // beyond the tile edge: belongs to the neighbouring tile
            intensities[inside] = intensity(p.reflectance * echoes_[i].energy);
            quantized[inside++] = *q;
        }
        // Whole pulses only, so return numbers stay consistent at the end of the budget.
        if (inside == 0 || !emitter_.fits(static_cast<std::uint64_t>(inside))) return;
        for (int i = 0; i < inside; ++i)
            emitter_.emit(points[i], quantized[i], intensities[i], strip_->source_id);
    }

    std::uint16_t intensity(double reflectance) {
        const double value = reflectance * 40000.0 * (1.0 + 0.08 * rng_.normalish());
        return static_cast<std::uint16_t>(std::clamp(value, 1.0, 65535.0));
    }

    // Fills echoes_ with the returns of one pulse, nearest first.
    void trace(const Ray& ray, double abs_tan) {
        echo_count_ = 0;
        const double ground_s = ground_descent(ray);
        const double top_s = std::max(0.0, ground_s - scene_.max_object_height - 5.0);
        scene_.grid.query(ray.x(top_s), ray.y(top_s), ray.x(ground_s), ray.y(ground_s),
                          candidates_);

        double surface_s = ground_s;
        SurfaceKind surface = SurfaceKind::ground;
        std::uint32_t surface_object = 0;
        crowns_.clear();
        for (std::uint32_t id : candidates_) {
            if (id & detail::ObjectGrid::kBuildingBit) {
                const std::uint32_t b = id & ~detail::ObjectGrid::kBuildingBit;
                const BuildingHit hit = detail::intersect(scene_.buildings[b], ray);
                if (hit.s < surface_s) {
                    surface_s = hit.s;
                    surface = hit.is_wall() ? SurfaceKind::wall : SurfaceKind::roof;
                    surface_object = b;
                }
            } else {
                double s_in = 0, s_out = 0;
                if (detail::intersect(scene_.trees[id], ray, s_in, s_out))
                    crowns_.push_back({s_in, s_out, id});
            }
        }
        if (surface == SurfaceKind::ground) {
            const double x = ray.x(surface_s), y = ray.y(surface_s);
            // The zone raster is exact enough except along the shore.
            const Zone zone = scene_.zones.at(x, y);
            if (zone == Zone::water && scene_.terrain.river().contains(x, y)) {
                surface = SurfaceKind::water;
            } else if (zone == Zone::crop) {
                surface = SurfaceKind::crop;
            }
        }
        std::sort(crowns_.begin(), crowns_.end(), [](const Crown& a, const Crown& b) {
            return a.s_in < b.s_in || (a.s_in == b.s_in && a.tree < b.tree);
        });

        double energy = 1.0;
        double last_s = -kInf;
        for (const Crown& crown : crowns_) {
            const double end = std::min(crown.s_out, surface_s);
            const double rate = scene_.trees[crown.tree].foliage_density;
            double s = std::max(crown.s_in, 0.0) + exponential() / rate;
            while (s < end && echo_count_ < kMaxReturns) {
                if (s - last_s >= kMinReturnSeparation) {
                    echoes_[echo_count_++] = {s, SurfaceKind::vegetation, crown.tree, energy};
                    last_s = s;
                    energy *= rng_.uniform(0.35, 0.7);
                }
                s += exponential() / rate;
            }
        }
        if (echo_count_ >= kMaxReturns || surface_s - last_s < kMinReturnSeparation) return;
        double p_surface = echo_count_ == 0 ? 1.0 : std::min(0.95, 0.2 + 0.9 * energy);
        if (surface == SurfaceKind::water) {
            // Specular water returns mostly near nadir.
            const double degrees = std::atan(abs_tan) * 180.0 / std::numbers::pi;
            p_surface *= 0.12 + 0.75 * std::exp(-degrees * degrees / 2.25);
        }
        if (rng_.uniform() < p_surface)
            echoes_[echo_count_++] = {surface_s, surface, surface_object, energy};
    }

    double exponential() { return -std::log(1.0 - rng_.uniform()); }

    std::array<std::uint8_t, 4> noisy(std::array<std::uint8_t, 4> c, double shade = 1.0) {
        const std::uint64_t bits = rng_.next();
        for (int i = 0; i < 4; ++i) {
            const int delta = static_cast<int>((bits >> (8 * i)) & 0x0F) - 8;
            c[i] = static_cast<std::uint8_t>(
                std::clamp(static_cast<int>(c[i] * shade) + delta, 0, 255));
        }
        return c;
    }

    void describe(const Ray& ray, const Echo& echo, PointSample& p) {
        const double s = echo.s + kRangeNoise * rng_.normalish();
        p.x = ray.x(s);
        p.y = ray.y(s);
        p.z = ray.z(s);
        auto ground = [&] { return scene_.terrain.height(p.x, p.y); };
        switch (echo.kind) {
            case SurfaceKind::ground:
            case SurfaceKind::crop: {
                const Zone zone = scene_.zones.at(p.x, p.y);
                p.reflectance = ground_reflectance(zone);
                p.rgbn = noisy(ground_rgbn(zone));
                if (echo.kind == SurfaceKind::crop && rng_.chance(0.7)) {
                    p.z = ground() +
                          rng_.uniform(0.08, 0.45);  // crop canopy merged with the soil echo
                    p.classification = las_class::low_vegetation;
                    p.truth = {TruthClass::vegetation, 0.0f};
                } else {
                    p.classification = las_class::ground;
                    p.truth = {TruthClass::ground, 0.0f};
                }
                break;
            }
            case SurfaceKind::water:
                p.z = scene_.terrain.river().level(p.x, p.y) + 0.03 * rng_.normalish();
                p.reflectance = ground_reflectance(Zone::water);
                p.rgbn = noisy(ground_rgbn(Zone::water));
                p.classification = las_class::water;
                p.truth = {TruthClass::water, 0.0f};
                break;
            case SurfaceKind::roof:
            case SurfaceKind::wall: {
                const detail::Building& b = scene_.buildings[echo.object];
                const bool wall = echo.kind == SurfaceKind::wall;
                p.reflectance = wall ? b.wall_reflectance * 0.6 : b.roof_reflectance;
                p.rgbn = noisy(wall ? b.wall_rgbn : b.roof_rgbn);
                p.classification = las_class::building;
                p.truth = {wall ? TruthClass::wall : TruthClass::roof,
                           static_cast<float>(p.z - ground())};
                break;
            }
            case SurfaceKind::vegetation: {
                const detail::Tree& tree = scene_.trees[echo.object];
                p.reflectance = 0.55;
                p.rgbn = noisy(tree.rgbn, echo.energy < 0.99 ? 0.85 : 1.0);
                p.classification = vegetation_class(p.z - ground());
                p.truth = {TruthClass::vegetation, 0.0f};
                break;
            }
        }
    }

    // --- extra wall samples ------------------------------------------------------------------

    double along_of(Vec2 p) const { return dot(p - strip_->start, strip_->heading); }

    void prepare_walls() {
        wall_spans_.clear();
        active_walls_.clear();
        next_span_ = 0;
        for (std::uint32_t i = 0; i < scene_.walls.size(); ++i) {
            const detail::Wall& w = scene_.walls[i];
            const double a0 = along_of(w.start), a1 = along_of(w.start + w.length * w.dir);
            wall_spans_.push_back({std::min(a0, a1), std::max(a0, a1), i});
        }
        std::sort(wall_spans_.begin(), wall_spans_.end(), [](const WallSpan& a, const WallSpan& b) {
            return a.lo < b.lo || (a.lo == b.lo && a.wall < b.wall);
        });
    }

    // Samples on a jittered grid (spacing pattern.wall_spacing) over the part of each wall that
    // faces the scanner, lies in this line's along-track band and is not hidden by a building.
    void collect_wall_samples(double band_lo, double line_time, bool left_to_right) {
        wall_samples_.clear();
        const double band_hi = band_lo + pattern_.spacing;
        while (next_span_ < wall_spans_.size() && wall_spans_[next_span_].lo < band_hi) {
            active_walls_.push_back(wall_spans_[next_span_++]);
        }
        std::erase_if(active_walls_, [&](const WallSpan& w) { return w.hi < band_lo; });
        for (const WallSpan& span : active_walls_)
            sample_wall(span.wall, band_lo, band_hi, line_time, left_to_right);
        std::stable_sort(
            wall_samples_.begin(), wall_samples_.end(),
            [](const WallSample& a, const WallSample& b) { return a.pulse < b.pulse; });
    }

    void sample_wall(std::uint32_t wall_id, double band_lo, double band_hi, double line_time,
                     bool left_to_right) {
        const detail::Wall& wall = scene_.walls[wall_id];
        const detail::Building& b = scene_.buildings[wall.building];
        const double step = pattern_.wall_spacing;
        const double along0 = along_of(wall.start);
        const double rate = dot(wall.dir, strip_->heading);
        double u_lo = 0, u_hi = wall.length;
        if (std::abs(rate) > 1e-9) {
            const double u0 = (band_lo - along0) / rate, u1 = (band_hi - along0) / rate;
            u_lo = std::max(0.0, std::min(u0, u1));
            u_hi = std::min(wall.length, std::max(u0, u1));
            if (u_lo > u_hi) return;
        } else if (along0 < band_lo || along0 >= band_hi) {
            return;
        }
        const auto k0 = static_cast<std::int64_t>(std::floor(u_lo / step)) - 1;
        const auto k1 = static_cast<std::int64_t>(std::ceil(u_hi / step)) + 1;
        const std::uint64_t salt = hash_of(scene_.seed, 0x3A11, strip_->source_id, wall_id);
        for (std::int64_t k = std::max<std::int64_t>(k0, 0); k <= k1; ++k) {
            const std::uint64_t column_bits = hash_combine(salt, static_cast<std::uint64_t>(k));
            const double u = (k + unit_from_bits(column_bits)) * step;
            if (u < 0.0 || u > wall.length) continue;
            const Vec2 at = wall.start + u * wall.dir;
            const double along = along_of(at);
            if (along < band_lo || along >= band_hi) continue;
            const double cross = dot(at - strip_->start, strip_->right);
            // Walls seen edge-on by a vertical scan plane count as facing: real scanners have
            // some fore/aft look and still hit them.
            const double facing = -dot(wall.normal, strip_->right) * (cross >= 0 ? 1.0 : -1.0);
            if (facing < -0.02) continue;
            const double ground = scene_.terrain.height(at.x, at.y);
            const Vec2 local = b.to_local(at);
            const double top = b.roof_z(std::clamp(local.x, -b.half_u, b.half_u),
                                        std::clamp(local.y, -b.half_v, b.half_v));
            for (std::int64_t m = 0; (m * step) < top - ground; ++m) {
                const std::uint64_t bits = hash_combine(column_bits, static_cast<std::uint64_t>(m));
                const double z = ground + (m + unit_from_bits(bits)) * step;
                if (z >= top) break;
                add_wall_sample(wall, wall_id, at, along, cross, z, ground, bits, line_time,
                                left_to_right);
            }
        }
    }

    void add_wall_sample(const detail::Wall& wall, std::uint32_t wall_id, Vec2 at, double along,
                         double cross, double z, double ground, std::uint64_t bits,
                         double line_time, bool left_to_right) {
        const double descent = flight_.altitude_z - z;
        const double tan_angle = cross / descent;
        if (std::abs(tan_angle) > flight_.max_tan) return;
        const Ray ray = ray_for(along, tan_angle);
        if (occluded(ray, descent, wall.building)) return;
        const double angle = std::atan(tan_angle);
        const double sweep = (angle + flight_.max_angle) / (2.0 * flight_.max_angle);
        const double pulse = (left_to_right ? sweep : 1.0 - sweep) * (pattern_.pulses_per_line - 1);

        // Irwin-Hall noise across the wall from the remaining hash bits.
        const std::uint64_t noise_bits = mix64(bits);
        double sum = 0;
        for (int i = 0; i < 4; ++i) sum += static_cast<double>((noise_bits >> (16 * i)) & 0xFFFF);
        const double offset = (sum / 65535.0 - 2.0) * 1.7320508075688772 * kRangeNoise;

        const detail::Building& b = scene_.buildings[wall.building];
        WallSample sample;
        sample.pulse = pulse;
        PointSample& p = sample.point;
        const Vec2 xy = at + offset * wall.normal;
        p.x = xy.x;
        p.y = xy.y;
        p.z = z;
        p.gps_time = line_time + pulse * pattern_.pulse_period;
        p.reflectance = b.wall_reflectance * 0.5;
        p.classification = las_class::building;
        p.scan_direction = left_to_right;
        p.scan_angle = static_cast<std::int16_t>(
            std::lround(angle * 180.0 / std::numbers::pi / kScanAngleUnitDegrees));
        p.rgbn = b.wall_rgbn;
        p.truth = {TruthClass::wall, static_cast<float>(z - ground)};
        (void)wall_id;
        wall_samples_.push_back(sample);
    }

    // True when a building other than the wall's own solid is hit before `descent`.
    bool occluded(const Ray& ray, double descent, std::uint32_t own) {
        const double top_s = std::max(0.0, descent - scene_.max_object_height - 5.0);
        scene_.grid.query(ray.x(top_s), ray.y(top_s), ray.x(descent), ray.y(descent), occluders_);
        for (std::uint32_t id : occluders_) {
            if (!(id & detail::ObjectGrid::kBuildingBit)) continue;
            const std::uint32_t b = id & ~detail::ObjectGrid::kBuildingBit;
            const BuildingHit hit = detail::intersect(scene_.buildings[b], ray);
            if (hit.s < descent - (b == own ? 0.05 : 0.0)) return true;
        }
        return false;
    }

    void emit_wall_sample(WallSample& sample) {
        if (emitter_.full()) return;
        PointSample& p = sample.point;
        const auto q = emitter_.quantize(p);
        if (!q) return;
        p.rgbn = noisy(p.rgbn);
        emitter_.emit(p, *q, intensity(p.reflectance), strip_->source_id);
    }

    struct Crown {
        double s_in, s_out;
        std::uint32_t tree;
    };

    const Scene& scene_;
    const Flight& flight_;
    const Pattern& pattern_;
    Emitter& emitter_;
    const Strip* strip_ = nullptr;
    Rng rng_{0};
    double ground_guess_ = 0;
    Echo echoes_[kMaxReturns];
    std::array<PointSample, kMaxReturns> pulse_points_;
    std::array<Emitter::Quantized, kMaxReturns> pulse_quantized_;
    std::array<std::uint16_t, kMaxReturns> pulse_intensities_;
    int echo_count_ = 0;
    std::vector<std::uint32_t> candidates_, occluders_;
    std::vector<Crown> crowns_;
    std::vector<WallSpan> wall_spans_, active_walls_;
    std::size_t next_span_ = 0;
    std::vector<WallSample> wall_samples_;
};

constexpr double kTurnSeconds = 90.0;

// Flies the main strips, then tie lines until the budget is spent (when emitting).
void fly(const Scene& scene, const Flight& flight, const Pattern& pattern, Emitter& emitter,
         bool main_only) {
    StripScanner scanner(scene, flight, pattern, emitter);
    double time = flight.start_time;
    for (const Strip& strip : flight.main_strips) {
        if (emitter.full()) return;
        time = scanner.scan(strip, time) + kTurnSeconds;
    }
    if (main_only) return;
    int idle = 0;
    for (int k = 0; !emitter.full(); ++k) {
        const std::uint64_t before = emitter.emitted();
        time = scanner.scan(cross_strip(flight, scene.side, k, flight.main_strips.size()), time) +
               kTurnSeconds;
        idle = emitter.emitted() == before ? idle + 1 : 0;
        if (idle > 50) throw std::runtime_error("synth: the scene returns no points");
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TileLayout layout(const SynthParams& params) {
    TileLayout out{};
    out.side = tile_side(params);
    out.point_count = params.points;
    out.point_format = params.nir ? 8 : params.rgb ? 7 : 6;
    out.record_length = las::base_record_length(out.point_format);
    double z_lo = 0, z_hi = 0;
    detail::Terrain::bounds(params.seed, out.side, z_lo, z_hi);
    const double origin[2] = {params.origin_x, params.origin_y};
    for (int axis = 0; axis < 2; ++axis) {
        out.scale[axis] = kScale;
        out.offset[axis] = std::floor(origin[axis] / 1000.0) * 1000.0;
        out.min[axis] = origin[axis];
        out.max[axis] = origin[axis] + out.side;
    }
    out.scale[2] = kScale;
    out.offset[2] = 0.0;
    out.min[2] = std::floor(z_lo) - 1.0;
    out.max[2] = std::ceil(z_hi) + 45.0;  // tallest roofs and trees
    out.wkt = kLambert93Wkt;
    return out;
}

void generate(const SynthParams& params, const BatchSink& sink) {
    const TileLayout tile = layout(params);
    if (tile.point_count == 0) return;
    const Scene scene = detail::build_scene(params.seed, tile.side);
    const Flight flight = plan_flight(scene);

    // Estimate the points each unit of pulse density yields over the main strips with a
    // sparse flight, then set the density so they carry kMainStripShare of the budget.
    const double coverage =
        flight.swath * static_cast<double>(flight.main_strips.size()) / tile.side;
    const double nominal = params.density / (1.1 * coverage);
    const double probe_density =
        nominal * std::min(1.0, 250000.0 / static_cast<double>(tile.point_count));
    Emitter counter(tile, params, nullptr, UINT64_MAX);
    fly(scene, flight, make_pattern(flight, probe_density), counter, true);
    if (counter.emitted() == 0) throw std::runtime_error("synth: the scene returns no points");
    const double per_density = static_cast<double>(counter.emitted()) / probe_density;
    const double density = kMainStripShare * static_cast<double>(tile.point_count) / per_density;

    Emitter emitter(tile, params, &sink, tile.point_count);
    fly(scene, flight, make_pattern(flight, density), emitter, false);
    emitter.flush();
}

}  // namespace lidarmill::synth
