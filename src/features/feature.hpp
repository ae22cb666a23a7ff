#pragma once
// The registry of per-point geometric features. Each feature is one row of a table
// (feature.cpp) that says everything the rest of the program needs to know about it: its
// name and description (as written into extra-bytes dimensions), the smallest mode that
// holds it, what its computation needs (eigen-decomposition, k-NN distances, a radius
// count, the ground model) and the range that lets `--precision compact` store it in 16
// bits. Adding a feature is: an enum value, a row, and its formula in compute.cpp (and in
// the Python reference tests/reference/features_ref.py, the tests' oracle).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace lidarmill::features {

// The order is part of the public contract: the Python reference writes its columns
// in this order, and `all_features()` lists them in this order.
enum class Feature : std::uint8_t {
    normal_x,
    normal_y,
    normal_z,
    curvature,
    linearity,
    planarity,
    sphericity,
    anisotropy,
    omnivariance,
    eigenentropy,
    eigenvalue_1,
    eigenvalue_2,
    eigenvalue_3,
    eigenvalue_sum,
    verticality,
    roughness,
    density,
    points_in_radius,
    height_above_ground,
    wall_score,
    roof_score,
};

inline constexpr std::size_t feature_count = 21;

// Every feature, in enum order.
std::span<const Feature> all_features();

// Snake-case name, e.g. "normal_x"; at most 31 characters (fits a LAS extra-bytes name).
std::string_view feature_name(Feature feature);
// One-line description, at most 31 characters (fits a LAS extra-bytes description).
std::string_view feature_description(Feature feature);

// "core", "building" or "full": the features whose row names that mode or a smaller one,
// in the order of the table's rows (the order of the output dimensions). Throws
// util::UsageError for other names.
std::vector<Feature> features_for_mode(std::string_view mode);

// Comma-separated feature names ("planarity, normal_z"); blanks around names are
// ignored and repeated names are kept once, at their first position. Throws
// util::UsageError naming the unknown feature and the valid ones.
std::vector<Feature> parse_feature_list(std::string_view csv);

// True for features computed from the eigen-decomposition of the neighbourhood
// covariance (NaN when the neighbourhood is degenerate).
bool is_eigen_based(Feature feature);

// What computing a feature takes besides its k nearest neighbours.
struct FeatureNeeds {
    bool eigen = false;         // the covariance's eigen-decomposition
    bool density = false;       // the k-NN distances
    bool radius_count = false;  // a count of the points within NeighbourhoodParams::radius
    bool ground = false;        // the ground model
};
FeatureNeeds needs_of(Feature feature);
// The union over `features`.
FeatureNeeds needs_of(std::span<const Feature> features);

bool needs_ground(Feature feature);
bool needs_ground(std::span<const Feature> features);

// A range that holds every value of a feature by construction, so that `--precision
// compact` can store it as scaled int16; `max` is NeighbourhoodParams::max_radius when
// `max_is_max_radius`. Features without one stay float32.
struct CompactRange {
    double min = 0, max = 0;
    bool max_is_max_radius = false;
};
std::optional<CompactRange> compact_range(Feature feature);

}  // namespace lidarmill::features
