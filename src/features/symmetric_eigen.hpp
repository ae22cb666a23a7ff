#pragma once
// Internal: eigenvalues and the smallest eigenvalue's eigenvector of a symmetric 3 x 3
// matrix (a neighbourhood's covariance), in closed form. The features need e3 (the normal)
// and the three eigenvalues only; a general solver also builds e1 and e2, which was about a
// third of its time, and its time was a tenth of the whole enrich run.
#include <array>

namespace lidarmill::features::detail {

struct SymmetricMatrix3 {
    double xx, xy, xz, yy, yz, zz;
};

struct SmallestEigen {
    // Descending: l1 >= l2 >= l3 (l3 may come out a hair below 0 on singular matrices).
    double l1 = 0, l2 = 0, l3 = 0;
    // Unit eigenvector of l3 (sign arbitrary). Where l3 is (numerically) a double
    // eigenvalue, any unit vector orthogonal to e1; where all three are equal, (1, 0, 0).
    std::array<double, 3> e3{1, 0, 0};
};

SmallestEigen smallest_eigen(const SymmetricMatrix3& m);

}  // namespace lidarmill::features::detail
