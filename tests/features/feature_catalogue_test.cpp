#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "features/feature.hpp"
#include "util/error.hpp"

namespace lidarmill::features {
namespace {

TEST(FeatureCatalogue, NamesAreUniqueAndDescriptionsFitExtraBytes) {
    std::set<std::string_view> names;
    ASSERT_EQ(all_features().size(), feature_count);
    for (std::size_t i = 0; i < feature_count; ++i) {
        const Feature f = all_features()[i];
        EXPECT_EQ(static_cast<std::size_t>(f), i);
        EXPECT_TRUE(names.insert(feature_name(f)).second) << feature_name(f);
        EXPECT_LE(feature_name(f).size(), 31u);
        EXPECT_FALSE(feature_description(f).empty());
        EXPECT_LE(feature_description(f).size(), 31u) << feature_description(f);
    }
    EXPECT_EQ(feature_name(Feature::height_above_ground), "height_above_ground");
    EXPECT_EQ(feature_name(Feature::roof_score), "roof_score");
}

TEST(FeatureCatalogue, ModesNest) {
    const auto core = features_for_mode("core");
    const auto building = features_for_mode("building");
    const auto full = features_for_mode("full");
    EXPECT_EQ(core.size(), 12u);
    EXPECT_EQ(building.size(), 15u);
    EXPECT_EQ(full.size(), feature_count);
    EXPECT_TRUE(std::equal(core.begin(), core.end(), building.begin()));
    EXPECT_TRUE(std::equal(building.begin(), building.end(), full.begin()));
    EXPECT_EQ(std::set<Feature>(full.begin(), full.end()).size(), feature_count);
    EXPECT_NE(std::ranges::find(core, Feature::height_above_ground), core.end());
    EXPECT_EQ(std::ranges::find(core, Feature::points_in_radius), core.end());
    EXPECT_NE(std::ranges::find(building, Feature::wall_score), building.end());
    EXPECT_THROW(features_for_mode("fast"), util::UsageError);
}

TEST(FeatureCatalogue, ParsesListsAndRejectsUnknownNames) {
    EXPECT_EQ(parse_feature_list("planarity, normal_z ,planarity,"),
              (std::vector<Feature>{Feature::planarity, Feature::normal_z}));
    EXPECT_THROW(parse_feature_list(""), util::UsageError);
    EXPECT_THROW(parse_feature_list(" , "), util::UsageError);
    try {
        parse_feature_list("planarity,flatness");
        FAIL() << "no exception";
    } catch (const util::UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("'flatness'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("roof_score"), std::string::npos) << e.what();
    }
}

TEST(FeatureCatalogue, ModesListTheirFeaturesInOutputOrder) {
    EXPECT_EQ(features_for_mode("core"),
              (std::vector<Feature>{Feature::normal_x, Feature::normal_y, Feature::normal_z,
                                    Feature::curvature, Feature::linearity, Feature::planarity,
                                    Feature::sphericity, Feature::anisotropy, Feature::roughness,
                                    Feature::density, Feature::verticality,
                                    Feature::height_above_ground}));
    const auto building = features_for_mode("building");
    EXPECT_EQ(std::vector<Feature>(building.begin() + 12, building.end()),
              (std::vector<Feature>{Feature::wall_score, Feature::roof_score,
                                    Feature::points_in_radius}));
    const auto full = features_for_mode("full");
    EXPECT_EQ(std::vector<Feature>(full.begin() + 15, full.end()),
              (std::vector<Feature>{Feature::omnivariance, Feature::eigenentropy,
                                    Feature::eigenvalue_1, Feature::eigenvalue_2,
                                    Feature::eigenvalue_3, Feature::eigenvalue_sum}));
}

TEST(FeatureCatalogue, RowsSayWhatEachFeatureNeeds) {
    for (const Feature f : all_features()) {
        const bool ground = f == Feature::height_above_ground || f == Feature::wall_score ||
                            f == Feature::roof_score;
        EXPECT_EQ(needs_ground(f), ground) << feature_name(f);
        EXPECT_EQ(needs_of(f).ground, ground) << feature_name(f);
        EXPECT_EQ(needs_of(f).eigen, is_eigen_based(f)) << feature_name(f);
        EXPECT_EQ(needs_of(f).density, f == Feature::density) << feature_name(f);
        EXPECT_EQ(needs_of(f).radius_count, f == Feature::points_in_radius) << feature_name(f);
    }
    EXPECT_FALSE(is_eigen_based(Feature::height_above_ground));
    EXPECT_TRUE(is_eigen_based(Feature::wall_score));
    EXPECT_FALSE(needs_ground(features_for_mode("core").front()));
    EXPECT_TRUE(needs_ground(features_for_mode("core")));
    const FeatureNeeds core = needs_of(features_for_mode("core"));
    EXPECT_TRUE(core.eigen && core.density && core.ground);
    EXPECT_FALSE(core.radius_count);
}

TEST(FeatureCatalogue, CompactRangesHoldTheValuesByConstruction) {
    EXPECT_EQ(compact_range(Feature::normal_z)->min, -1.0);
    EXPECT_EQ(compact_range(Feature::normal_z)->max, 1.0);
    EXPECT_EQ(compact_range(Feature::planarity)->min, 0.0);
    EXPECT_EQ(compact_range(Feature::planarity)->max, 1.0);
    EXPECT_EQ(compact_range(Feature::eigenentropy)->max, 1.2);
    EXPECT_TRUE(compact_range(Feature::roughness)->max_is_max_radius);
    EXPECT_FALSE(compact_range(Feature::density));
    EXPECT_FALSE(compact_range(Feature::height_above_ground));
    EXPECT_FALSE(compact_range(Feature::omnivariance));
    EXPECT_FALSE(compact_range(Feature::eigenvalue_1));
}

}  // namespace
}  // namespace lidarmill::features
