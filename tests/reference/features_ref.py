#!/usr/bin/env python3
"""Independent reference for lidarmill's per-point geometric features.

Implements the definitions of the features brief by brute force, point by point, with
numpy only (no k-d tree), so that it shares no code and no search structure with the
C++ core (src/features). Used by tests/features/reference_test.cpp.

Input:  .npy, float64, N x 4 columns x, y, z, class (coordinates in a local frame, metres).
        The row index is the point's stable id (it breaks distance ties).
Output: .npy, float64, N x 21, columns in the order of lidarmill::features::Feature;
        NaN is no-data.
"""
import argparse
import sys

import numpy as np

FEATURES = [
    "normal_x", "normal_y", "normal_z", "curvature", "linearity", "planarity", "sphericity",
    "anisotropy", "omnivariance", "eigenentropy", "eigenvalue_1", "eigenvalue_2",
    "eigenvalue_3", "eigenvalue_sum", "verticality", "roughness", "density",
    "points_in_radius", "height_above_ground", "wall_score", "roof_score",
]
COL = {name: i for i, name in enumerate(FEATURES)}
DEGENERATE_EIGENVALUE = 1e-12  # m^2: below it the neighbourhood is one location


def neighbourhood(points, ids, i, k, max_radius):
    """Indices of the k nearest points to point i (itself included) within max_radius,
    ordered by (squared distance, x, y, z, id), and their squared distances."""
    d = points - points[i]
    d2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
    candidates = np.nonzero(d2 <= max_radius * max_radius)[0]
    if len(candidates) > k:
        kth = np.partition(d2[candidates], k - 1)[k - 1]
        candidates = candidates[d2[candidates] <= kth]
    order = np.lexsort((ids[candidates], points[candidates, 2], points[candidates, 1],
                        points[candidates, 0], d2[candidates]))
    chosen = candidates[order[:k]]
    return chosen, d2[chosen]


def upward(normal):
    for axis in (2, 1, 0):
        if normal[axis] != 0:
            return normal if normal[axis] > 0 else -normal
    return normal


def shape_features(points, i, chosen, row):
    if len(chosen) < 3:
        return
    neighbours = points[chosen]
    centroid = neighbours.mean(axis=0)
    centred = neighbours - centroid
    covariance = centred.T @ centred / len(chosen)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    l3, l2, l1 = (max(v, 0.0) for v in values)
    if not l1 > DEGENERATE_EIGENVALUE:
        return
    normal = upward(vectors[:, 0])
    total = l1 + l2 + l3
    row[COL["normal_x"]], row[COL["normal_y"]], row[COL["normal_z"]] = normal
    row[COL["curvature"]] = l3 / total
    row[COL["linearity"]] = (l1 - l2) / l1
    row[COL["planarity"]] = (l2 - l3) / l1
    row[COL["sphericity"]] = l3 / l1
    row[COL["anisotropy"]] = (l1 - l3) / l1
    row[COL["omnivariance"]] = np.cbrt(l1 * l2 * l3)
    shares = np.array([l1, l2, l3]) / total
    shares = shares[shares > 0]
    row[COL["eigenentropy"]] = -np.sum(shares * np.log(shares))
    row[COL["eigenvalue_1"]], row[COL["eigenvalue_2"]], row[COL["eigenvalue_3"]] = l1, l2, l3
    row[COL["eigenvalue_sum"]] = total
    row[COL["verticality"]] = 1.0 - abs(normal[2])
    row[COL["roughness"]] = abs(np.dot(points[i] - centroid, normal))


class Ground:
    """Mean-z grid with one cell of margin around the extent; an empty cell takes the
    inverse-distance mean of the first cells with ground met along 8 rays (axes, then
    diagonals) within the reach; bilinear reading between cell centres."""

    RAYS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]

    def __init__(self, ground_points, extent, cell, reach):
        min_x, min_y, max_x, max_y = extent
        self.cell = cell
        self.ox, self.oy = min_x - cell, min_y - cell
        self.cols = int(np.floor((max_x - min_x) / cell)) + 3
        self.rows = int(np.floor((max_y - min_y) / cell)) + 3
        c = np.floor((ground_points[:, 0] - self.ox) / cell)
        r = np.floor((ground_points[:, 1] - self.oy) / cell)
        inside = (c >= 0) & (c < self.cols) & (r >= 0) & (r < self.rows)
        flat = (r[inside] * self.cols + c[inside]).astype(np.int64)
        sums = np.bincount(flat, weights=ground_points[inside, 2], minlength=self.rows * self.cols)
        counts = np.bincount(flat, minlength=self.rows * self.cols)
        grid = np.full(self.rows * self.cols, np.nan)
        grid[counts > 0] = sums[counts > 0] / counts[counts > 0]
        self.grid = self.fill(grid.reshape(self.rows, self.cols), reach / cell).ravel()

    def fill(self, measured, reach_cells):
        result = measured.copy()
        for r, c in zip(*np.nonzero(np.isnan(measured))):
            weighted, weight = 0.0, 0.0
            for dc, dr in self.RAYS:
                length = np.sqrt(2.0) if dc and dr else 1.0
                step = 1
                while step * length <= reach_cells:
                    rr, cc = r + step * dr, c + step * dc
                    if not (0 <= rr < self.rows and 0 <= cc < self.cols):
                        break
                    if not np.isnan(measured[rr, cc]):
                        w = 1.0 / (step * length)
                        weighted += w * measured[rr, cc]
                        weight += w
                        break
                    step += 1
            if weight > 0:
                result[r, c] = weighted / weight
        return result

    def height_at(self, x, y):
        fx = np.clip((x - self.ox) / self.cell - 0.5, 0, self.cols - 1)
        fy = np.clip((y - self.oy) / self.cell - 0.5, 0, self.rows - 1)
        c0, r0 = np.floor(fx).astype(np.int64), np.floor(fy).astype(np.int64)
        c1, r1 = np.minimum(c0 + 1, self.cols - 1), np.minimum(r0 + 1, self.rows - 1)
        tx, ty = fx - c0, fy - r0
        corners = [(c0, r0, (1 - tx) * (1 - ty)), (c1, r0, tx * (1 - ty)),
                   (c0, r1, (1 - tx) * ty), (c1, r1, tx * ty)]
        weighted, weight = np.zeros_like(fx), np.zeros_like(fx)
        for c, r, w in corners:
            value = self.grid[r * self.cols + c]
            use = ~np.isnan(value) & (w != 0)
            weighted += np.where(use, w * np.nan_to_num(value), 0.0)
            weight += np.where(use, w, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weight > 0, weighted / weight, np.nan)


def compute(data, k, max_radius, radius, ground):
    points = np.ascontiguousarray(data[:, :3])
    ids = np.arange(len(points))
    out = np.full((len(points), len(FEATURES)), np.nan)
    for i in range(len(points)):
        row = out[i]
        chosen, d2 = neighbourhood(points, ids, i, k, max_radius)
        shape_features(points, i, chosen, row)
        r_k = np.sqrt(d2[-1])
        if r_k > 0:
            row[COL["density"]] = len(chosen) / (4.0 / 3.0 * np.pi * r_k ** 3)
        d = points - points[i]
        all_d2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
        row[COL["points_in_radius"]] = np.count_nonzero(all_d2 <= radius * radius) - 1
    hag = points[:, 2] - ground.height_at(points[:, 0], points[:, 1])
    out[:, COL["height_above_ground"]] = hag
    planarity, verticality = out[:, COL["planarity"]], out[:, COL["verticality"]]
    out[:, COL["wall_score"]] = planarity * verticality * np.clip((hag - 1.5) / 5, 0, 1)
    out[:, COL["roof_score"]] = planarity * (1 - verticality) * np.clip((hag - 2) / 8, 0, 1)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--max-radius", type=float, default=5.0)
    parser.add_argument("--radius", type=float, default=2.0)
    parser.add_argument("--cell", type=float, default=1.0)
    parser.add_argument("--reach", type=float, default=30.0)
    parser.add_argument("--ground-classes", default="2", help="comma-separated classes")
    parser.add_argument("--extent", type=float, nargs=4, metavar=("MINX", "MINY", "MAXX", "MAXY"),
                        help="ground grid extent (default: the points' xy bounds)")
    args = parser.parse_args(argv)

    data = np.load(args.input)
    if data.ndim != 2 or data.shape[1] != 4:
        sys.exit(f"{args.input}: expected an N x 4 array, got shape {data.shape}")
    data = data.astype(np.float64)
    extent = args.extent or [data[:, 0].min(), data[:, 1].min(), data[:, 0].max(),
                             data[:, 1].max()]
    classes = [int(c) for c in args.ground_classes.split(",") if c.strip()]
    ground = Ground(data[np.isin(data[:, 3], classes), :3], extent, args.cell, args.reach)
    np.save(args.output, compute(data, args.k, args.max_radius, args.radius, ground))


if __name__ == "__main__":
    main(sys.argv[1:])
