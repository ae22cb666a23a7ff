// Ground-truth acceptance of `enrich` on a synthetic tile written by `lidarmill synth --truth`:
// walls are vertical, ground is at height 0, roofs are at the true building height.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/cli_support.hpp"
#include "las/point_format.hpp"
#include "io/open.hpp"
#include "util/bytes.hpp"

namespace lidarmill::batch {
namespace {

namespace fs = std::filesystem;
using lidarmill::testing::run_lidarmill;
using lidarmill::testing::shell_quote;

// The documented sidecar layout (synth/truth.hpp): "LMTRUTH1", u64 count, then per point
// a uint8 label (1 ground, 2 wall, 3 roof) and a float32 building height.
struct Truth {
    std::vector<std::uint8_t> label;
    std::vector<float> height;
};

Truth read_truth_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    Truth t;
    if (bytes.size() < 16 || std::string(bytes.begin(), bytes.begin() + 8) != "LMTRUTH1") return t;
    const auto count = util::load_le<std::uint64_t>(bytes.data() + 8);
    if (bytes.size() != 16 + 5 * count) return t;
    for (std::uint64_t i = 0; i < count; ++i) {
        t.label.push_back(bytes[16 + 5 * i]);
        t.height.push_back(util::load_le<float>(bytes.data() + 16 + 5 * i + 1));
    }
    return t;
}

TEST(SynthTruth, WallsVerticalGroundAtZeroRoofsAtBuildingHeight) {
    const fs::path work =
        fs::temp_directory_path() / ("lidarmill_truth_" + std::to_string(::getpid()));
    fs::remove_all(work);
    fs::create_directories(work / "in");
    const fs::path tile = work / "in" / "synth.laz";
    const auto synth = run_lidarmill("synth " + shell_quote(tile.string()) +
                                     " --points 400000 --truth --progress none");
    ASSERT_EQ(synth.exit_code, 0) << synth.err;
    fs::rename(work / "in" / "synth.laz.truth", work / "synth.laz.truth");
    const auto enrich =
        run_lidarmill("enrich --input " + shell_quote((work / "in").string()) + " --output " +
                      shell_quote((work / "out").string()) + " --mode building --progress none");
    ASSERT_EQ(enrich.exit_code, 0) << enrich.err;

    const Truth truth = read_truth_file(work / "synth.laz.truth");
    auto reader = io::open_reader(work / "out" / "synth.laz", {2});
    const auto& m = reader->metadata();
    ASSERT_EQ(truth.label.size(), reader->point_count());
    const auto* verticality = m.extra_bytes.find("verticality");
    const auto* hag = m.extra_bytes.find("height_above_ground");
    ASSERT_TRUE(verticality && hag);
    const std::size_t length = m.header.record_length;
    const std::size_t base = las::base_record_length(m.header.point_format);

    std::size_t walls = 0, vertical_walls = 0, ground = 0, flat_ground = 0, roofs = 0,
                roofs_at_height = 0;
    std::vector<std::uint8_t> batch(65536 * length);
    std::size_t index = 0;
    while (const std::size_t n = reader->read(batch)) {
        for (std::size_t i = 0; i < n; ++i, ++index) {
            const auto extra = std::span(batch.data() + i * length + base, length - base);
            const double v = m.extra_bytes.value(extra, *verticality);
            const double h = m.extra_bytes.value(extra, *hag);
            switch (truth.label[index]) {
                case 2:
                    ++walls;
                    vertical_walls += v > 0.9;
                    break;
                case 1:
                    ++ground;
                    flat_ground += std::abs(h) < 0.2;
                    break;
                case 3:
                    ++roofs;
                    roofs_at_height += std::abs(h - truth.height[index]) <= 0.3;
                    break;
                default:
                    break;
            }
        }
    }
    ASSERT_GT(walls, 100u);
    ASSERT_GT(ground, 1000u);
    ASSERT_GT(roofs, 1000u);
    EXPECT_GE(vertical_walls, walls * 0.90) << vertical_walls << " of " << walls << " wall points";
    EXPECT_GE(flat_ground, ground * 0.95) << flat_ground << " of " << ground << " ground points";
    EXPECT_GE(roofs_at_height, roofs * 0.95)
        << roofs_at_height << " of " << roofs << " roof points";
    fs::remove_all(work);
}

}  // namespace
}  // namespace lidarmill::batch
