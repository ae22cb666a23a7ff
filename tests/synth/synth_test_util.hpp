#pragma once
// Shared helpers of the synth tests: run the generator into memory and decode its records.
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "las/point_format.hpp"
#include "synth/synth.hpp"
#include "util/bytes.hpp"

namespace lidarmill::synth::testing {

struct Generated {
    TileLayout layout;
    std::vector<std::uint8_t> records;
    std::vector<TruthRecord> truth;
    std::vector<std::size_t> batch_sizes;
};

inline Generated run(const SynthParams& params) {
    Generated g{layout(params), {}, {}, {}};
    generate(params,
             [&](std::span<const std::uint8_t> records, std::span<const TruthRecord> truth) {
                 g.records.insert(g.records.end(), records.begin(), records.end());
                 g.truth.insert(g.truth.end(), truth.begin(), truth.end());
                 g.batch_sizes.push_back(truth.size());
             });
    return g;
}

struct Point {
    double x, y, z;
    std::uint16_t intensity;
    std::uint8_t return_number, return_count, flags, classification, user_data;
    std::int16_t scan_angle;
    std::uint16_t source_id;
    double gps_time;
    std::array<std::uint16_t, 4> rgbn;
    bool scan_direction() const { return (flags & 0x40) != 0; }
    bool edge() const { return (flags & 0x80) != 0; }
    int scanner_channel() const { return (flags >> 4) & 3; }
};

inline std::vector<Point> decode(const Generated& g) {
    const auto& L = g.layout;
    const auto offsets = las::record_offsets(L.point_format);
    std::vector<Point> points;
    points.reserve(g.truth.size());
    for (std::size_t i = 0; i < g.records.size() / L.record_length; ++i) {
        const std::uint8_t* r = g.records.data() + i * L.record_length;
        Point p{};
        p.x = util::load_le<std::int32_t>(r + 0) * L.scale[0] + L.offset[0];
        p.y = util::load_le<std::int32_t>(r + 4) * L.scale[1] + L.offset[1];
        p.z = util::load_le<std::int32_t>(r + 8) * L.scale[2] + L.offset[2];
        p.intensity = util::load_le<std::uint16_t>(r + 12);
        p.return_number = r[14] & 0x0F;
        p.return_count = r[14] >> 4;
        p.flags = r[15];
        p.classification = r[16];
        p.user_data = r[17];
        p.scan_angle = util::load_le<std::int16_t>(r + 18);
        p.source_id = util::load_le<std::uint16_t>(r + 20);
        p.gps_time = util::load_le<double>(r + 22);
        if (las::has_rgb(L.point_format)) {
            for (int c = 0; c < 3; ++c)
                p.rgbn[c] = util::load_le<std::uint16_t>(r + offsets.rgb + 2 * c);
        }
        if (las::has_nir(L.point_format)) p.rgbn[3] = util::load_le<std::uint16_t>(r + offsets.nir);
        points.push_back(p);
    }
    return points;
}

// Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations; returns eigenvalues in
// ascending order with their unit eigenvectors (columns of `vectors`).
inline void symmetric_eigen(double a[3][3], double values[3], double vectors[3][3]) {
    double v[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int sweep = 0; sweep < 50; ++sweep) {
        const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        if (off < 1e-30) break;
        for (int p = 0; p < 2; ++p) {
            for (int q = p + 1; q < 3; ++q) {
                if (std::abs(a[p][q]) < 1e-300) continue;
                const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                const double t =
                    (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; ++k) {
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; ++k) {
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; ++k) {
                    const double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; ++i)
        for (int j = i + 1; j < 3; ++j)
            if (a[order[j]][order[j]] < a[order[i]][order[i]]) std::swap(order[i], order[j]);
    for (int i = 0; i < 3; ++i) {
        values[i] = a[order[i]][order[i]];
        for (int k = 0; k < 3; ++k) vectors[k][i] = v[k][order[i]];
    }
}

// Unit normal (smallest principal axis) of a set of points.
template <typename Points>
std::array<double, 3> fit_normal(const Points& pts, double* rms = nullptr) {
    double c[3] = {0, 0, 0};
    for (const auto& p : pts) c[0] += p[0], c[1] += p[1], c[2] += p[2];
    for (double& v : c) v /= static_cast<double>(pts.size());
    double cov[3][3] = {};
    for (const auto& p : pts) {
        const double d[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) cov[i][j] += d[i] * d[j];
    }
    double values[3], vectors[3][3];
    symmetric_eigen(cov, values, vectors);
    if (rms) *rms = std::sqrt(std::max(0.0, values[0]) / static_cast<double>(pts.size()));
    return {vectors[0][0], vectors[1][0], vectors[2][0]};
}

}  // namespace lidarmill::synth::testing
