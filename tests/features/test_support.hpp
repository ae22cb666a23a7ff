#pragma once
// Helpers shared by the feature tests: synthetic scenes, a minimal .npy reader/writer,
// a reader for a region of an uncompressed legacy LAS file, and a one-call wrapper
// around compute_features.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "features/compute.hpp"
#include "features/ground_model.hpp"

namespace lidarmill::features::testing {

struct Scene {
    std::vector<double> x, y, z;
    std::vector<int> cls;

    std::size_t size() const { return x.size(); }
    void add(double px, double py, double pz, int c) {
        x.push_back(px);
        y.push_back(py);
        z.push_back(pz);
        cls.push_back(c);
    }
    PointCloudView view(std::span<const std::uint64_t> ids = {}) const {
        return PointCloudView{x, y, z, ids};
    }
    XyExtent extent() const {
        XyExtent e{x[0], y[0], x[0], y[0]};
        for (std::size_t i = 0; i < size(); ++i) {
            e.min_x = std::min(e.min_x, x[i]);
            e.max_x = std::max(e.max_x, x[i]);
            e.min_y = std::min(e.min_y, y[i]);
            e.max_y = std::max(e.max_y, y[i]);
        }
        return e;
    }
};

// Uniform in [-1, 1) from mt19937's fully specified output (std distributions are not
// portable across standard libraries, the raw engine is).
class Jitter {
  public:
    explicit Jitter(std::uint32_t seed) : engine_(seed) {}
    double operator()(double amplitude) {
        return amplitude * (static_cast<double>(engine_()) / 2147483648.0 - 1.0);
    }

  private:
    std::mt19937 engine_;
};

// Tilted plane z = 0.3x - 0.2y + 5 over [0, 20) x [0, 20), class 2, jittered in xy only.
inline Scene tilted_plane(double spacing = 0.5) {
    Scene scene;
    Jitter jitter(7);
    for (double gy = 0; gy < 20; gy += spacing) {
        for (double gx = 0; gx < 20; gx += spacing) {
            const double px = gx + jitter(0.2 * spacing), py = gy + jitter(0.2 * spacing);
            scene.add(px, py, 0.3 * px - 0.2 * py + 5.0, 2);
        }
    }
    return scene;
}

// Flat ground (class 2) with a vertical wall in the plane x = 10 (class 6), 0.5..8 m high.
inline Scene ground_and_wall() {
    Scene scene;
    Jitter jitter(11);
    for (double gy = 0; gy < 20; gy += 0.5) {
        for (double gx = 0; gx < 20; gx += 0.5)
            scene.add(gx + jitter(0.1), gy + jitter(0.1), jitter(0.02), 2);
    }
    for (double gy = 2; gy < 18; gy += 0.4) {
        for (double h = 0.5; h < 8; h += 0.4) scene.add(10.0, gy + jitter(0.1), h + jitter(0.1), 6);
    }
    return scene;
}

struct Box {
    double x0, y0, x1, y1, height;
};

// Sloped noisy terrain z = 0.05x + 0.02y + 100 (class 2) over [0, size)^2 with flat-roofed
// boxes standing on it (roofs and walls class 6, no ground under them), plus oddities:
// an isolated point, an isolated pair, coincident points.
inline Scene terrain_with_boxes(double size, double spacing, std::span<const Box> boxes,
                                std::uint32_t seed = 3) {
    Scene scene;
    Jitter jitter(seed);
    auto terrain = [](double px, double py) { return 0.05 * px + 0.02 * py + 100.0; };
    auto inside = [&](double px, double py) {
        for (const auto& b : boxes) {
            if (px >= b.x0 && px <= b.x1 && py >= b.y0 && py <= b.y1) return &b;
        }
        return static_cast<const Box*>(nullptr);
    };
    for (double gy = 0; gy < size; gy += spacing) {
        for (double gx = 0; gx < size; gx += spacing) {
            const double px = gx + jitter(0.3 * spacing), py = gy + jitter(0.3 * spacing);
            if (const Box* b = inside(px, py)) {
                scene.add(px, py, terrain(b->x0, b->y0) + b->height + jitter(0.03), 6);
            } else {
                scene.add(px, py, terrain(px, py) + jitter(0.05), 2);
            }
        }
    }
    for (const auto& b : boxes) {
        const double base = terrain(b.x0, b.y0);
        for (double h = 0.3; h < b.height; h += spacing) {
            for (double t = b.x0; t <= b.x1; t += spacing) {
                scene.add(t, b.y0, base + h, 6);
                scene.add(t, b.y1, base + h, 6);
            }
        }
    }
    scene.add(size + 40, size + 40, 130.0, 1);  // isolated: 1 point
    scene.add(size + 60, 0, 120.0, 1);          // isolated pair: 2 points
    scene.add(size + 60.5, 0, 120.5, 1);
    for (int i = 0; i < 4; ++i) scene.add(size + 80, 0, 110.0, 1);  // coincident points
    return scene;
}

// ---- .npy (format 1.0/2.0, little-endian float64, C order, 2-D) ----

inline void write_npy(const std::filesystem::path& path, const std::vector<double>& values,
                      std::size_t rows, std::size_t columns) {
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" +
                         std::to_string(rows) + ", " + std::to_string(columns) + "), }";
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const auto length = static_cast<std::uint16_t>(header.size());
    out.write(reinterpret_cast<const char*>(&length), 2);
    out << header;
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(double)));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

struct Matrix {
    std::size_t rows = 0, columns = 0;
    std::vector<double> values;
    double at(std::size_t r, std::size_t c) const { return values[r * columns + c]; }
};

inline Matrix read_npy(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
        throw std::runtime_error(path.string() + ": not a .npy file");
    }
    std::uint32_t length = 0;
    in.read(reinterpret_cast<char*>(&length), magic[6] == 1 ? 2 : 4);
    std::string header(length, '\0');
    in.read(header.data(), length);
    if (header.find("'<f8'") == std::string::npos ||
        header.find("'fortran_order': False") == std::string::npos) {
        throw std::runtime_error(path.string() + ": expected C-order float64, got " + header);
    }
    Matrix m;
    const auto shape = header.find('(', header.find("'shape'"));
    std::size_t used = 0;
    m.rows = std::stoull(header.substr(shape + 1), &used);
    m.columns = std::stoull(header.substr(header.find(',', shape) + 1));
    m.values.resize(m.rows * m.columns);
    in.read(reinterpret_cast<char*>(m.values.data()),
            static_cast<std::streamsize>(m.values.size() * sizeof(double)));
    if (!in) throw std::runtime_error(path.string() + ": truncated");
    return m;
}

// ---- a region of an uncompressed LAS file with point format 0..5 ----

// Points of `path` with origin_x <= X < origin_x + size (same for Y), as coordinates
// relative to (origin_x, origin_y, 0) and classes. Ids are the points' indices in the file.
struct LasRegion {
    Scene scene;
    std::vector<std::uint64_t> ids;
};

inline LasRegion read_las_region(const std::filesystem::path& path, double origin_x,
                                 double origin_y, double size) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto load = [&](std::size_t at, auto value) {
        std::memcpy(&value, bytes.data() + at, sizeof(value));
        return value;
    };
    if (bytes.size() < 227 || std::memcmp(bytes.data(), "LASF", 4) != 0 ||
        (static_cast<unsigned char>(bytes[104]) & 0x3F) > 5) {
        throw std::runtime_error(path.string() + ": not a legacy uncompressed LAS file");
    }
    const auto data_offset = load(96, std::uint32_t{});
    const auto record_length = load(105, std::uint16_t{});
    const auto count = load(107, std::uint32_t{});
    double scale[3], offset[3];
    for (int a = 0; a < 3; ++a) {
        scale[a] = load(131 + 8 * a, double{});
        offset[a] = load(155 + 8 * a, double{});
    }
    LasRegion region;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t at = data_offset + std::size_t{i} * record_length;
        const double px = load(at, std::int32_t{}) * scale[0] + offset[0];
        const double py = load(at + 4, std::int32_t{}) * scale[1] + offset[1];
        const double pz = load(at + 8, std::int32_t{}) * scale[2] + offset[2];
        if (px < origin_x || px >= origin_x + size || py < origin_y || py >= origin_y + size) {
            continue;
        }
        region.scene.add(px - origin_x, py - origin_y, pz, bytes[at + 15] & 0x1F);
        region.ids.push_back(i);
    }
    return region;
}

// ---- running the core ----

inline GroundModel ground_of(const Scene& scene, const XyExtent& extent,
                             const GroundParams& params = {}, int ground_class = 2) {
    GroundModelBuilder builder(extent, params);
    for (std::size_t i = 0; i < scene.size(); ++i) {
        if (scene.cls[i] == ground_class) builder.add(scene.x[i], scene.y[i], scene.z[i]);
    }
    return builder.build();
}

// Feature values, out[f][i], of `features` for every point of the cloud.
inline std::vector<std::vector<float>> compute_all(const PointCloudView& cloud,
                                                   std::span<const Feature> features,
                                                   const NeighbourhoodParams& params,
                                                   const GroundModel* ground,
                                                   std::span<const std::uint32_t> query = {}) {
    std::vector<std::uint32_t> everyone;
    if (query.empty()) {
        for (std::uint32_t i = 0; i < cloud.size(); ++i) everyone.push_back(i);
        query = everyone;
    }
    std::vector<float> rows(features.size() * query.size());
    compute_features(cloud, query, features, params, ground, rows);
    std::vector<std::vector<float>> out(features.size(), std::vector<float>(query.size()));
    for (std::size_t i = 0; i < query.size(); ++i) {
        for (std::size_t f = 0; f < features.size(); ++f) out[f][i] = rows[i * features.size() + f];
    }
    return out;
}

inline std::size_t column_of(std::span<const Feature> features, Feature f) {
    for (std::size_t i = 0; i < features.size(); ++i) {
        if (features[i] == f) return i;
    }
    throw std::logic_error("feature not computed");
}

}  // namespace lidarmill::features::testing
