#include "features/symmetric_eigen.hpp"

#include <algorithm>
#include <cmath>

namespace lidarmill::features::detail {
namespace {

using Vector3 = std::array<double, 3>;

Vector3 cross(const Vector3& a, const Vector3& b) {
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

double squared_norm(const Vector3& v) {
    return v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
}

// v / |v|, for v != 0.
Vector3 unit(const Vector3& v) {
    const double inverse_length = 1.0 / std::sqrt(squared_norm(v));
    return {v[0] * inverse_length, v[1] * inverse_length, v[2] * inverse_length};
}

// For a simple eigenvalue `lambda` of m: m - lambda I has rank 2 and its rows span the
// plane orthogonal to the eigenvector, so the largest cross product of two rows is along it
// (the largest, because it is the one least spoiled by rounding).
Vector3 eigenvector_of_simple(const SymmetricMatrix3& m, double lambda) {
    const Vector3 r0{m.xx - lambda, m.xy, m.xz};
    const Vector3 r1{m.xy, m.yy - lambda, m.yz};
    const Vector3 r2{m.xz, m.yz, m.zz - lambda};
    const std::array<Vector3, 3> candidates{cross(r0, r1), cross(r0, r2), cross(r1, r2)};
    std::size_t best = 0;
    std::array<double, 3> norms{};
    for (std::size_t i = 0; i < 3; ++i) {
        norms[i] = squared_norm(candidates[i]);
        if (norms[i] > norms[best]) best = i;
    }
    if (!(norms[best] > 0)) return {1, 0, 0};
    return unit(candidates[best]);
}

// A unit vector orthogonal to the unit vector v: v crossed with the axis it is least
// aligned with.
Vector3 orthogonal_to(const Vector3& v) {
    const double ax = std::abs(v[0]), ay = std::abs(v[1]), az = std::abs(v[2]);
    Vector3 axis{0, 0, 0};
    if (ax <= ay && ax <= az) {
        axis[0] = 1;
    } else if (ay <= az) {
        axis[1] = 1;
    } else {
        axis[2] = 1;
    }
    return unit(cross(v, axis));
}

// Below this share of the spread l1 - l3, two eigenvalues count as equal: the cross
// products' direction error grows as (l1 - l3) / gap times the rounding, which is then
// still below 1e-7.
constexpr double equal_share = 1e-9;

}  // namespace

SmallestEigen smallest_eigen(const SymmetricMatrix3& input) {
    SmallestEigen result;
    // Scaled so that the largest entry is 1: nothing under- or overflows below.
    const double scale = std::max({std::abs(input.xx), std::abs(input.xy), std::abs(input.xz),
                                   std::abs(input.yy), std::abs(input.yz), std::abs(input.zz)});
    if (!(scale > 0) || !std::isfinite(scale)) return result;
    const double inverse = 1.0 / scale;
    const SymmetricMatrix3 m{input.xx * inverse, input.xy * inverse, input.xz * inverse,
                             input.yy * inverse, input.yz * inverse, input.zz * inverse};
    // The roots of the characteristic polynomial by the trigonometric method: with
    // B = (m - q I) / p, the eigenvalues are q + 2 p cos(phi + 2 pi k / 3), where
    // phi = acos(det(B) / 2) / 3.
    const double q = (m.xx + m.yy + m.zz) / 3.0;
    const double a = m.xx - q, b = m.yy - q, c = m.zz - q;
    const double p2 =
        (a * a + b * b + c * c + 2.0 * (m.xy * m.xy + m.xz * m.xz + m.yz * m.yz)) / 6.0;
    if (!(p2 > 0)) {  // a multiple of the identity
        result.l1 = result.l2 = result.l3 = q * scale;
        return result;
    }
    const double p = std::sqrt(p2);
    const double det = a * (b * c - m.yz * m.yz) - m.xy * (m.xy * c - m.yz * m.xz) +
                       m.xz * (m.xy * m.yz - b * m.xz);
    const double half_det_b = std::clamp(det / (2.0 * p2 * p), -1.0, 1.0);
    const double phi = std::acos(half_det_b) / 3.0;
    const double cos_phi = std::cos(phi), sin_phi = std::sin(phi);
    constexpr double sqrt3 = 1.7320508075688772935;
    // phi is in [0, pi / 3]: k = 0 gives the largest root, k = 1 the smallest.
    const double r1 = q + 2.0 * p * cos_phi;
    const double r3 = q - p * (cos_phi + sqrt3 * sin_phi);
    const double r2 = std::clamp(q - p * (cos_phi - sqrt3 * sin_phi), r3, r1);
    result.l1 = r1 * scale;
    result.l2 = r2 * scale;
    result.l3 = r3 * scale;

    const double spread = r1 - r3;  // > 0: p > 0
    if (r2 - r3 > equal_share * spread) {
        result.e3 = eigenvector_of_simple(m, r3);
    } else if (r1 - r2 > equal_share * spread) {
        // l3 is double: any unit vector orthogonal to e1 is an eigenvector of it.
        result.e3 = orthogonal_to(eigenvector_of_simple(m, r1));
    }
    return result;
}

}  // namespace lidarmill::features::detail
