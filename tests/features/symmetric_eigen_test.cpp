// The closed-form solver against Eigen's iterative one (QL, slower but accurate), on
// covariances of the shapes LiDAR neighbourhoods take and on the degenerate cases.
#include "features/symmetric_eigen.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <random>
#include <vector>

namespace lidarmill::features::detail {
namespace {

Eigen::Matrix3d dense(const SymmetricMatrix3& m) {
    Eigen::Matrix3d d;
    d << m.xx, m.xy, m.xz, m.xy, m.yy, m.yz, m.xz, m.yz, m.zz;
    return d;
}

SymmetricMatrix3 covariance_of(const std::vector<Eigen::Vector3d>& points) {
    Eigen::Vector3d mean = Eigen::Vector3d::Zero();
    for (const auto& p : points) mean += p;
    mean /= static_cast<double>(points.size());
    Eigen::Matrix3d c = Eigen::Matrix3d::Zero();
    for (const auto& p : points) c += (p - mean) * (p - mean).transpose();
    c /= static_cast<double>(points.size());
    return {c(0, 0), c(0, 1), c(0, 2), c(1, 1), c(1, 2), c(2, 2)};
}

// Checks eigenvalues against QL within 3e-8 of the largest (a closed form loses half the
// digits next to a double root, as Eigen's computeDirect, which this replaced, does too),
// and e3: along QL's when l3 is well separated from l2, otherwise a unit eigenvector
// (m e3 = l3 e3 up to rounding).
void expect_matches_ql(const SymmetricMatrix3& m) {
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> ql(dense(m));
    const SmallestEigen got = smallest_eigen(m);
    const double l1 = ql.eigenvalues()(2), l2 = ql.eigenvalues()(1), l3 = ql.eigenvalues()(0);
    const double tolerance = 3e-8 * std::max(std::abs(l1), std::abs(l3)) + 1e-300;
    EXPECT_NEAR(got.l1, l1, tolerance);
    EXPECT_NEAR(got.l2, l2, tolerance);
    EXPECT_NEAR(got.l3, l3, tolerance);
    EXPECT_GE(got.l1, got.l2);
    EXPECT_GE(got.l2, got.l3);
    const Eigen::Vector3d e3(got.e3[0], got.e3[1], got.e3[2]);
    EXPECT_NEAR(e3.norm(), 1.0, 1e-12);
    const double spread = std::abs(l1 - l3);
    if (l2 - l3 > 1e-6 * spread) {
        EXPECT_NEAR(std::abs(e3.dot(ql.eigenvectors().col(0))), 1.0, 1e-9);
    } else {
        const Eigen::Vector3d residual = dense(m) * e3 - got.l3 * e3;
        EXPECT_LE(residual.norm(), 1e-6 * spread + 1e-300);
    }
}

TEST(SmallestEigen, MatchesQlOnNeighbourhoodShapes) {
    std::mt19937 engine(17);
    std::normal_distribution<double> normal(0.0, 1.0);
    // Planes, lines and blobs at several tilts and noise levels, in metres and far from 1.
    for (int trial = 0; trial < 3000; ++trial) {
        const double sx = std::pow(10.0, trial % 5 - 2), sy = sx * (trial % 3 ? 1.0 : 1e-3),
                     sz = sx * std::pow(10.0, -(trial % 7));
        const Eigen::Matrix3d rotation =
            Eigen::Quaterniond::UnitRandom().toRotationMatrix();  // uses std::rand
        std::vector<Eigen::Vector3d> points;
        for (int i = 0; i < 20; ++i) {
            points.push_back(rotation * Eigen::Vector3d(sx * normal(engine), sy * normal(engine),
                                                        sz * normal(engine)));
        }
        expect_matches_ql(covariance_of(points));
    }
}

TEST(SmallestEigen, HandlesDegenerateMatrices) {
    // Zero, multiples of the identity, double eigenvalues either way, rank one.
    for (const SymmetricMatrix3& m :
         {SymmetricMatrix3{0, 0, 0, 0, 0, 0}, SymmetricMatrix3{2, 0, 0, 2, 0, 2},
          SymmetricMatrix3{1, 0, 0, 1, 0, 0}, SymmetricMatrix3{0, 0, 0, 0, 0, 1},
          SymmetricMatrix3{1, 0, 0, 0, 0, 0}, SymmetricMatrix3{1, 1, 1, 1, 1, 1},
          SymmetricMatrix3{3, 0, 0, 1, 0, 1}, SymmetricMatrix3{1e-30, 0, 0, 1e-30, 0, 0},
          SymmetricMatrix3{4e6, 0, 0, 4e6, 0, 1e-9}}) {
        expect_matches_ql(m);
    }
    // Points on a line: the normal is any direction across it.
    std::vector<Eigen::Vector3d> line;
    for (int i = 0; i < 10; ++i) line.emplace_back(i * 0.3, i * 0.4, i * 0.1);
    expect_matches_ql(covariance_of(line));
    const SmallestEigen on_line = smallest_eigen(covariance_of(line));
    EXPECT_NEAR(on_line.e3[0] * 0.3 + on_line.e3[1] * 0.4 + on_line.e3[2] * 0.1, 0.0, 1e-12);
    // Exactly planar points: l3 = 0 and the normal is the plane's.
    std::vector<Eigen::Vector3d> plane;
    for (int i = 0; i < 25; ++i) plane.emplace_back(i % 5, i / 5, 0.0);
    const SmallestEigen flat = smallest_eigen(covariance_of(plane));
    EXPECT_NEAR(flat.l3, 0.0, 1e-15);
    EXPECT_NEAR(std::abs(flat.e3[2]), 1.0, 1e-15);
}

}  // namespace
}  // namespace lidarmill::features::detail
