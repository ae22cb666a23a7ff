#include "features/feature.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "util/error.hpp"

namespace lidarmill::features {
namespace {

struct FeatureInfo {
    Feature feature;
    std::string_view name;
    std::string_view description;
    bool eigen_based;
};

// Descriptions are limited to 31 characters by the LAS extra-bytes record.
constexpr std::array<FeatureInfo, feature_count> catalogue{{
    {Feature::normal_x, "normal_x", "Normal x (e3, upward)", true},
    {Feature::normal_y, "normal_y", "Normal y (e3, upward)", true},
    {Feature::normal_z, "normal_z", "Normal z (e3, upward)", true},
    {Feature::curvature, "curvature", "l3/(l1+l2+l3)", true},
    {Feature::linearity, "linearity", "(l1-l2)/l1", true},
    {Feature::planarity, "planarity", "(l2-l3)/l1", true},
    {Feature::sphericity, "sphericity", "l3/l1", true},
    {Feature::anisotropy, "anisotropy", "(l1-l3)/l1", true},
    {Feature::omnivariance, "omnivariance", "cbrt(l1*l2*l3)", true},
    {Feature::eigenentropy, "eigenentropy", "-sum(ei*ln(ei))", true},
    {Feature::eigenvalue_1, "eigenvalue_1", "Largest covariance eigenvalue", true},
    {Feature::eigenvalue_2, "eigenvalue_2", "Middle covariance eigenvalue", true},
    {Feature::eigenvalue_3, "eigenvalue_3", "Smallest covariance eigenvalue", true},
    {Feature::eigenvalue_sum, "eigenvalue_sum", "l1+l2+l3", true},
    {Feature::verticality, "verticality", "1-|normal_z|", true},
    {Feature::roughness, "roughness", "Distance to local plane (m)", true},
    {Feature::density, "density", "k-NN density (points/m3)", false},
    {Feature::points_in_radius, "points_in_radius", "Other points within radius", false},
    {Feature::height_above_ground, "height_above_ground", "Height above ground (m)", false},
    {Feature::wall_score, "wall_score", "Planar, vertical, above ground", true},
    {Feature::roof_score, "roof_score", "Planar, horizontal, elevated", true},
}};

const FeatureInfo& info(Feature feature) {
    return catalogue[static_cast<std::size_t>(feature)];
}

constexpr std::array core_set{
    Feature::normal_x,  Feature::normal_y,  Feature::normal_z,    Feature::curvature,
    Feature::linearity, Feature::planarity, Feature::sphericity,  Feature::anisotropy,
    Feature::roughness, Feature::density,   Feature::verticality, Feature::height_above_ground};
constexpr std::array building_extra{Feature::wall_score, Feature::roof_score,
                                    Feature::points_in_radius};
constexpr std::array full_extra{Feature::omnivariance, Feature::eigenentropy,
                                Feature::eigenvalue_1, Feature::eigenvalue_2,
                                Feature::eigenvalue_3, Feature::eigenvalue_sum};

std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

std::string valid_names() {
    std::string names;
    for (const auto& entry : catalogue) {
        if (!names.empty()) names += ", ";
        names += entry.name;
    }
    return names;
}

}  // namespace

std::span<const Feature> all_features() {
    static const auto features = [] {
        std::array<Feature, feature_count> list{};
        std::ranges::transform(catalogue, list.begin(), &FeatureInfo::feature);
        return list;
    }();
    return features;
}

std::string_view feature_name(Feature feature) {
    return info(feature).name;
}

std::string_view feature_description(Feature feature) {
    return info(feature).description;
}

bool is_eigen_based(Feature feature) {
    return info(feature).eigen_based;
}

std::vector<Feature> features_for_mode(std::string_view mode) {
    if (mode != "core" && mode != "building" && mode != "full") {
        throw util::UsageError("unknown feature mode '" + std::string(mode) +
                               "' (expected core, building or full)");
    }
    std::vector<Feature> features;
    features.reserve(feature_count);
    auto append = [&](std::span<const Feature> set) {
        for (const Feature f : set) features.push_back(f);
    };
    append(core_set);
    if (mode != "core") append(building_extra);
    if (mode == "full") append(full_extra);
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
        const auto* match = std::ranges::find(catalogue, name, &FeatureInfo::name);
        if (match == catalogue.end()) {
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
