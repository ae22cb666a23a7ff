#include "features/feature.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "util/error.hpp"

namespace lidarmill::features {
namespace {

// Modes nest: each holds the features of the ones before it.
enum class Mode : std::uint8_t { core, building, full };

// Compact ranges: none, fixed, or from zero to max_radius.
constexpr std::optional<CompactRange> kFloat32 = std::nullopt;
constexpr std::optional<CompactRange> kUnit = CompactRange{0.0, 1.0};
constexpr std::optional<CompactRange> kSigned = CompactRange{-1.0, 1.0};

struct FeatureRow {
    Feature feature;
    std::string_view name;
    std::string_view description;  // at most 31 characters (LAS extra-bytes record)
    Mode mode;
    FeatureNeeds needs;
    std::optional<CompactRange> compact;
};

constexpr FeatureNeeds kEigen{.eigen = true};
constexpr FeatureNeeds kEigenGround{.eigen = true, .ground = true};

// In the order the modes list them (the order of the output dimensions), which is not the
// enum's.
constexpr std::array<FeatureRow, feature_count> rows{{
    {Feature::normal_x, "normal_x", "Normal x (e3, upward)", Mode::core, kEigen, kSigned},
    {Feature::normal_y, "normal_y", "Normal y (e3, upward)", Mode::core, kEigen, kSigned},
    {Feature::normal_z, "normal_z", "Normal z (e3, upward)", Mode::core, kEigen, kSigned},
    // l3 / sum <= 1/3; 1 leaves headroom for rounding.
    {Feature::curvature, "curvature", "l3/(l1+l2+l3)", Mode::core, kEigen, kUnit},
    {Feature::linearity, "linearity", "(l1-l2)/l1", Mode::core, kEigen, kUnit},
    {Feature::planarity, "planarity", "(l2-l3)/l1", Mode::core, kEigen, kUnit},
    {Feature::sphericity, "sphericity", "l3/l1", Mode::core, kEigen, kUnit},
    {Feature::anisotropy, "anisotropy", "(l1-l3)/l1", Mode::core, kEigen, kUnit},
    // A point lies within max_radius of its neighbourhood's centroid.
    {Feature::roughness, "roughness", "Distance to local plane (m)", Mode::core, kEigen,
     CompactRange{0.0, 0.0, true}},
    {Feature::density,
     "density",
     "k-NN density (points/m3)",
     Mode::core,
     {.density = true},
     kFloat32},
    {Feature::verticality, "verticality", "1-|normal_z|", Mode::core, kEigen, kUnit},
    {Feature::height_above_ground,
     "height_above_ground",
     "Height above ground (m)",
     Mode::core,
     {.ground = true},
     kFloat32},
    {Feature::wall_score, "wall_score", "Planar, vertical, above ground", Mode::building,
     kEigenGround, kUnit},
    {Feature::roof_score, "roof_score", "Planar, horizontal, elevated", Mode::building,
     kEigenGround, kUnit},
    {Feature::points_in_radius,
     "points_in_radius",
     "Other points within radius",
     Mode::building,
     {.radius_count = true},
     kFloat32},
    {Feature::omnivariance, "omnivariance", "cbrt(l1*l2*l3)", Mode::full, kEigen, kFloat32},
    // ln(3) = 1.0986
    {Feature::eigenentropy, "eigenentropy", "-sum(ei*ln(ei))", Mode::full, kEigen,
     CompactRange{0.0, 1.2}},
    {Feature::eigenvalue_1, "eigenvalue_1", "Largest covariance eigenvalue", Mode::full, kEigen,
     kFloat32},
    {Feature::eigenvalue_2, "eigenvalue_2", "Middle covariance eigenvalue", Mode::full, kEigen,
     kFloat32},
    {Feature::eigenvalue_3, "eigenvalue_3", "Smallest covariance eigenvalue", Mode::full, kEigen,
     kFloat32},
    {Feature::eigenvalue_sum, "eigenvalue_sum", "l1+l2+l3", Mode::full, kEigen, kFloat32},
}};

// Each feature's row, indexed by the enum.
constexpr std::array<std::uint8_t, feature_count> row_of = [] {
    std::array<std::uint8_t, feature_count> at{};
    for (std::size_t r = 0; r < rows.size(); ++r)
        at[static_cast<std::size_t>(rows[r].feature)] = static_cast<std::uint8_t>(r);
    return at;
}();

constexpr bool every_feature_has_one_row() {
    std::array<bool, feature_count> seen{};
    for (const auto& row : rows) {
        const auto i = static_cast<std::size_t>(row.feature);
        if (i >= feature_count || seen[i]) return false;
        seen[i] = true;
    }
    return true;
}
static_assert(every_feature_has_one_row());

const FeatureRow& row(Feature feature) {
    return rows[row_of[static_cast<std::size_t>(feature)]];
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

std::string valid_names() {
    std::string names;
    for (const Feature f : all_features()) {
        if (!names.empty()) names += ", ";
        names += feature_name(f);
    }
    return names;
}

}  // namespace

std::span<const Feature> all_features() {
    static const auto features = [] {
        std::array<Feature, feature_count> list{};
        for (std::size_t i = 0; i < feature_count; ++i) list[i] = static_cast<Feature>(i);
        return list;
    }();
    return features;
}

std::string_view feature_name(Feature feature) {
    return row(feature).name;
}

std::string_view feature_description(Feature feature) {
    return row(feature).description;
}

bool is_eigen_based(Feature feature) {
    return needs_of(feature).eigen;
}

FeatureNeeds needs_of(Feature feature) {
    return row(feature).needs;
}

FeatureNeeds needs_of(std::span<const Feature> features) {
    FeatureNeeds all;
    for (const Feature f : features) {
        const FeatureNeeds n = needs_of(f);
        all.eigen |= n.eigen;
        all.density |= n.density;
        all.radius_count |= n.radius_count;
        all.ground |= n.ground;
    }
    return all;
}

bool needs_ground(Feature feature) {
    return needs_of(feature).ground;
}

bool needs_ground(std::span<const Feature> features) {
    return needs_of(features).ground;
}

std::optional<CompactRange> compact_range(Feature feature) {
    return row(feature).compact;
}

std::vector<Feature> features_for_mode(std::string_view mode) {
    Mode largest = Mode::core;
    if (mode == "building") {
        largest = Mode::building;
    } else if (mode == "full") {
        largest = Mode::full;
    } else if (mode != "core") {
        throw util::UsageError("unknown feature mode '" + std::string(mode) +
                               "' (expected core, building or full)");
    }
    std::vector<Feature> features;
    features.reserve(feature_count);
    for (const auto& r : rows) {
        if (r.mode <= largest) features.push_back(r.feature);
    }
    return features;
}

std::vector<Feature> parse_feature_list(std::string_view csv) {
    std::vector<Feature> features;
    std::size_t start = 0;
    while (start <= csv.size()) {
        const auto comma = std::min(csv.find(',', start), csv.size());
        const auto name = trim(csv.substr(start, comma - start));
        start = comma + 1;
        if (name.empty()) continue;
        const auto* match = std::ranges::find(rows, name, &FeatureRow::name);
        if (match == rows.end()) {
            throw util::UsageError("unknown feature '" + std::string(name) +
                                   "' (valid: " + valid_names() + ")");
        }
        if (std::ranges::find(features, match->feature) == features.end()) {
            features.push_back(match->feature);
        }
    }
    if (features.empty()) throw util::UsageError("empty feature list");
    return features;
}

}  // namespace lidarmill::features
