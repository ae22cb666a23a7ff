#pragma once
// The catalogue of per-point geometric features: names (as written into extra-bytes
// dimensions), short descriptions, and the named feature sets ("modes").
#include <cstdint>
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

// "core", "building" or "full" (see features.md); throws util::UsageError otherwise.
std::vector<Feature> features_for_mode(std::string_view mode);

// Comma-separated feature names ("planarity, normal_z"); blanks around names are
// ignored and repeated names are kept once, at their first position. Throws
// util::UsageError naming the unknown feature and the valid ones.
std::vector<Feature> parse_feature_list(std::string_view csv);

// True for features computed from the eigen-decomposition of the neighbourhood
// covariance (NaN when the neighbourhood is degenerate).
bool is_eigen_based(Feature feature);

}  // namespace lidarmill::features
