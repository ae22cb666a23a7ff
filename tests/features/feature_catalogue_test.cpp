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

}  // namespace
}  // namespace lidarmill::features
